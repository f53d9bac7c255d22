"""Tenant pages: server-rendered Jinja2 with htmx, on the API's own use cases and access decision.

:func:`pages_router` is what the app assembly (``server/app.py``) mounts;
:func:`template_config` and :func:`static_router` serve the templates (the tenant pages'
and whatever directories the assembly adds, such as the operator console's) and the
vendored ``htmx.min.js`` (no CDN: Stint must work air-gapped).
"""

from __future__ import annotations

from datetime import date, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

from litestar import Router
from litestar.middleware import DefineMiddleware
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from core.origin import Source
from plugins import i18n
from plugins.settings import Settings

from ..origin import OriginMiddleware
from .csrf import csrf_middleware
from .errors import browser_aware, page_exception_handlers
from .locale import LocaleMiddleware
from .session import SessionCookieMiddleware

__all__ = ["browser_aware", "pages_router", "static_router", "template_config"]

_WEB = Path(__file__).resolve().parent.parent


def _hm(seconds: int | None) -> str:
    """Durations in the reader's time format: 1:30, or 1.50 (1,50 in German) decimal hours."""
    reader = i18n.current()
    return i18n.duration(seconds, reader.time_format, reader.locale)


def _money(amount: int, currency: str = "USD") -> str:
    """1,234.56 USD in English (as always); Babel's form elsewhere (1.234,56 €)."""
    return i18n.money(amount, currency, i18n.current().locale)


def _decimal(value: Any, places: int = 4) -> str:
    """An exact fraction (minor units) as major units with a few places, for the quote's working."""
    locale = i18n.current().locale
    if locale == "en":
        return f"{float(value) / 100:,.{places}f}"
    return i18n.number(Fraction(value), places, locale)


def _day(value: date) -> str:
    """A calendar day (of a date, or of a datetime as it stands): 2026-12-06 / 06.12.2026."""
    return i18n.day(value.date() if isinstance(value, datetime) else value, i18n.current().locale)


def _moment(value: datetime) -> str:
    return i18n.moment(value, i18n.current().locale)


def _weekday_day(value: date) -> str:
    return i18n.weekday_day(value, i18n.current().locale)


def _weekday_name(value: date) -> str:
    return i18n.weekday_name(value, i18n.current().locale)


def _weekday_short(value: date) -> str:
    return i18n.weekday_short(value, i18n.current().locale)


def _gettext(message: str) -> str:
    return i18n.catalogue(i18n.current().locale).gettext(message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    return i18n.catalogue(i18n.current().locale).ngettext(singular, plural, n)


def _engine_setup(engine: JinjaTemplateEngine) -> None:
    engine.engine.filters.update(
        hm=_hm, money=_money, decimal=_decimal, day=_day, moment=_moment,
        weekday_day=_weekday_day, weekday_short=_weekday_short, weekday_name=_weekday_name,
    )
    # Marked strings (`{{ _("…") }}`, `{% trans %}`) are looked up in the catalogue of the
    # request's reader (a context variable: web/pages/session.py sets it from the user's
    # profile, LocaleMiddleware from the browser's languages before anyone signs in).
    engine.engine.add_extension("jinja2.ext.i18n")
    engine.engine.install_gettext_callables(  # type: ignore[attr-defined]
        _gettext, _ngettext, newstyle=True
    )
    engine.engine.globals["ui_locale"] = lambda: i18n.current().locale
    i18n.load_catalogues()


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
        DefineMiddleware(LocaleMiddleware),
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
    from .explorer_batch import ExplorerBatchPageController
    from .explorer_saved_views import ExplorerViewsPageController
    from .notifications import NotificationsPageController
    from .oauth import OAuthPagesController
    from .profile import ProfilePageController
    from .reporting import ReportingPageController
    from .reports import ReportsPageController
    from .security import SecurityPageController
    from .signin import SignInController
    from .subscription import SubscriptionPageController
    from .subscription_activation import SubscriptionActivationPageController
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
            SignInController, TimeController, SubscriptionPageController,
            SubscriptionActivationPageController, UsersPageController,
            DevOpsPageController, AuditPageController, SecurityPageController, WorkItemsPageController,
            WorkItemAutomationPageController,
            ActivityTypesPageController, BudgetsPageController, TenantDataPageController,
            ApprovalsPageController, WorklogHistoryPageController, ExplorerPageController,
            ExplorerBatchPageController, ExplorerViewsPageController,
            ReportingPageController, ReportsPageController, BurndownPageController,
            UnsubscribePageController, NotificationsPageController, WorkingHoursPageController,
            OAuthPagesController, AppsPageController, ProfilePageController,
        ],
        middleware=page_middleware(settings),
        exception_handlers=page_exception_handlers,
        include_in_schema=False,
    )
