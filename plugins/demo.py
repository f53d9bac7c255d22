"""``stint demo``: a demo enterprise with a cloud and an on-premises tenant, and its logins.

Idempotent: running it again finds what is there, resets the demo passwords and
prints the same logins.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from core.errors import Conflict
from core.services.identity import create_operator
from core.services.second_factor import enrol_operator_now, operator_secret
from core.services.signup import signup
from core.services.users import add_user
from core.tenancy import normalise_email

from .bootstrap import Stint
from .demo_activity import load_demo_activity

__all__ = ["DEMO_PASSWORD", "Login", "load_demo"]

DEMO_PASSWORD = "stint-demo-2026"


@dataclass(frozen=True)
class Login:
    realm: str
    tenant: str
    email: str
    password: str
    what: str


_PEOPLE = [
    # email, name, role, what they show
    ("dev@demo.test", "Dana Developer", "team", "Team role: tracks own time"),
    ("pm@demo.test", "Priya Product", "product", "Product role: sees everyone's worklogs"),
    ("guest@demo.test", "Gus Guest", "none", "role None: locked out of the Time tab"),
]


async def _tenant(stint: Stint, slug: str, name: str, deployment: str, enterprise_id: str | None) -> str:
    async with stint.uow() as work:
        existing = await work.directory.tenant_by_slug(slug)
    if existing:
        return existing.enterprise_id
    result = await signup(
        stint.uow, stint.hasher, stint.clock,
        slug=slug, name=name, deployment=deployment,
        admin_email="admin@demo.test", admin_password=DEMO_PASSWORD, admin_name="Ada Admin",
        trial_days=stint.settings.trial_days, enterprise_id=enterprise_id,
    )
    return result.tenant.enterprise_id


async def load_demo(stint: Stint) -> list[Login]:
    enterprise_id = await _tenant(stint, "demo-cloud", "Demo Cloud Organisation", "cloud", None)
    await _tenant(stint, "demo-onprem", "Demo On-Premises Server", "onprem", enterprise_id)
    logins = [
        Login("tenant", slug, "admin@demo.test", DEMO_PASSWORD, "collection admin, Administrator")
        for slug in ("demo-cloud", "demo-onprem")
    ]
    password_hash = stint.hasher.hash(DEMO_PASSWORD)
    for slug in ("demo-cloud", "demo-onprem"):
        async with stint.uow() as work:
            tenant = await work.directory.tenant_by_slug(slug)
        assert tenant is not None
        for email, name, role, what in _PEOPLE:
            with contextlib.suppress(Conflict):
                await add_user(
                    stint.uow, stint.hasher, stint.clock, tenant_id=tenant.id, actor="demo",
                    email=email, name=name, password=DEMO_PASSWORD, role=role,
                )
            logins.append(Login("tenant", slug, email, DEMO_PASSWORD, what))
        # Reset the demo passwords so the printed logins always work.
        async with stint.uow(write=True) as work:
            scope = work.tenant(tenant.id)
            users = await scope.users().list()
            for user in users:
                await scope.users().set_password_hash(user.id, password_hash)
            await work.commit()
        if slug == "demo-cloud":
            people = {user.email: user for user in users}
            await load_demo_activity(stint, tenant, people)
    operator_email = normalise_email("operator@demo.test")
    with contextlib.suppress(Conflict):
        await create_operator(
            stint.uow, stint.hasher, stint.clock, email=operator_email, password=DEMO_PASSWORD,
            name="Olive Operator",
        )
    async with stint.uow() as work:
        found = await work.directory.operator_by_email(operator_email)
    assert found is not None
    enrolment = await operator_secret(stint.uow, stint.codes, operator=found.operator)
    if enrolment is None:
        enrolment, _ = await enrol_operator_now(stint.uow, stint.codes, stint.clock, operator=found.operator)
    logins.append(Login(
        "operator", "-", operator_email, DEMO_PASSWORD,
        f"operator console /admin; second factor secret {enrolment.secret} "
        f"(current code: stint operator code --email {operator_email})",
    ))
    return logins
