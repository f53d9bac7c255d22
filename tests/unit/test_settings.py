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
