"""A tenant API client for tests: signup, sign-in and authenticated calls."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from litestar.testing import TestClient

from core.clock import Clock
from server.app import create_app

PASSWORD = "correct horse battery"


@contextmanager
def api_client(settings: Any, clock: Clock) -> Iterator[TestClient[Any]]:
    app = create_app(settings, clock=clock, migrate=True)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def signup(
    client: TestClient[Any], slug: str, *, deployment: str = "cloud", email: str | None = None
) -> dict[str, Any]:
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


def run(client: TestClient[Any], fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run ``await fn(*args, **kwargs)`` on the app's own event loop (where its pool lives)."""

    async def call() -> Any:
        return await fn(*args, **kwargs)

    return client.blocking_portal.call(call)


def stint(client: TestClient[Any]) -> Any:
    """The app's adapters (unit of work, clock, billing …)."""
    return client.app.state.stint


def enrolled_operator(client: TestClient[Any], email: str = "ops@vendor.test") -> tuple[str, list[str]]:
    """A new operator with a second factor, as ``stint operator create`` makes one.

    Returns the secret and the recovery codes."""
    from core.services.identity import create_operator
    from core.services.second_factor import enrol_operator_now

    s = stint(client)
    operator = run(client, create_operator, s.uow, s.hasher, s.clock, email=email, password=PASSWORD)
    enrolment, recovery = run(client, enrol_operator_now, s.uow, s.codes, s.clock, operator=operator)
    return enrolment.secret, recovery


def current_code(client: TestClient[Any], secret: str) -> str:
    """The authenticator app's code for ``secret`` now, by the app's (test) clock."""
    import pyotp

    return str(pyotp.TOTP(secret).at(stint(client).clock.now()))


def enrol_user(client: TestClient[Any], access_token: str) -> tuple[str, list[str]]:
    """Set up the signed-in user's second factor through the API: the secret and recovery codes."""
    started = client.post("/api/v1/me/second-factor", headers=bearer(access_token))
    assert started.status_code == 201, started.text
    secret = str(started.json()["secret"])
    confirmed = client.post(
        "/api/v1/me/second-factor/confirm", json={"code": current_code(client, secret)},
        headers=bearer(access_token),
    )
    assert confirmed.status_code == 200, confirmed.text
    return secret, list(confirmed.json()["recovery_codes"])


def operator_token(client: TestClient[Any], email: str = "ops@vendor.test") -> str:
    """A new operator, with a second factor, signed in with its code."""
    secret, _ = enrolled_operator(client, email)
    body = {"email": email, "password": PASSWORD, "code": current_code(client, secret)}
    response = client.post("/api/v1/operator/auth/token", json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def add_user(
    client: TestClient[Any],
    admin_token: str,
    email: str,
    *,
    role: str | None = "team",
    password: str = PASSWORD,
) -> dict[str, Any]:
    body: dict[str, Any] = {"email": email, "name": email.split("@")[0], "password": password}
    if role is not None:
        body["role"] = role
    response = client.post("/api/v1/users", json=body, headers=bearer(admin_token))
    assert response.status_code == 201, response.text
    return dict(response.json())


def page_sign_in(client: TestClient[Any], slug: str, email: str, password: str = PASSWORD) -> None:
    """Sign in to the pages through the sign-in form (a fresh session: cookies cleared first)."""
    client.cookies.clear()
    client.get("/")
    response = client.post("/signin", data={
        "tenant": slug, "email": email, "password": password, "next": "",
        "_csrf_token": client.cookies["csrftoken"],
    }, follow_redirects=False)
    assert response.status_code == 303, response.text
