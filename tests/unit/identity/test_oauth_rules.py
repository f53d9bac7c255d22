"""The OAuth rules (core/identity/oauth.py) and use cases (core/services/oauth.py,
oauth_device.py) on fakes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.clock import FixedClock
from core.errors import NotFound, ValidationFailed
from core.identity.oauth import ClientKind, OAuthClient, check_redirect_uris, granted_scopes, normal_user_code
from core.identity.scopes import Scope
from core.services import oauth as apps
from core.services.oauth_device import DevicePoll, decide_device, poll_device, start_device
from tests.fakes.unit_of_work import FakeUnitOfWorkFactory

CODE = "c" * 48


def _clock() -> FixedClock:
    return FixedClock(datetime(2026, 1, 1, 9, 0, tzinfo=UTC))


async def _app(uow: FakeUnitOfWorkFactory, clock: FixedClock, tenant: str | None = "t1") -> OAuthClient:
    client, _ = await apps.register_client(
        uow, clock, tenant_id=tenant, registered_by="user:u1", name="Buddy", kind=ClientKind.PUBLIC,
        redirect_uris=["https://a.example/cb"], scopes=frozenset({Scope.TRACKING, Scope.WORKLOGS_READ}),
    )
    return client


def test_redirect_uris_are_https_or_loopback_without_a_fragment() -> None:
    assert check_redirect_uris(["http://127.0.0.1:8765/cb", "https://a.example/cb"], ClientKind.PUBLIC)
    for bad in ["http://a.example/cb", "https://a.example/cb#x", "/relative", "javascript:alert(1)"]:
        with pytest.raises(ValidationFailed):
            check_redirect_uris([bad], ClientKind.PUBLIC)


async def test_an_app_gets_at_most_the_scopes_it_is_registered_for() -> None:
    uow, clock = FakeUnitOfWorkFactory(), _clock()
    client = await _app(uow, clock)
    assert granted_scopes(None, client) == {Scope.TRACKING, Scope.WORKLOGS_READ}
    assert granted_scopes("tracking", client) == {Scope.TRACKING}
    for wider in ("admin", "tracking admin", "nonsense"):
        with pytest.raises(ValidationFailed):
            granted_scopes(wider, client)
    assert not client.redirect_matches("https://a.example/cb/") and client.redirect_matches("https://a.example/cb")


async def test_a_code_is_good_once_for_sixty_seconds_and_for_its_own_app_only() -> None:
    uow, clock = FakeUnitOfWorkFactory(), _clock()
    client = await _app(uow, clock)

    async def issue(code: str) -> None:
        await apps.issue_code(uow, clock, code=code, client=client, tenant_id="t1", user_id="u1",
                              redirect_uri="https://a.example/cb", code_challenge="x" * 43,
                              scopes=frozenset({Scope.TRACKING}))

    await issue(CODE)
    assert await apps.redeem_code(uow, clock, CODE, "someone-else") is None  # and now it is spent
    assert await apps.redeem_code(uow, clock, CODE, client.id) is None

    await issue("d" * 48)
    found = await apps.redeem_code(uow, clock, "d" * 48, client.id)
    assert found is not None and found.scopes == {Scope.TRACKING}
    assert await apps.redeem_code(uow, clock, "d" * 48, client.id) is None

    await issue("e" * 48)
    clock.advance(seconds=60)
    assert await apps.redeem_code(uow, clock, "e" * 48, client.id) is None


async def test_a_device_waits_for_its_user_and_is_told_to_slow_down() -> None:
    uow, clock = FakeUnitOfWorkFactory(), _clock()
    client = await _app(uow, clock, tenant=None)
    device_code, user_code = await start_device(uow, clock, client=client,
                                                scopes=frozenset({Scope.TRACKING}))
    assert (await poll_device(uow, clock, device_code, client.id))[0] is DevicePoll.PENDING
    assert (await poll_device(uow, clock, device_code, client.id))[0] is DevicePoll.SLOW_DOWN
    with pytest.raises(NotFound):
        await decide_device(uow, clock, typed="ZZZZ-ZZZZ", tenant_id="t1", user_id="u1", approve=True)
    await decide_device(uow, clock, typed=user_code.lower().replace("-", " "), tenant_id="t1",
                        user_id="u1", approve=True)
    clock.advance(seconds=5)
    outcome, found = await poll_device(uow, clock, device_code, client.id)
    assert outcome is DevicePoll.APPROVED and found is not None and found.user_id == "u1"
    assert (await poll_device(uow, clock, device_code, client.id))[0] is DevicePoll.UNKNOWN


def test_a_typed_user_code_is_read_whatever_its_case_and_dashes() -> None:
    assert normal_user_code(" bcdf ghjk ") == "BCDF-GHJK" == normal_user_code("BCDF-GHJK")
