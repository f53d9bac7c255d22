"""Signup (API ``POST /api/v1/signup``): a tenant, its 28-day trial and its first collection admin."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from core.clock import Clock, today_in
from core.errors import TenantExists, ValidationFailed
from core.identity.ports import PasswordHasher
from core.ids import new_id
from core.licensing.roles import Role
from core.licensing.subscription import Subscription, SubscriptionStatus
from core.tenancy import (
    Deployment,
    Enterprise,
    LicensingMode,
    Person,
    Tenant,
    User,
    normalise_email,
    validate_slug,
)
from core.unit_of_work import UnitOfWorkFactory

from .activity_types import seed_default_catalogue
from .identity import check_password

__all__ = ["SignupResult", "signup"]

#: Plan a trial runs on: Team features, no seat limit (SPEC §3).
TRIAL_PLAN = "team"


@dataclass(frozen=True, slots=True)
class SignupResult:
    tenant: Tenant
    subscription: Subscription
    admin: User


async def signup(
    uow: UnitOfWorkFactory,
    hasher: PasswordHasher,
    clock: Clock,
    *,
    slug: str,
    name: str,
    deployment: str,
    admin_email: str,
    admin_password: str,
    admin_name: str,
    trial_days: int,
    enterprise_id: str | None = None,
) -> SignupResult:
    slug = validate_slug(slug.strip().lower())
    try:
        where = Deployment(deployment)
    except ValueError:
        raise ValidationFailed("deployment must be 'cloud' or 'onprem'", field="deployment") from None
    email = normalise_email(admin_email, field="admin.email")
    check_password(admin_password, field="admin.password")
    if not name.strip():
        raise ValidationFailed("the tenant needs a name", field="name")
    now = clock.now()
    subscription = Subscription(
        plan_id=TRIAL_PLAN,
        status=SubscriptionStatus.TRIALING,
        trial_ends_on=today_in(clock) + timedelta(days=trial_days),
    )
    password_hash = hasher.hash(admin_password)
    async with uow(write=True) as work:
        if await work.directory.tenant_by_slug(slug):
            raise TenantExists(f"the tenant name {slug!r} is taken", field="tenant")
        if enterprise_id is None:
            enterprise = Enterprise(id=new_id(), name=name.strip(), created_at=now)
            await work.directory.add_enterprise(enterprise)
            enterprise_id = enterprise.id
        sub_id = new_id()
        await work.directory.add_subscription(sub_id, enterprise_id, "tenant", subscription, now)
        tenant = Tenant(
            id=new_id(),
            slug=slug,
            name=name.strip(),
            deployment=where,
            enterprise_id=enterprise_id,
            subscription_id=sub_id,
            time_zone="UTC",
            default_role=Role.TEAM.value,
            licensing_mode=LicensingMode.AUTOMATIC,
            uninstalled_at=None,
            created_at=now,
        )
        await work.directory.add_tenant(tenant)
        person = await work.directory.person_by_email(email)
        if person is None:
            person = Person(id=new_id(), email=email, name=admin_name.strip() or email)
            await work.directory.add_person(person, now)
        admin = User(
            id=new_id(),
            tenant_id=tenant.id,
            person_id=person.id,
            email=person.email,
            name=person.name,
            role=Role.ADMINISTRATOR.value,
            collection_admin=True,
            approval_manager=True,
            last_used_at=None,
        )
        scope = work.tenant(tenant.id)
        await scope.users().add(admin, password_hash, now)
        await seed_default_catalogue(scope.activity_types())
        await scope.audit().record(
            f"user:{admin.id}", "tenant.signed_up", slug, {"deployment": where.value}, now
        )
        await work.commit()
    return SignupResult(tenant=tenant, subscription=subscription, admin=admin)
