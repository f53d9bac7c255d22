"""``/settings/data``: "Your data" — what the tenant's archive holds, and the button that
downloads it (the same use case as ``GET /api/v1/export``).

Open to Administrators, and to collection admins also after the subscription has expired:
while the data is kept (the retention period), the page says until when.
"""

from __future__ import annotations

from collections.abc import Awaitable
from pathlib import Path
from typing import Any

from litestar import Controller, Request, get
from litestar.response import File, Template

from core.licensing import SubscriptionStatus
from core.licensing.access import Action
from core.licensing.deployment import Deployment
from core.services.retention import purge_on
from core.services.subscriptions import view_subscription
from core.services.tenant_data import export_tenant_data

from ..api.tenant_data import archive_file
from ..security import client_address
from .render import open_page, stint_of

__all__ = ["TenantDataPageController"]


class TenantDataPageController(Controller):
    path = "/settings/data"
    include_in_schema = False

    @get("/", name="tenant_data")
    async def show(self, request: Request[Any, Any, Any]) -> Template:
        page = await open_page(request, Action.EXPORT_TENANT_DATA)
        stint = stint_of(request)
        tenant = page.principal.tenant
        view = await view_subscription(stint.uow, stint.clock, tenant=tenant)
        sub = view.subscription
        kept_until = None
        # On-premises data is never purged by Stint; a cloud tenant's is, after the retention period.
        cloud = tenant.deployment is Deployment.CLOUD
        if cloud and sub.status is SubscriptionStatus.EXPIRED and sub.expired_on is not None:
            kept_until = purge_on(sub.expired_on, stint.settings.retention_days)
        return Template("settings/data.html", context=page.context(active="data", kept_until=kept_until))

    @get("/archive", name="tenant_data_archive")
    async def archive(self, request: Request[Any, Any, Any]) -> File:
        # A GET that changes nothing but the audit trail: a plain link downloads it, and a
        # cross-site page cannot read the answer (no CORS), so it needs no CSRF token.
        page = await open_page(request, Action.EXPORT_TENANT_DATA)
        stint = stint_of(request)
        tenant, user = page.principal.tenant, page.principal.user

        def write(out: Path) -> Awaitable[object]:
            return export_tenant_data(stint.uow, stint.clock, stint.tenant_archives, tenant=tenant, user=user,
                                      out=out, address=client_address(request))

        return await archive_file(tenant.slug, stint.clock.now().date().isoformat(), write)
