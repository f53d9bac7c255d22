"""The ``stint`` command as a newcomer runs it: no settings, an empty directory."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

STINT = str(Path(sys.executable).parent / "stint")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env() -> dict[str, str]:
    """The environment without any STINT_ setting (the tests' own included)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STINT_")}
    env["STINT_FAST_PASSWORD_HASHING"] = "1"
    return env


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [STINT, *args], cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=120
    )


def test_serve_in_an_empty_directory_with_no_settings_starts_on_sqlite_and_answers(tmp_path: Path) -> None:
    """``stint serve`` creates stint.sqlite3 in the working directory and /health answers 200."""
    port = free_port()
    process = subprocess.Popen(
        [STINT, "serve", "--port", str(port)],
        cwd=tmp_path,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        body = None
        while time.monotonic() < deadline and body is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
                    body = json.loads(response.read())
            except OSError:
                if process.poll() is not None:
                    pytest.fail(f"stint serve exited: {process.stdout.read() if process.stdout else ''}")
                time.sleep(0.2)
        assert body is not None, "stint serve did not answer within 60 s"
        assert body["checks"]["database"]["engine"] == "sqlite"
        assert (tmp_path / "stint.sqlite3").is_file()
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_db_upgrade_twice_changes_nothing_the_second_time(tmp_path: Path) -> None:
    """The first run applies the migrations, the second says the schema is up to date."""
    first = run(["db", "upgrade"], tmp_path)
    assert first.returncode == 0, first.stderr
    assert "applied migrations: 0001" in first.stdout
    # The first-party tracker is registered once (issue #20), as its terminal client expects.
    assert "registered the first-party public client stint-tracker" in first.stdout
    second = run(["db", "upgrade"], tmp_path)
    assert second.returncode == 0, second.stderr
    assert "nothing changed" in second.stdout
    assert "stint-tracker" not in second.stdout


def test_demo_is_idempotent_and_prints_logins_that_work(tmp_path: Path) -> None:
    """Twice ``stint demo``: the same logins each time, and they sign in."""
    first = run(["demo"], tmp_path)
    second = run(["demo"], tmp_path)
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert first.stdout == second.stdout
    assert "tenant=demo-cloud" in first.stdout and "tenant=demo-onprem" in first.stdout
    assert "operator@demo.test" in first.stdout


def test_a_bad_setting_stops_with_a_message_naming_it(tmp_path: Path) -> None:
    """A mistyped database URL is reported by name, with exit code 2 and no traceback."""
    env = clean_env() | {"STINT_DATABASE_URL": "mysql://nope"}
    result = subprocess.run([STINT, "db", "upgrade"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 2
    assert "STINT_DATABASE_URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_operator_create_then_sign_in_on_the_operator_api(tmp_path: Path) -> None:
    """An operator made on the command line gets an operator token."""
    created = run(
        ["operator", "create", "--email", "Sam@Vendor.test", "--password", "long enough pw"], tmp_path
    )
    assert created.returncode == 0, created.stderr
    again = run(
        ["operator", "create", "--email", "sam@vendor.test", "--password", "long enough pw"], tmp_path
    )
    assert again.returncode == 1 and "already exists" in again.stderr


def _kids(listing: str) -> list[tuple[str, str]]:
    """(kid, current|previous) from ``stint keys list``."""
    return [tuple(line.split()) for line in listing.splitlines()[1:]]  # type: ignore[misc]


def test_keys_rotate_makes_a_new_current_key_keeps_the_old_one_and_list_never_shows_secrets(
    tmp_path: Path,
) -> None:
    first = run(["keys", "list"], tmp_path)
    assert first.returncode == 0, first.stderr
    ((original, state),) = _kids(first.stdout)
    assert state == "current"
    key_file = tmp_path / ".stint" / "secret-keys"
    assert key_file.stat().st_mode & 0o777 == 0o600

    rotated = run(["keys", "rotate"], tmp_path)
    assert rotated.returncode == 0, rotated.stderr
    listed = run(["keys", "list"], tmp_path).stdout
    (new, now_current), (old, now_previous) = _kids(listed)
    assert (old, now_current, now_previous) == (original, "current", "previous") and new != original
    for line in key_file.read_text().splitlines()[1:]:
        secret = line.split(":", 1)[1]
        assert secret not in listed and secret not in rotated.stdout


def test_keys_remove_reseals_first_and_refuses_the_current_key(tmp_path: Path) -> None:
    run(["keys", "list"], tmp_path)
    assert run(["keys", "rotate"], tmp_path).returncode == 0
    (current, _), (previous, _) = _kids(run(["keys", "list"], tmp_path).stdout)

    refused = run(["keys", "remove", current], tmp_path)
    assert refused.returncode == 2 and "current key" in refused.stderr
    unknown = run(["keys", "remove", "nobody"], tmp_path)
    assert unknown.returncode == 2 and "no key 'nobody'" in unknown.stderr

    removed = run(["keys", "remove", previous], tmp_path)
    assert removed.returncode == 0, removed.stderr
    assert "DevOps tokens sealed again" in removed.stdout and f"removed key {previous}" in removed.stdout
    assert _kids(run(["keys", "list"], tmp_path).stdout) == [(current, "current")]


def test_an_older_installations_single_key_is_moved_into_the_key_file_on_rotation(tmp_path: Path) -> None:
    (tmp_path / ".stint").mkdir()
    (tmp_path / ".stint" / "secret-key").write_text("g" * 64)
    assert _kids(run(["keys", "list"], tmp_path).stdout) == [("legacy", "current")]
    assert run(["keys", "rotate"], tmp_path).returncode == 0
    assert [kid for kid, _ in _kids(run(["keys", "list"], tmp_path).stdout)][1:] == ["legacy"]
    assert not (tmp_path / ".stint" / "secret-key").exists()
    assert f"legacy:{'g' * 64}" in (tmp_path / ".stint" / "secret-keys").read_text()


def test_keys_set_in_the_environment_are_not_rotated_behind_the_deployments_back(tmp_path: Path) -> None:
    """The command says how to rotate there, with a fresh key, and changes nothing."""
    secret = "s" * 40
    env = clean_env() | {"STINT_SECRET_KEYS": f"k1:{secret}"}
    result = subprocess.run([STINT, "keys", "rotate"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 2
    assert "STINT_SECRET_KEYS=" in result.stderr and ",k1:…" in result.stderr
    assert secret not in result.stderr + result.stdout
    assert not (tmp_path / ".stint" / "secret-keys").exists()
    listed = subprocess.run([STINT, "keys", "list"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert "from STINT_SECRET_KEYS" in listed.stdout and _kids(listed.stdout) == [("k1", "current")]
def test_operator_create_sets_up_a_second_factor_whose_code_the_code_command_prints(
    tmp_path: Path,
) -> None:
    """The secret is printed once with ten recovery codes; ``operator code`` shows the current code."""
    import time

    import pyotp

    create = ["operator", "create", "--email", "sam@vendor.test", "--password", "long enough pw"]
    created = run(create, tmp_path)
    assert created.returncode == 0, created.stderr
    secret = re.search(r"secret: ([A-Z2-7]+)", created.stdout)
    assert secret and "otpauth://totp/Stint:sam%40vendor.test" in created.stdout
    assert len(re.findall(r"^  [a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$", created.stdout, re.M)) == 10

    shown = run(["operator", "code", "--email", "sam@vendor.test"], tmp_path)
    now = time.time()
    totp = pyotp.TOTP(secret.group(1))
    assert shown.stdout.strip() in {totp.at(now - 30), totp.at(now)}, shown.stderr


def test_the_demo_prints_the_operators_second_factor_and_how_to_get_a_code(tmp_path: Path) -> None:
    printed = run(["demo"], tmp_path)
    assert "stint operator code --email operator@demo.test" in printed.stdout
    code = run(["operator", "code", "--email", "operator@demo.test"], tmp_path)
    assert code.returncode == 0 and re.fullmatch(r"\d{6}", code.stdout.strip()), code.stderr
