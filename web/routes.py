"""The web layer's route handlers, grouped as the app assembly (``server/app.py``) mounts them.

Plain functions returning lists, so the assembly stays a list of calls and a test can add a
route by patching one of them (``tests/integration/test_isolation.py`` plants a leak this way).
"""

from __future__ import annotations

from typing import Any

from litestar import Router

from .api.identity import OperatorTokenController, TokenController
from .api.tokens import PersonalTokensController

__all__ = [
    "BuiltOnce",
    "activation_routes",
    "billing_routes",
    "lean_routes",
    "operator_activation_routes",
    "operator_routes",
    "reporting_routes",
    "tenant_routes",
    "webhook_routes",
]


class BuiltOnce(Router):
    """A router made for one app and registered once, so it is not copied on registration.

    Litestar deep-copies a router it registers, so that one router object can sit under two
    owners; for the app's big routers that copy (every handler, its metadata and examples)
    was a third of building the app. A router made by the app factory for that app alone
    has no second owner: it is registered as it is.
    """

    def __deepcopy__(self, memo: dict[int, Any]) -> BuiltOnce:
        return self


def lean_routes() -> dict[tuple[str, str], Any]:
    """The routes whose plain happy path the edge answers itself (``web/lean.py``); each
    stays registered above as a Litestar route, which answers everything else."""
    from .api import access

    return {("GET", access.PATH): access.access_lean}


def tenant_routes() -> list[Any]:
    from .api import (
        access,
        activity_types,
        approvals,
        apps,
        audit,
        budgets,
        devops,
        explorer,
        explorer_views,
        import_jobs,
        invoices,
        iterations,
        me,
        notifications,
        profile,
        second_factor,
        security_settings,
        signup,
        subscription,
        tenant_data,
        timesheet,
        tracking,
        users,
        work_item_automation,
        work_item_sync,
        work_items,
        working_hours,
        worklogs,
    )

    return [
        TokenController,
        signup.SignupController,
        me.MeController,
        second_factor.UserSecondFactorController,
        second_factor.SecondFactorResetController,
        security_settings.SecuritySettingsController,
        notifications.MyNotificationsController,
        notifications.NotificationSettingsController,
        working_hours.MyWorkingHoursController,
        profile.ProfileController,
        working_hours.UserWorkingHoursController,
        PersonalTokensController,
        apps.MyAppsController,
        apps.TenantAppsController,
        access.AccessController,
        users.UsersController,
        users.DefaultRoleController,
        users.EditingRuleController,
        audit.AuditController,
        tenant_data.TenantDataController,
        subscription.SubscriptionController,
        invoices.InvoicesController,
        tracking.TrackingController,
        worklogs.WorklogsController,
        explorer.ExplorerController,
        explorer.WorklogBatchesController,
        explorer_views.ExplorerViewsController,
        import_jobs.ImportJobsController,
        timesheet.TimesheetController,
        timesheet.WeeksController,
        timesheet.TrackingRulesController,
        approvals.ApprovalsController,
        approvals.ApprovalSettingsController,
        devops.DevOpsConnectionController,
        work_item_sync.WorkItemSyncController,
        work_item_automation.WorkItemAutomationController,
        budgets.BudgetsController,
        work_items.WorkItemsController,
        iterations.IterationsController,
        activity_types.ActivityTypesController,
        activity_types.UserRatesController,
        *activation_routes(),
        *billing_routes(),
    ]


def reporting_routes() -> list[Any]:
    """The Reporting API (OData v4): a router of its own, with OData's errors and credentials."""
    from .api.odata.routes import reporting_router

    return [reporting_router()]


def billing_routes() -> list[Any]:
    """Buy Now's hosted checkout and the card portal (the payment provider's pages)."""
    from .api import checkout

    return [checkout.CheckoutController]


def webhook_routes() -> list[Any]:
    """App level, outside ``/api/v1`` (no tenant auth, no CSRF): the payment provider's
    webhooks and OAuth's token endpoints (their callers authenticate as clients)."""
    from .api.oauth import OAUTH_ROUTES
    from .api.webhooks import stripe_webhook

    return [stripe_webhook, *OAUTH_ROUTES]


def activation_routes() -> list[Any]:
    """On-premises activation (Subscription page) and the licence service's endpoint."""
    from .api import activation, licence_service

    return [activation.ActivationController, licence_service.LicenceServiceController]


def operator_routes() -> list[Any]:
    from .api import operator_console, operator_jobs, operator_tenants, second_factor, tenant_data

    return [
        OperatorTokenController,
        second_factor.OperatorSecondFactorController,
        operator_tenants.OperatorTenantsController,
        operator_console.OperatorTrialController,
        operator_console.OperatorPlansController,
        operator_console.OperatorInstallController,
        tenant_data.OperatorTenantDataController,
        operator_jobs.OperatorJobsController,
        *operator_activation_routes(),
    ]


def operator_activation_routes() -> list[Any]:
    from .api import activation

    return [activation.OperatorActivationFilesController]
