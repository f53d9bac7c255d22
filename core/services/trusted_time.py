"""What an on-premises server remembers about time, tenant by tenant, and whether it believes
its clock now (SPEC §7; the rules are :mod:`core.activation.trusted_time`): the answer to
"why is everyone refused with clock_set_back?", for ``stint activation clock``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.activation.trusted_time import DEFAULT_TOLERANCE, ClockSetBack, TrustedTime, clock_set_back
from core.clock import Clock
from core.licensing.deployment import Deployment
from core.tenancy import Tenant
from core.unit_of_work import UnitOfWorkFactory

__all__ = ["ClockReport", "TenantClock", "clock_report"]

_PAGE = 200


@dataclass(frozen=True, slots=True)
class TenantClock:
    tenant: Tenant
    trusted: TrustedTime
    set_back: ClockSetBack | None
    """Why the clock is refused for this tenant; None: it is believed."""


@dataclass(frozen=True, slots=True)
class ClockReport:
    now: datetime
    tolerance: timedelta
    tenants: tuple[TenantClock, ...]

    @property
    def refused(self) -> bool:
        return any(t.set_back is not None for t in self.tenants)


async def clock_report(
    uow: UnitOfWorkFactory, clock: Clock, *, tolerance: timedelta = DEFAULT_TOLERANCE
) -> ClockReport:
    """Every on-premises tenant's trusted time, judged against the clock as it reads now."""
    now = clock.now()
    found: list[TenantClock] = []
    async with uow() as work:
        after = ""
        while True:
            page = await work.directory.tenants(after=after, limit=_PAGE)
            for tenant in page:
                if tenant.deployment is not Deployment.ONPREM:
                    continue
                trusted = await work.tenant(tenant.id).activation().trusted_time()
                found.append(TenantClock(tenant, trusted, clock_set_back(now, trusted, tolerance)))
            if len(page) < _PAGE:
                break
            after = page[-1].slug  # the directory pages tenants by slug
    return ClockReport(now, tolerance, tuple(found))
