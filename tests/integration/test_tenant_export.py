"""A tenant's data out and back in: `stint tenant export` and `stint tenant import` (issue #22)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.clock import FixedClock
from tests.conftest import make_settings
from tests.integration.test_cli import STINT
from tests.support import databases
from tests.support.api import add_user, api_client, bearer, run, signup, token
from tests.support.api import stint as app_stint

SECRET = "export-test-secret-key-" + "z" * 32
MONDAY = "2026-01-05T09:00:00Z"


def _env(database_url: str, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STINT_")}
    env.update(STINT_DATABASE_URL=database_url, STINT_SECRET_KEY=SECRET,
               STINT_DATA_DIR=str(tmp_path / "data"), STINT_FAST_PASSWORD_HASHING="1")
    return env


def stint(database_url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([STINT, *args], env=_env(database_url, tmp_path), cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)


async def _tenant_id(app: Any, slug: str) -> str:
    async with app.uow() as work:
        tenant = await work.directory.tenant_by_slug(slug)
    return str(tenant.id)


def _fill(client: Any) -> dict[str, Any]:
    """Two tenants with users, worklogs and a bought subscription (invoices)."""
    found: dict[str, Any] = {}
    for slug, worklogs in (("acme", 7), ("globex", 3)):
        signup(client, slug)
        admin = token(client, slug, f"admin@{slug}.test")
        add_user(client, admin, f"ann@{slug}.test")
        for n in range(worklogs):
            made = client.post("/api/v1/worklogs", headers=bearer(admin), json={
                "started_at": MONDAY, "length_s": 600 * (n + 1), "comment": f"{slug} work {n}, \"quoted\"",
            })
            assert made.status_code == 201, made.text
        bought = client.post("/api/v1/subscription/purchase", headers=bearer(admin),
                             json={"plan": "team", "interval": "monthly", "seats": 3})
        assert bought.status_code == 200, bought.text
        found[slug] = {
            "worklogs": client.get("/api/v1/worklogs", headers=bearer(admin)).json()["items"],
            "invoices": client.get("/api/v1/invoices", headers=bearer(admin)).json(),
            "users": client.get("/api/v1/users", headers=bearer(admin)).json(),
            "subscription": client.get("/api/v1/subscription", headers=bearer(admin)).json(),
        }
    return found


def _views(client: Any) -> dict[str, Any]:
    admin = token(client, "acme", "admin@acme.test")
    return {
        "worklogs": client.get("/api/v1/worklogs", headers=bearer(admin)).json()["items"],
        "invoices": client.get("/api/v1/invoices", headers=bearer(admin)).json(),
        "users": client.get("/api/v1/users", headers=bearer(admin)).json(),
        "subscription": client.get("/api/v1/subscription", headers=bearer(admin)).json(),
    }


@pytest.fixture
def target(database_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty, migrated database of the same engine as the source."""
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'target.sqlite3'}"
        done = stint(url, tmp_path, "db", "upgrade")
        assert done.returncode == 0, done.stderr
        yield url
        return
    name, url = databases.create_empty()
    try:
        done = stint(url, tmp_path, "db", "upgrade")
        assert done.returncode == 0, done.stderr
        yield url
    finally:
        databases.drop(name)


