"""Tenancy and identity (SPEC §1): enterprises, tenants, persons, users, operators.

A *person* is one human across all tenants of an enterprise; a *user* is that
person's membership in one tenant, with a role there. Operators (vendor staff)
are a separate realm and never tenant users.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from .errors import ValidationFailed
from .licensing.deployment import Deployment
from .licensing.seats import AutoLicensing as LicensingMode

__all__ = [
    "Deployment",
    "Enterprise",
    "LicensingMode",
    "Operator",
    "Person",
    "Tenant",
    "User",
    "normalise_email",
    "validate_slug",
]

_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,62}[a-z0-9])?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalise_email(email: str, *, field: str = "email") -> str:
    """One identity per address: trimmed and lower-cased, so Ann@X.com is ann@x.com."""
    value = email.strip().lower()
    if len(value) > 320 or not _EMAIL.match(value):
        raise ValidationFailed(f"{email!r} is not an e-mail address", field=field)
    return value


def validate_slug(slug: str, *, field: str = "tenant") -> str:
    """Tenant slugs appear in URLs and logins: 3–64 lower-case letters, digits and dashes."""
    if not _SLUG.match(slug) or len(slug) < 3:
        raise ValidationFailed(
            "a tenant name must be 3–64 lower-case letters, digits or dashes, "
            "starting and ending with a letter or digit",
            field=field,
        )
    return slug


@dataclass(frozen=True, slots=True)
class Enterprise:
    id: str
    name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Tenant:
    """One installation: a cloud organisation or an on-premises server (collection)."""

    id: str
    slug: str
    name: str
    deployment: Deployment
    enterprise_id: str
    subscription_id: str
    time_zone: str
    default_role: str
    licensing_mode: LicensingMode
    uninstalled_at: datetime | None
    created_at: datetime
    #: Administrators' setting: every user must set up a second factor before anything else.
    require_second_factor: bool = False

    @property
    def uninstalled(self) -> bool:
        return self.uninstalled_at is not None


@dataclass(frozen=True, slots=True)
class Person:
    id: str
    email: str
    name: str


@dataclass(frozen=True, slots=True)
class User:
    """A person's membership in one tenant. ``role`` None means "the tenant's default role"."""

    id: str
    tenant_id: str
    person_id: str
    email: str
    name: str
    role: str | None
    collection_admin: bool
    approval_manager: bool
    last_used_at: datetime | None
    #: Whether the user has a confirmed second factor (TOTP); sign-in then asks for a code.
    second_factor: bool = False
    #: False once an Administrator deactivated them: no sign-in, every token refused.
    active: bool = True
    #: How they read Stint (their profile, m0033): language, durations as "hm" (1:30) or
    #: "decimal" (1.50), and the weekday a drawn week starts on.
    locale: str = "en"
    time_format: str = "hm"
    week_starts_on: str = "monday"

    def effective_role(self, default_role: str) -> str:
        return self.role if self.role is not None else default_role


@dataclass(frozen=True, slots=True)
class Operator:
    id: str
    email: str
    name: str
    #: Whether the operator has a confirmed second factor (TOTP); sign-in then asks for a code.
    second_factor: bool = False
