"""A tenant API client for tests: signup, sign-in and authenticated calls."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from litestar.testing import TestClient

from core.clock import Clock
from web.app import create_app

PASSWORD = "correct horse battery"


@contextmanager
def api_client(settings: Any, clock: Clock) -> Iterator[TestClient[Any]]:
    app = create_app(settings, clock=clock, migrate=True)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def signup(client: TestClient[Any], slug: str, *, deployment: str = "cloud",
           email: str | None = None) -> dict[str, Any]:
    response = client.post(
        "/api/v1/signup",
        json={
            "tenant": slug,
            "name": slug.title(),
            "deployment": deployment,
            "admin": {"email": email or f"admin@{slug}.test", "password": PASSWORD, "name": "Admin"},
        },
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def token(client: TestClient[Any], slug: str, email: str, password: str = PASSWORD) -> str:
    response = client.post("/api/v1/auth/token", json={"tenant": slug, "email": email, "password": password})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