def test_an_export_imported_into_an_empty_database_reproduces_the_tenant(
    database_url: str, target: str, tmp_path: Path, clock: FixedClock
) -> None:
    """Every count and total the API shows comes back; the other tenant stays behind."""
    settings = make_settings(database_url, tmp_path, STINT_SECRET_KEY=SECRET)
    with api_client(settings, clock) as client:
        before = _fill(client)
        globex_id = run(client, _tenant_id, app_stint(client), "globex")
    archive = tmp_path / "acme.zip"
    exported = stint(database_url, tmp_path, "tenant", "export", "acme", "--out", str(archive))
    assert exported.returncode == 0, exported.stderr
    assert "worklogs: 7" in exported.stdout

    with zipfile.ZipFile(archive) as opened:
        manifest = json.loads(opened.read("manifest.json"))
        assert manifest["tables"]["worklog"]["rows"] == 7 and manifest["worklogs_csv"]["rows"] == 7
        assert {"tenant", "tenant_user", "person", "subscription", "seat", "invoice", "audit_event"} <= set(
            manifest["tables"])
        everything = b"".join(opened.read(name) for name in opened.namelist())
        assert globex_id.encode() not in everything and b"globex" not in everything
        csv_lines = opened.read("worklogs.csv").decode().splitlines()
        assert len(csv_lines) == 8 and csv_lines[0].startswith("id,user_id,started_at,length_s")

    imported = stint(target, tmp_path, "tenant", "import", str(archive))
    assert imported.returncode == 0, imported.stderr
    with api_client(make_settings(target, tmp_path / "t", STINT_SECRET_KEY=SECRET), clock) as client:
        after = _views(client)
        # The password hashes came along: the admin signs in on the new installation.
        assert after == {key: before["acme"][key] for key in after}
        assert sum(w["length_s"] for w in after["worklogs"]) == sum(600 * (n + 1) for n in range(7))
        assert client.post("/api/v1/auth/token", json={
            "tenant": "globex", "email": "admin@globex.test", "password": "correct horse battery"
        }).status_code == 401

    again = stint(target, tmp_path, "tenant", "import", str(archive))
    assert again.returncode == 1 and "already has tenant 'acme'" in again.stderr


