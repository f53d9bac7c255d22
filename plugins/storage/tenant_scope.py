"""One tenant's repositories, one per context. Every query they run filters on the tenant."""

from __future__ import annotations

from typing import Any

from piccolo.engine.base import Engine

from core.origin import Origin, current_origin

from .activation_repo import PiccoloActivationRepo
from .activities_repo import PiccoloActivityTypeRepo, PiccoloRateRepo
from .billing_repo import InvoiceRepo
from .budgets_repo import PiccoloBudgetRepo
from .import_jobs_repo import PiccoloImportJobStore
from .notifications_repo import PiccoloNotificationSettings
from .saved_views_repo import PiccoloSavedViewStore
from .second_factor_repo import SecondFactors
from .subscriptions_repo import Account, PiccoloSeatRepository, PiccoloSubscriptionRepository
from .token_repo import PiccoloTokenRepository
from .tracking_repo import PiccoloTrackingRepo
from .users_repo import PiccoloAuditLog, PiccoloUserRepository
from .work_items_repo import PiccoloWorkItemRepo
from .working_hours_repo import PiccoloWorkingHoursStore

__all__ = ["PiccoloTenantScope"]


class PiccoloTenantScope:
    def __init__(self, engine: Engine[Any], tenant_id: str, origin: Origin | None = None) -> None:
        self._engine = engine
        self.tenant_id = tenant_id
        self.origin = origin if origin is not None else current_origin()
        #: Shared by the billing repositories, so the subscription id is read once.
        self._account = Account(tenant_id)

    def users(self) -> PiccoloUserRepository:
        return PiccoloUserRepository(self.tenant_id)

    def second_factors(self) -> SecondFactors:
        return SecondFactors(self.tenant_id)

    def audit(self) -> PiccoloAuditLog:
        return PiccoloAuditLog(self._engine, self.tenant_id)

    def subscriptions(self) -> PiccoloSubscriptionRepository:
        return PiccoloSubscriptionRepository(self._engine, self._account)

    def seats(self) -> PiccoloSeatRepository:
        return PiccoloSeatRepository(self._account)

    def invoices(self) -> InvoiceRepo:
        return InvoiceRepo(self._account)

    def tracking(self) -> PiccoloTrackingRepo:
        return PiccoloTrackingRepo(self._engine, self.tenant_id, self.origin)

    def tokens(self) -> PiccoloTokenRepository:
        return PiccoloTokenRepository(self._engine, self.tenant_id)

    def activation(self) -> PiccoloActivationRepo:
        return PiccoloActivationRepo(self.tenant_id)

    def work_items(self) -> PiccoloWorkItemRepo:
        return PiccoloWorkItemRepo(self.tenant_id)

    def budgets(self) -> PiccoloBudgetRepo:
        return PiccoloBudgetRepo(self.tenant_id)

    def activity_types(self) -> PiccoloActivityTypeRepo:
        return PiccoloActivityTypeRepo(self.tenant_id)

    def rates(self) -> PiccoloRateRepo:
        return PiccoloRateRepo(self.tenant_id)

    def saved_views(self) -> PiccoloSavedViewStore:
        return PiccoloSavedViewStore(self.tenant_id)

    def import_jobs(self) -> PiccoloImportJobStore:
        return PiccoloImportJobStore(self.tenant_id)

    def notifications(self) -> PiccoloNotificationSettings:
        return PiccoloNotificationSettings(self.tenant_id)

    def working_hours(self) -> PiccoloWorkingHoursStore:
        return PiccoloWorkingHoursStore(self.tenant_id)
