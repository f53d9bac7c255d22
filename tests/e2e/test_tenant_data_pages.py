"""The "Your data" page (issue #22): who sees it, what it says, and the archive it hands out."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from core.clock import FixedClock
from tests.conftest import make_settings
from tests.support.api import PASSWORD, add_user, api_client, bearer, operator_token, signup, token


@pytest.fixture
def client(sqlite_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[TestClient[Any]]:
    with api_client(make_settings(sqlite_url, tmp_path), clock) as test_client:
        signup(test_client, "pages")
        add_user(test_client, token(test_client, "pages", "admin@pages.test"), "tim@pages.test")
        yield test_client


def test_an_administrator_downloads_every_record_from_the_your_data_page(client: TestClient[Any]) -> None:
    admin = bearer(token(client, "pages", "admin@pages.test"))
    page = client.get("/settings/data", headers=admin)
    assert page.status_code == 200
    assert 'href="/settings/data/archive"' in page.text and 'aria-current="page">Your data' in page.text
    download = client.get("/settings/data/archive", headers=admin)
    assert download.status_code == 200 and download.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(download.content)) as opened:
        manifest = json.loads(opened.read("manifest.json"))
    assert manifest["tenant"] == "pages" and manifest["tables"]["tenant_user"]["rows"] == 2
    audit = client.get("/api/v1/audit?action=tenant.exported", headers=admin).json()["items"]
    assert len(audit) == 1


def test_a_team_user_has_no_your_data_page_and_no_link_to_it(client: TestClient[Any]) -> None:
    team = bearer(token(client, "pages", "tim@pages.test"))
    assert client.get("/settings/data", headers=team).status_code == 403
    assert client.get("/settings/data/archive", headers=team).status_code == 403
    assert 'href="/settings/data"' not in client.get("/time", headers=team).text


def test_after_expiry_the_page_says_until_when_the_data_is_kept(client: TestClient[Any]) -> None:
    """The trial ended on 2026-01-01; the data is kept 365 days after expiry."""
    ended = client.post("/api/v1/operator/tenants/pages/trial", json={"ends_on": "2026-01-01"},
                        headers=bearer(operator_token(client)))
    assert ended.status_code == 200, ended.text
    admin = bearer(token(client, "pages", "admin@pages.test"))
    page = client.get("/settings/data", headers=admin)
    assert page.status_code == 200
    assert "The data is kept until\n  <strong>2027-01-01</strong>" in page.text


def test_the_operator_console_exports_a_tenant_and_refuses_an_early_purge_with_a_message(
    client: TestClient[Any],
) -> None:
    """The purge form shows for an expired cloud tenant; a purge within the retention period is
    a message on the page, and nothing is deleted."""
    from tests.e2e.test_security_pages import _console_sign_in, _csrf

    ended = client.post("/api/v1/operator/tenants/pages/trial", json={"ends_on": "2026-01-01"},
                        headers=bearer(operator_token(client, "first@vendor.test")))
    assert ended.status_code == 200, ended.text
    assert _console_sign_in(client).status_code == 303
    page = client.get("/admin/tenants/pages")
    assert 'href="/admin/tenants/pages/export"' in page.text and 'name="confirm"' in page.text
    download = client.get("/admin/tenants/pages/export")
    assert download.status_code == 200 and download.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(download.content)) as opened:
        assert json.loads(opened.read("manifest.json"))["tenant"] == "pages"
    early = client.post("/admin/tenants/pages/purge", data={"confirm": "pages", "_csrf_token": _csrf(client)})
    assert early.status_code == 409 and "kept until 2027-01-01" in early.text
    assert client.post("/api/v1/auth/token", json={
        "tenant": "pages", "email": "admin@pages.test", "password": PASSWORD}).status_code == 200
