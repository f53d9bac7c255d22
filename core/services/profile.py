"""A user's own profile (issue #21): their name, how they read Stint (language, time zone,
durations, first day of the week) and their password.

The time zone is the one the timer and timesheets already use (the tracking preference:
None means the tenant's); the rest lives on the user (m0033). Changing the password asks
for the current one, so a borrowed signed-in browser cannot take the account over.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.clock import Clock
from core.errors import ValidationFailed
from core.identity.ports import PasswordHasher
from core.tenancy import Tenant, User
from core.texts import LOCALES
from core.tracking.ports import TrackingPreference
from core.unit_of_work import UnitOfWorkFactory

from .identity import check_password

__all__ = [
    "TIME_FORMATS", "WEEKDAYS", "Profile", "ProfileChange", "change_password", "get_profile",
    "update_profile",
]

TIME_FORMATS: tuple[str, ...] = ("hm", "decimal")
WEEKDAYS: tuple[str, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True, slots=True)
class Profile:
    email: str
    name: str
    locale: str
    #: The user's own zone; None: they follow the tenant's (``tenant_time_zone``).
    time_zone: str | None
    tenant_time_zone: str
    time_format: str
    week_starts_on: str


@dataclass(frozen=True, slots=True)
class ProfileChange:
    """What a PUT names; None leaves a field as it is (``time_zone=""``: back to the tenant's)."""

    name: str | None = None
    locale: str | None = None
    time_zone: str | None = None
    time_format: str | None = None
    week_starts_on: str | None = None


def _check(change: ProfileChange) -> None:
    if change.name is not None and not 0 < len(change.name.strip()) <= 200:
        raise ValidationFailed("a name has 1 to 200 characters", field="name")
    if change.locale is not None and change.locale not in LOCALES:
        raise ValidationFailed(f"unknown locale {change.locale!r}; use one of {', '.join(LOCALES)}",
                               field="locale")
    if change.time_format is not None and change.time_format not in TIME_FORMATS:
        raise ValidationFailed("time_format is hm (1:30) or decimal (1.50)", field="time_format")
    if change.week_starts_on is not None and change.week_starts_on not in WEEKDAYS:
        raise ValidationFailed("week_starts_on is a weekday's English name, such as monday",
                               field="week_starts_on")
    if change.time_zone:
        try:
            ZoneInfo(change.time_zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValidationFailed(f"unknown time zone {change.time_zone!r}", field="time_zone") from exc


async def get_profile(uow: UnitOfWorkFactory, *, tenant: Tenant, user: User) -> Profile:
    async with uow() as work:
        scope = work.tenant(tenant.id)
        fresh = await scope.users().get(user.id) or user
        preference = await scope.tracking().preference(user.id)
    return Profile(
        email=fresh.email, name=fresh.name, locale=fresh.locale, time_zone=preference.time_zone,
        tenant_time_zone=tenant.time_zone, time_format=fresh.time_format,
        week_starts_on=fresh.week_starts_on,
    )


async def update_profile(
    uow: UnitOfWorkFactory, clock: Clock, *, tenant: Tenant, user: User, change: ProfileChange
) -> Profile:
    """Validate all of ``change`` first (nothing is stored when any field is bad), then save."""
    _check(change)
    async with uow(write=True) as work:
        scope = work.tenant(tenant.id)
        fresh = await scope.users().get(user.id) or user
        updated = replace(
            fresh,
            name=change.name.strip() if change.name is not None else fresh.name,
            locale=change.locale or fresh.locale,
            time_format=change.time_format or fresh.time_format,
            week_starts_on=change.week_starts_on or fresh.week_starts_on,
        )
        await scope.users().save_profile(updated)
        if change.time_zone is not None:
            tracking = scope.tracking()
            before = await tracking.preference(user.id)
            zone = change.time_zone or None
            await tracking.save_preference(
                user.id, TrackingPreference(zone, before.mail_on_system_stop), clock.now()
            )
        await work.commit()
    return await get_profile(uow, tenant=tenant, user=user)


async def change_password(
    uow: UnitOfWorkFactory, hasher: PasswordHasher, *, tenant: Tenant, user: User, current: str, new: str
) -> None:
    """Replace the user's password when ``current`` is right (else a 422 on ``current_password``)."""
    check_password(new, field="new_password")
    async with uow(write=True) as work:
        users = work.tenant(tenant.id).users()
        stored = await users.password_hash(user.id)
        if stored is None or not hasher.verify(stored, current):
            # 422, not 401: the caller is signed in; only the field they typed is wrong.
            raise ValidationFailed("the current password is not right", field="current_password")
        await users.set_password_hash(user.id, hasher.hash(new))
        await work.commit()