def test_an_archive_changed_after_export_is_refused_before_anything_is_written(
    tmp_path: Path, clock: FixedClock
) -> None:
    source = f"sqlite:///{tmp_path / 'source.sqlite3'}"
    with api_client(make_settings(source, tmp_path, STINT_SECRET_KEY=SECRET), clock) as client:
        signup(client, "acme")
    archive = tmp_path / "acme.zip"
    assert stint(source, tmp_path, "tenant", "export", "acme", "--out", str(archive)).returncode == 0
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(archive) as src, zipfile.ZipFile(tampered, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "tables/person.jsonl":
                changed = data.replace(b"admin@acme.test", b"evil@acme.test")
                assert changed != data
                data = changed
            dst.writestr(item, data)
    target = f"sqlite:///{tmp_path / 'target.sqlite3'}"
    assert stint(target, tmp_path, "db", "upgrade").returncode == 0
    refused = stint(target, tmp_path, "tenant", "import", str(tampered))
    assert refused.returncode == 1 and "checksum" in refused.stderr
    with sqlite3.connect(tmp_path / "target.sqlite3") as connection:
        assert connection.execute("SELECT count(*) FROM tenant").fetchone() == (0,)
    env = {**_env(target, tmp_path), "STINT_SECRET_KEY": "another-installations-key-" + "q" * 32}
    foreign = subprocess.run([STINT, "tenant", "import", str(archive)], env=env, cwd=tmp_path,
                             capture_output=True, text=True, timeout=120)
    assert foreign.returncode == 1 and "signature" in foreign.stderr
    assert stint(target, tmp_path, "tenant", "import", str(archive)).returncode == 0


def _archive(response: Any) -> zipfile.ZipFile:
    import io

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["content-disposition"].startswith('attachment; filename="stint-acme-')
    return zipfile.ZipFile(io.BytesIO(response.content))


def test_an_administrator_downloads_the_tenants_archive_and_the_download_is_audited(
    database_url: str, target: str, tmp_path: Path, clock: FixedClock
) -> None:
    """The API's archive is the CLI's: it imports into an empty installation; Product may not take it."""
    settings = make_settings(database_url, tmp_path, STINT_SECRET_KEY=SECRET)
    with api_client(settings, clock) as client:
        before = _fill(client)
        admin = token(client, "acme", "admin@acme.test")
        add_user(client, admin, "pat@acme.test", role="product")
        product = token(client, "acme", "pat@acme.test")
        refused = client.get("/api/v1/export", headers=bearer(product))
        assert refused.status_code == 403 and refused.json()["code"] == "not_permitted"
        with _archive(client.get("/api/v1/export", headers=bearer(admin))) as opened:
            manifest = json.loads(opened.read("manifest.json"))
            assert manifest["tenant"] == "acme" and manifest["tables"]["worklog"]["rows"] == 7
            assert b"globex" not in b"".join(opened.read(name) for name in opened.namelist())
            (tmp_path / "acme.zip").write_bytes(b"")
            with zipfile.ZipFile(tmp_path / "acme.zip", "w") as copy:
                for item in opened.infolist():
                    copy.writestr(item, opened.read(item.filename))
        audit = client.get("/api/v1/audit?action=tenant.exported", headers=bearer(admin)).json()["items"]
        assert [(row["action"], row["subject"], row["detail"]["worklogs"]) for row in audit] == [
            ("tenant.exported", "acme", 7)]
    imported = stint(target, tmp_path, "tenant", "import", str(tmp_path / "acme.zip"))
    assert imported.returncode == 0, imported.stderr
    with api_client(make_settings(target, tmp_path / "t", STINT_SECRET_KEY=SECRET), clock) as client:
        assert _views(client)["worklogs"] == before["acme"]["worklogs"]


def test_an_expired_tenants_collection_admin_can_still_take_the_data_out(
    tmp_path: Path, clock: FixedClock
) -> None:
    """402 for everything else; the archive is theirs through the retention period."""
    from tests.support.api import operator_token

    source = f"sqlite:///{tmp_path / 'source.sqlite3'}"
    with api_client(make_settings(source, tmp_path, STINT_SECRET_KEY=SECRET), clock) as client:
        signup(client, "acme")
        admin = token(client, "acme", "admin@acme.test")
        ended = client.post("/api/v1/operator/tenants/acme/trial", json={"ends_on": "2026-01-01"},
                            headers=bearer(operator_token(client)))
        assert ended.status_code == 200, ended.text
        assert client.get("/api/v1/worklogs", headers=bearer(admin)).status_code == 402
        with _archive(client.get("/api/v1/export", headers=bearer(admin))) as opened:
            assert json.loads(opened.read("manifest.json"))["tenant"] == "acme"


def test_a_tenant_of_a_shared_enterprise_exports_only_its_own_seat_holders(
    tmp_path: Path, clock: FixedClock
) -> None:
    """Ultimate's one seat pool covers every tenant of the enterprise; the archive of one tenant
    names the people of that tenant only."""
    from core.services.signup import signup as signup_service
    from tests.support.api import PASSWORD

    source = f"sqlite:///{tmp_path / 'source.sqlite3'}"
    with api_client(make_settings(source, tmp_path, STINT_SECRET_KEY=SECRET), clock) as client:
        signup(client, "acme")
        admin = token(client, "acme", "admin@acme.test")
        s = app_stint(client)
        enterprise_id = run(client, _enterprise_of, s, "acme")
        run(client, signup_service, s.uow, s.hasher, s.clock, slug="acme-labs", name="Acme Labs",
            deployment="cloud", admin_email="boss@labs.test", admin_password=PASSWORD, admin_name="Boss",
            trial_days=28, enterprise_id=enterprise_id)
        bought = client.post("/api/v1/subscription/purchase", headers=bearer(admin),
                             json={"plan": "ultimate", "interval": "monthly", "seats": 20})
        assert bought.status_code == 200, bought.text
        labs = token(client, "acme-labs", "boss@labs.test")
        # Each admin takes a seat of the shared pool on first use.
        for access in (admin, labs):
            assert client.get("/api/v1/me", headers=bearer(access)).json()["licensed"] is True
        with _archive(client.get("/api/v1/export", headers=bearer(admin))) as opened:
            manifest = json.loads(opened.read("manifest.json"))
            people = [json.loads(line) for line in opened.read("tables/person.jsonl").splitlines()]
            everything = b"".join(opened.read(name) for name in opened.namelist())
        assert manifest["tables"]["seat"]["rows"] == 1
        assert [p["email"] for p in people] == ["admin@acme.test"]
        assert b"boss@labs.test" not in everything


async def _enterprise_of(s: Any, slug: str) -> str:
    async with s.uow() as work:
        tenant = await work.directory.tenant_by_slug(slug)
    return str(tenant.enterprise_id)
