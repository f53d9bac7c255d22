"""The operator console (``/admin``): vendor staff manage plans, tenants, trials, manual
payments, offline activation files, and read billing events and the audit log.

Operators are their own realm (SPEC §1): the console's session cookie carries an
operator token (audience ``stint-operator``) that the tenant pages and the tenant API
refuse, and a tenant session is refused here.
"""

from __future__ import annotations

from pathlib import Path

from litestar import Router

from plugins.settings import Settings
from web.pages import page_middleware

__all__ = ["CONSOLE_TEMPLATES", "console_router"]

#: The console's Jinja templates (``admin/…``); the app assembly adds them to the app's one
#: template environment, so they can include the tenant pages' partials (``_flash.html``).
CONSOLE_TEMPLATES = Path(__file__).resolve().parent / "templates"


def console_router(settings: Settings) -> Router:
    from .activation import ActivationController
    from .console import ConsoleController
    from .errors import console_exception_handlers
    from .plans import PlansController
    from .records import RecordsController
    from .tenants import TenantsController

    return Router(
        path="/admin",
        route_handlers=[
            ConsoleController, TenantsController, PlansController, ActivationController, RecordsController
        ],
        middleware=page_middleware(settings),
        exception_handlers=console_exception_handlers,
        include_in_schema=False,
    )
