"""Tenant pages: server-rendered Jinja2 with htmx, on the API's own use cases and access decision.

:func:`pages_router` is what the app assembly (``server/app.py``) mounts;
:func:`template_config` and :func:`static_router` serve the templates (the tenant pages'
and whatever directories the assembly adds, such as the operator console's) and the
vendored ``htmx.min.js`` (no CDN: Stint must work air-gapped).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Router
from litestar.middleware import DefineMiddleware
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from core.money import format_minor
from core.origin import Source
from plugins.settings import Settings

from ..origin import OriginMiddleware
from .csrf import csrf_middleware
from .errors import browser_aware, page_exception_handlers
from .session import SessionCookieMiddleware

__all__ = ["browser_aware", "pages_router", "static_router", "template_config"]

_WEB = Path(__file__).resolve().parent.parent


def _hm(seconds: int | None) -> str:
    """Durations as timesheets show them: 1:30; under a minute with its seconds, 0:00:04
    (a short track is kept with its seconds and shown as such, docs/tracking.md)."""
    value = int(seconds or 0)
    if 0 < value < 60:
        return f"0:00:{value:02d}"
    return f"{value // 3600}:{value % 3600 // 60:02d}"


def _money(amount: int, currency: str = "USD") -> str:
    return f"{format_minor(amount)} {currency}"


def _decimal(value: Any, places: int = 4) -> str:
    """An exact fraction (minor units) as major units with a few places, for the quote's working."""
    return f"{float(value) / 100:,.{places}f}"


def _engine_setup(engine: JinjaTemplateEngine) -> None:
    engine.engine.filters.update(hm=_hm, money=_money, decimal=_decimal)
    # Template strings are marked for translation (`{{ _("…") }}`, `{% trans %}`) so gettext
    # catalogues can hold them; until a locale is chosen per request they render as written.
    engine.engine.add_extension("jinja2.ext.i18n")
    engine.engine.install_null_translations(newstyle=True)  # type: ignore[attr-defined]


def template_config(*more_directories: Path) -> TemplateConfig[JinjaTemplateEngine]:
    """One Jinja environment for the whole app: the layers above web (the operator console)
    bring their own template directories rather than web knowing where they live."""
    return TemplateConfig(
        directory=[_WEB / "templates", *more_directories], engine=JinjaTemplateEngine,
        engine_callback=_engine_setup,
    )


def static_router() -> Router:
    return create_static_files_router(
        path="/static", directories=[_WEB / "static"], name="static", include_in_schema=False
    )


def page_middleware(settings: Settings) -> list[Any]:
    """Session cookies outermost (they ride on error pages too), then CSRF."""
    return [
        DefineMiddleware(OriginMiddleware, source=Source.PAGE), DefineMiddleware(SessionCookieMiddleware),
        csrf_middleware(settings),
    ]


def pages_router(settings: Settings) -> Router:
    from .activity_types import ActivityTypesPageController
    from .approvals import ApprovalsPageController
    from .apps import AppsPageController
    from .audit import AuditPageController
    from .budgets import BudgetsPageController
    from .burndown import BurndownPageController
    from .devops import DevOpsPageController
    from .explorer import ExplorerPageController
    from .notifications import NotificationsPageController
    from .oauth import OAuthPagesController
    from .reporting import ReportingPageController
    from .reports import ReportsPageController
    from .security import SecurityPageController
    from .signin import SignInController
    from .subscription import SubscriptionPageController
    from .tenant_data import TenantDataPageController
    from .time import TimeController
    from .unsubscribe import UnsubscribePageController
    from .users import UsersPageController
    from .work_item_automation import WorkItemAutomationPageController
    from .work_items import WorkItemsPageController
    from .working_hours import WorkingHoursPageController
    from .worklog_history import WorklogHistoryPageController

    return Router(
        path="/",
        route_handlers=[
            SignInController, TimeController, SubscriptionPageController, UsersPageController,
            DevOpsPageController, AuditPageController, SecurityPageController, WorkItemsPageController,
            WorkItemAutomationPageController,
            ActivityTypesPageController, BudgetsPageController, TenantDataPageController,
            ApprovalsPageController, WorklogHistoryPageController, ExplorerPageController,
            ReportingPageController, ReportsPageController, BurndownPageController,
            UnsubscribePageController, NotificationsPageController, WorkingHoursPageController,
            OAuthPagesController, AppsPageController,
        ],
        middleware=page_middleware(settings),
        exception_handlers=page_exception_handlers,
        include_in_schema=False,
    )
