"""Settings are read once and a bad value is named with the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from plugins.settings import SettingsError, load_settings


def load(tmp_path: Path, **env: str):  # type: ignore[no-untyped-def]
    return load_settings({"STINT_DATA_DIR": str(tmp_path), **env}, dotenv=tmp_path / "none.env")


def test_with_no_settings_stint_uses_an_embedded_sqlite_file(tmp_path: Path) -> None:
    """No environment at all: SQLite in the working directory, no Redis, manual invoicing."""
    settings = load(tmp_path)
    assert settings.database_url == "sqlite:///stint.sqlite3"
    assert settings.redis_url is None and settings.stripe_api_key is None
    assert len(settings.secret_key) >= 32


def test_the_generated_secret_key_survives_a_restart(tmp_path: Path) -> None:
    """Tokens stay valid across restarts on one machine without any setting."""
    assert load(tmp_path).secret_key == load(tmp_path).secret_key


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("STINT_DATABASE_URL", "mysql://db/stint"),
        ("STINT_DATABASE_URL", "sqlite:///"),
        ("STINT_REDIS_URL", "http://localhost"),
        ("STINT_SECRET_KEY", "short"),
        ("STINT_BASE_URL", "ftp://x"),
        ("STINT_TRIAL_DAYS", "twenty"),
        ("STINT_GRACE_DAYS", "-1"),
        ("STINT_SMTP_URL", "mail.example.com"),
        ("STINT_REDIS_READ_CLIENT", "hiredis"),
    ],
)
def test_a_bad_value_is_refused_with_its_name(tmp_path: Path, name: str, value: str) -> None:
    """Each bad value stops start-up with a message that names the setting."""
    with pytest.raises(SettingsError, match=name):
        load(tmp_path, **{name: value})


def test_a_dotenv_file_is_read_but_the_environment_wins(tmp_path: Path) -> None:
    """.env fills in what the environment does not set."""
    dotenv = tmp_path / ".env"
    dotenv.write_text("STINT_TRIAL_DAYS=14\nSTINT_GRACE_DAYS=3\n# a comment\n")
    settings = load_settings({"STINT_DATA_DIR": str(tmp_path), "STINT_GRACE_DAYS": "7"}, dotenv=dotenv)
    assert settings.trial_days == 14 and settings.grace_days == 7


def test_the_secret_keys_are_listed_current_first(tmp_path: Path) -> None:
    new, old = "n" * 40, "o" * 40
    settings = load(tmp_path, STINT_SECRET_KEYS=f"2026-07:{new},2026-01:{old}")
    assert settings.secret_keys == (("2026-07", new), ("2026-01", old))
    assert settings.secret_key == new and settings.secret_keys_file is None
    assert settings.secret_keys_source == "STINT_SECRET_KEYS"


def test_secret_keys_in_a_dotenv_file_are_named_as_their_setting(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(f"STINT_SECRET_KEYS=k1:{'n' * 40}\n")
    settings = load_settings({"STINT_DATA_DIR": str(tmp_path)}, dotenv=dotenv)
    assert settings.secret_keys == (("k1", "n" * 40),) and settings.secret_keys_source == "STINT_SECRET_KEYS"


def test_a_single_secret_key_is_the_key_named_legacy(tmp_path: Path) -> None:
    """STINT_SECRET_KEY works as before: the one current key."""
    settings = load(tmp_path, STINT_SECRET_KEY="s" * 40)
    assert settings.secret_keys == (("legacy", "s" * 40),) and settings.secret_key == "s" * 40


def test_both_key_settings_at_once_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="not both"):
        load(tmp_path, STINT_SECRET_KEY="s" * 40, STINT_SECRET_KEYS=f"k1:{'n' * 40}")


def test_a_bad_key_list_is_refused_naming_the_setting_and_not_the_secret(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="STINT_SECRET_KEYS") as refused:
        load(tmp_path, STINT_SECRET_KEYS="k1:tooshortsecret")
    assert "tooshortsecret" not in str(refused.value)


def test_without_settings_a_named_key_is_generated_into_a_private_key_file(tmp_path: Path) -> None:
    settings = load(tmp_path)
    path = tmp_path / "secret-keys"
    assert settings.secret_keys_file == path and path.stat().st_mode & 0o777 == 0o600
    (kid, secret), = settings.secret_keys
    assert kid != "legacy" and f"{kid}:{secret}" in path.read_text()


def test_an_older_installations_generated_key_is_kept_as_the_legacy_key(tmp_path: Path) -> None:
    """Tokens issued before the upgrade stay valid: the old file's key is still the key."""
    (tmp_path / "secret-key").write_text("g" * 64)
    settings = load(tmp_path)
    assert settings.secret_keys == (("legacy", "g" * 64),)
    assert settings.secret_keys_source == str(tmp_path / "secret-key")
    # Rotating will write the key file beside it.
    assert settings.secret_keys_file == tmp_path / "secret-keys"
