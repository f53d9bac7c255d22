"""Issuing an offline activation file (SPEC §7): one use case for the operator API and console.

It lives beside the signing code rather than in ``core/`` because it signs with the
vendor's private key, which only this plugin handles.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from core.activation.claims import ActivationClaims
from core.clock import Clock
from core.errors import ValidationFailed
from core.licensing.deployment import Deployment
from core.tenancy import Operator
from core.unit_of_work import UnitOfWorkFactory

from ..settings import Settings
from .devkey import signing_key_from_setting
from .files import decode_file, issue_file
from .signing import key_id

__all__ = ["ActivationIssuer", "IssuedFile"]


@dataclass(frozen=True, slots=True)
class IssuedFile:
    """A signed activation file, what it claims, and whether the development key signed it."""

    text: str
    claims: ActivationClaims
    dev_key: bool


class ActivationIssuer:
    """Issues offline activation files with the vendor's signing key."""

    def __init__(self, uow: UnitOfWorkFactory, settings: Settings, clock: Clock) -> None:
        self.uow = uow
        self.settings = settings
        self.clock = clock

    async def issue(
        self,
        *,
        operator: Operator,
        tenant: str,
        server_id: str,
        plan_id: str,
        seats: int,
        expires_on: date,
        period_start: date | None = None,
        require_known_tenant: bool = False,
        address: str | None = None,
    ) -> IssuedFile:
        """Check the plan, sign the file and audit it (with the operator's address)."""
        async with self.uow() as work:
            if require_known_tenant and await work.directory.tenant_by_slug(tenant.strip()) is None:
                raise ValidationFailed(f"no tenant {tenant!r}", field="tenant")
            plan = (await work.directory.catalogue.load()).get(plan_id.strip())
        if Deployment.ONPREM not in plan.deployments:
            raise ValidationFailed(f"the {plan.name} plan cannot be used on-premises", field="plan")
        if not plan.allows_users(seats):
            raise ValidationFailed(f"the {plan.name} plan does not allow {seats} users", field="seats")
        settings = self.settings
        signing_key, is_dev = signing_key_from_setting(settings.activation_signing_key, settings.data_dir)
        now = self.clock.now()
        text = issue_file(
            tenant=tenant, server_id=server_id, plan_id=plan.id, seats=seats,
            expires_on=expires_on, signing_key=signing_key, now=now, period_start=period_start,
        )
        public = signing_key.public_key()
        claims = decode_file(text, {key_id(public): public})
        async with self.uow(write=True) as work:
            await work.directory.audit(
                None, f"operator:{operator.id}", "activation_file.issued", claims.file_id,
                {"tenant": claims.tenant, "server_id": claims.server_id, "plan": claims.plan_id,
                 "seats": claims.seats, "expires_on": claims.expires_on.isoformat(), "dev_key": is_dev},
                now, address=address,
            )
            await work.commit()
        return IssuedFile(text, claims, is_dev)
