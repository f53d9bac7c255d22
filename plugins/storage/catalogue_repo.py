"""The plans catalogue as rows (``plan_catalogue``): one JSON definition per plan, in the
catalogue's order, and the plan a subscription is on."""

from __future__ import annotations

import json
from datetime import datetime

from core.licensing.catalogue import DEFAULT_CATALOGUE, PlanCatalogue
from core.licensing.plan_dicts import plan_from_dict, plan_to_dict
from core.licensing.plans import Plan

from .plain_sql import Sql, fetch
from .tables import PlanCatalogue as PlanRow

__all__ = ["CatalogueRepo"]


# Every worklog write checks its plan's limits: the subscription's plan comes with its
# stored definition in the statement that reads the plan id, so the check costs no more
# statements than reading the subscription did.
_PLAN_OF = Sql(
    "SELECT s.plan_id, p.data FROM subscription s"
    " LEFT JOIN plan_catalogue p ON p.id = s.plan_id WHERE s.id = {}"
)


class CatalogueRepo:
    """The plans catalogue: data, seeded with the defaults at install, edited by operators."""

    async def load(self) -> PlanCatalogue:
        rows = await PlanRow.select().order_by(PlanRow.position)
        if not rows:
            return DEFAULT_CATALOGUE
        return PlanCatalogue.of(plan_from_dict(json.loads(row["data"])) for row in rows)

    async def plan_of(self, subscription_id: str) -> Plan:
        rows = await fetch(PlanRow, _PLAN_OF, subscription_id)
        if not rows:
            raise LookupError(f"no subscription {subscription_id}")
        plan_id, data = rows[0]["plan_id"], rows[0]["data"]
        if data is None:
            # Not stored: either the catalogue was never seeded (the defaults hold) or it
            # no longer has this plan; load() tells which.
            return (await self.load()).get(plan_id)
        return plan_from_dict(json.loads(data))

    async def seed(self, at: datetime) -> int:
        """Insert the default plans that are missing; existing (possibly edited) plans stay."""
        existing = {row["id"] for row in await PlanRow.select(PlanRow.id)}
        added = 0
        for position, plan in enumerate(DEFAULT_CATALOGUE):
            if plan.id not in existing:
                await PlanRow.insert(
                    PlanRow(id=plan.id, data=json.dumps(plan_to_dict(plan)), position=position, updated_at=at)
                )
                added += 1
        return added

    async def save(self, plan: Plan, at: datetime) -> None:
        data = json.dumps(plan_to_dict(plan))
        if await PlanRow.exists().where(PlanRow.id == plan.id):
            await PlanRow.update({PlanRow.data: data, PlanRow.updated_at: at}).where(PlanRow.id == plan.id)
        else:
            position = await PlanRow.count()
            await PlanRow.insert(PlanRow(id=plan.id, data=data, position=position, updated_at=at))
