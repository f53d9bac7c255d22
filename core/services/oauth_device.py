"""The OAuth device authorization grant (RFC 8628, issue #20): a new device code with the
user code a person types on ``/device``, the signed-in person's answer, and the device's
polls of the token endpoint."""

from __future__ import annotations

import secrets
from enum import StrEnum

from core.clock import Clock
from core.errors import NotFound
from core.identity.oauth import (
    DEVICE_LIFETIME,
    DeviceCode,
    OAuthClient,
    new_user_code,
    normal_user_code,
    polled_too_soon,
)
from core.identity.scopes import Scope, scope_text
from core.unit_of_work import UnitOfWorkFactory

from .tokens import hash_token

__all__ = [
    "UNKNOWN_DEVICE_CODE",
    "DevicePoll",
    "decide_device",
    "pending_device",
    "poll_device",
    "start_device",
]

_CODE_BYTES = 32
UNKNOWN_DEVICE_CODE = "That code is unknown, expired or already used. Start again on the device."


class DevicePoll(StrEnum):
    PENDING = "authorization_pending"
    SLOW_DOWN = "slow_down"
    EXPIRED = "expired_token"
    DENIED = "access_denied"
    APPROVED = "approved"
    UNKNOWN = "invalid_grant"


async def start_device(
    uow: UnitOfWorkFactory, clock: Clock, *, client: OAuthClient, scopes: frozenset[Scope]
) -> tuple[str, str]:
    """A new device code and the user code a person types on ``/device``."""
    device_code = secrets.token_urlsafe(_CODE_BYTES)
    now = clock.now()
    async with uow(write=True) as work:
        store = work.oauth()
        user_code = new_user_code()
        while await store.device_by_user_code(user_code) is not None:
            user_code = new_user_code()
        await store.add_device(DeviceCode(
            device_code_hash=hash_token(device_code), user_code=user_code, client_id=client.id, scopes=scopes,
            expires_at=now + DEVICE_LIFETIME,
        ))
        await work.commit()
    return device_code, user_code


async def pending_device(uow: UnitOfWorkFactory, clock: Clock, typed: str) -> tuple[DeviceCode, OAuthClient]:
    """The live, unanswered code a person typed, and its app; NotFound otherwise."""
    async with uow() as work:
        found = await work.oauth().device_by_user_code(normal_user_code(typed))
        client = await work.oauth().client(found.client_id) if found else None
    if found is None or client is None or found.approved is not None or found.expires_at <= clock.now():
        raise NotFound(UNKNOWN_DEVICE_CODE)
    return found, client


async def decide_device(
    uow: UnitOfWorkFactory, clock: Clock, *, typed: str, tenant_id: str, user_id: str, approve: bool,
    address: str | None = None,
) -> OAuthClient:
    """A signed-in user's answer for the device showing ``typed``."""
    found, client = await pending_device(uow, clock, typed)
    if approve and not client.serves(tenant_id):
        raise NotFound(UNKNOWN_DEVICE_CODE)
    now = clock.now()
    async with uow(write=True) as work:
        if not await work.oauth().decide_device(found.user_code, tenant_id, user_id, approve, now):
            raise NotFound(UNKNOWN_DEVICE_CODE)
        await work.tenant(tenant_id).audit().record(
            f"user:{user_id}", "app.device_approved" if approve else "app.device_denied", client.id,
            {"scopes": scope_text(found.scopes) or ""}, now, address=address,
        )
        await work.commit()
    return client


async def poll_device(
    uow: UnitOfWorkFactory, clock: Clock, device_code: str, client_id: str
) -> tuple[DevicePoll, DeviceCode | None]:
    """One poll of the token endpoint: where the device's authorisation stands. An approved
    code is used up by the poll that learns it (APPROVED comes once)."""
    if not device_code or len(device_code) > 200:
        return DevicePoll.UNKNOWN, None
    now = clock.now()
    async with uow(write=True) as work:
        store = work.oauth()
        found = await store.device(hash_token(device_code))
        if found is None or found.client_id != client_id or found.used_at is not None:
            return DevicePoll.UNKNOWN, None
        if found.expires_at <= now:
            return DevicePoll.EXPIRED, found
        if found.approved is False:
            return DevicePoll.DENIED, found
        if found.approved:
            taken = await store.take_device(found.device_code_hash, now)
            await work.commit()
            return (DevicePoll.APPROVED, found) if taken else (DevicePoll.UNKNOWN, None)
        too_soon = polled_too_soon(found.last_polled_at, now)
        await store.polled(found.device_code_hash, now)
        await work.commit()
    return (DevicePoll.SLOW_DOWN if too_soon else DevicePoll.PENDING), found
