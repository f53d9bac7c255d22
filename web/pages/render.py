"""What every page shares: who is asking, the access decision, the navigation and the banner.

:func:`open_page` is the pages' one guard. It asks the same access decision as the
API (``core.services.access.check_access``) for the action the page performs, and
raises ``AccessDenied`` with the decision's reason, which ``errors.py`` renders as the
locked door, the blocked page or a plain 404. :func:`render` picks the ``_``-partial
for htmx requests and the full page otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from litestar import Request
from litestar.response import Template

from core.errors import AccessDenied
from core.identity.scopes import ALL_SCOPES, Scope
from core.licensing.access import Action
from core.licensing.deployment import Deployment
from core.licensing.roles import Permission, Role, role_allows
from core.licensing.trial_banner import HIDDEN_BANNER, Banner
from core.services.access import AccessOutcome, check_access
from core.services.administrators import tenant_administrators
from core.services.approvals import deciders
from core.services.tracking_common import user_zone
from core.tenancy import User
from plugins.bootstrap import Stint

from ..auth import TenantPrincipal
from ..deps import provide_stint
from ..second_factor import user_may_proceed
from .session import page_principal

__all__ = ["EnrolmentRequired", "Page", "SignInRequired", "is_htmx", "local_path", "open_page", "render",
           "stint_of", "zone_of"]

_PAGE_KEY = "stint_page"


def local_path(path: str, fallback: str = "/time") -> str:
    """Only a path on this site may come next (after sign-in or enrolment): no open redirect."""
    if path.startswith("/") and not path.startswith("//") and "\\" not in path:
        return path
    return fallback


class SignInRequired(Exception):
    """No session: full pages redirect to sign-in, htmx requests get ``HX-Redirect``."""


class EnrolmentRequired(Exception):
    """The tenant requires a second factor the user lacks: to the Security page, as above."""


@dataclass
class Page:
    principal: TenantPrincipal
    outcome: AccessOutcome | None
    nav: dict[str, bool] = field(default_factory=dict)
    #: Who to ask when this page turns the user away: the tenant's administrators.
    ask: tuple[User, ...] = ()

    @property
    def banner(self) -> Banner:
        return self.outcome.banner if self.outcome else HIDDEN_BANNER

    def context(self, **extra: Any) -> dict[str, Any]:
        p = self.principal
        return {
            "me": p.user,
            "tenant": p.tenant,
            "onprem": p.tenant.deployment is Deployment.ONPREM,
            "banner": self.banner,
            "nav": self.nav,
            "ask": self.ask,
            **extra,
        }


def stint_of(request: Request[Any, Any, Any]) -> Stint:
    return provide_stint(request.app.state)


def is_htmx(request: Request[Any, Any, Any]) -> bool:
    return request.headers.get("hx-request") == "true"


def current_page(request: Request[Any, Any, Any]) -> Page | None:
    """The page state :func:`open_page` got to (error pages render the nav from it)."""
    return request.scope.get("state", {}).get(_PAGE_KEY)


async def _decide(stint: Stint, principal: TenantPrincipal, action: Action) -> AccessOutcome:
    return await check_access(
        stint.uow,
        stint.clock,
        tenant=principal.tenant,
        user=principal.user,
        action=action,
        grace_days=stint.settings.grace_days,
        clock_tolerance=stint.settings.clock_tolerance,
        cache=stint.access_cache,
    )


async def open_page(
    request: Request[Any, Any, Any], action: Action | None, *, enrolling: bool = False,
    token_scope: Scope | None = None,
) -> Page:
    """The signed-in user's page for ``action``; raises when the decision says no.

    ``action`` None is for pages every signed-in user may see (the empty home page).
    ``enrolling``: the page sets up the user's second factor, so it opens for a user whose
    tenant requires one they do not have yet (every other page sends them there).
    ``token_scope``: a read-only page that also opens for a personal access token limited to
    that scope (the Reports page on a wall screen, ``reporting:read``); it has no forms that
    write, so the token can do nothing there its scope leaves out.
    """
    stint = stint_of(request)
    principal = await page_principal(request)
    if principal is None:
        raise SignInRequired
    limited = principal.scopes is not None and principal.scopes != ALL_SCOPES
    read_only_token = (
        token_scope is not None and principal.personal_token_id is not None
        and principal.scopes is not None and token_scope in principal.scopes
    )
    if (limited or principal.claims.client_id is not None) and not read_only_token:
        # Pages are for people: a token limited to some scopes is for a tool, and a page's
        # forms would otherwise let it do what its scopes leave out.
        raise AccessDenied("insufficient_scope", "Pages need a sign-in, not a token limited to some scopes.")
    if not enrolling and not user_may_proceed(principal):
        raise EnrolmentRequired
    user = principal.user
    outcome = await _decide(stint, principal, action) if action is not None else None
    # A collection admin always has the tab; for anyone else the decision says whether it
    # exists (role None in the cloud: it does not). Any touch is "use" for them anyway.
    if user.collection_admin:
        time_tab = True
    elif action is Action.USE_TIME_TAB and outcome is not None:
        time_tab = not outcome.decision.hidden
    else:
        time_tab = not (await _decide(stint, principal, Action.USE_TIME_TAB)).decision.hidden
    role = user.effective_role(principal.tenant.default_role)
    administrator = role == "administrator"
    nav = {
        "time": time_tab,
        # Everyone who tracks time reads the items they track against (and edits them standalone).
        "work_items": time_tab,
        "subscription": user.collection_admin,
        "users": user.collection_admin or administrator,
        "devops": administrator,
        "work_item_automation": administrator,
        "audit": administrator,
        "data": user.collection_admin or administrator,
        "activity_types": administrator,
        # Everyone with a timesheet sees the budgets their own worklogs book to (docs/budgets.md).
        "budgets": role_allows(Role(role), Permission.OWN_TIMESHEET),
        # The Reports page: everyone with a timesheet (Team: their own time, docs/reports.md).
        "reports": role_allows(Role(role), Permission.OWN_TIMESHEET),
        # The Times Explorer: everyone's worklogs (Product, Budget, Administrators).
        "explorer": role_allows(Role(role), Permission.VIEW_ALL_WORKLOGS),
        # Everyone with a role reads the reporting feed (Team: their own time, docs/reporting.md).
        "reporting": Role(role) is not Role.NONE,
    }
    # Those who decide weeks: a global approval manager, or someone's approver.
    nav["approvals"] = user.approval_manager or bool(
        await deciders(stint.uow, tenant=principal.tenant, actor=user)
    )
    page = Page(principal, outcome, nav)
    if outcome is not None and not outcome.decision.allowed and not outcome.decision.hidden:
        # The locked door names who can open it (issue #21: it said only "an administrator").
        ask = tuple(await tenant_administrators(stint.uow, tenant=principal.tenant))
        page = Page(principal, outcome, nav, ask)
    request.scope.setdefault("state", {})[_PAGE_KEY] = page
    if outcome is not None and not outcome.decision.allowed:
        decision = outcome.decision
        reason = decision.reason.value if decision.reason else "not_permitted"
        raise AccessDenied(reason, decision.message or reason, hidden=decision.hidden)
    return page


def render(
    request: Request[Any, Any, Any],
    full: str,
    partial: str | None,
    context: dict[str, Any],
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Template:
    """The partial for htmx requests (when there is one), the whole page otherwise."""
    name = partial if partial is not None and is_htmx(request) else full
    return Template(template_name=name, context=context, status_code=status_code, headers=headers)


async def zone_of(request: Request[Any, Any, Any], page: Page) -> str:
    """The signed-in user's time zone (their own, else the tenant's): the zone a page's
    days, weeks and filters are read in."""
    async with stint_of(request).uow() as work:
        repo = work.tenant(page.principal.tenant.id).tracking()
        return await user_zone(repo, page.principal.tenant, page.principal.user.id)
