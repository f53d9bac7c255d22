"""The tenant's "who may edit other people's time" setting (``core.licensing.editing``)."""

from __future__ import annotations

from core.clock import Clock
from core.licensing.editing import EditingRule, may_edit_others, parse_editing_rule
from core.licensing.roles import Role
from core.tenancy import Tenant, User
from core.tracking import EVERYONE, NOBODY, OthersRights
from core.unit_of_work import UnitOfWorkFactory

from .approvals import deciders
from .audit import actor_of

__all__ = ["editing_rule", "edits_others", "set_editing_rule"]


async def editing_rule(uow: UnitOfWorkFactory, *, tenant: Tenant) -> EditingRule:
    async with uow() as work:
        return parse_editing_rule(await work.tenant(tenant.id).tracking().editing_rule())


async def set_editing_rule(
    uow: UnitOfWorkFactory, clock: Clock, *, tenant: Tenant, actor: User, who: str,
    address: str | None = None,
) -> EditingRule:
    rule = parse_editing_rule(who)
    now = clock.now()
    async with uow(write=True) as work:
        scope = work.tenant(tenant.id)
        before = parse_editing_rule(await scope.tracking().editing_rule())
        await scope.tracking().save_editing_rule(rule.value, actor.id, now)
        if rule is not before:
            await scope.audit().record(actor_of(actor), "tenant.editing_rule", rule.value,
                                       {"before": before.value}, now, address=address)
        await work.commit()
    return rule


async def edits_others(uow: UnitOfWorkFactory, *, tenant: Tenant, user: User) -> OthersRights:
    """The one decision "whose worklogs may ``user`` edit and delete besides their own",
    under the tenant's rule: an Administrator everyone's; under ``product`` a Product user
    everyone's; under ``approval_managers`` (and ``product``) an approval manager the
    people whose weeks they decide — everyone's for a global approval manager, their
    approvees' for one named as some users' approver."""
    role = user.effective_role(tenant.default_role)
    if role == Role.ADMINISTRATOR.value:  # under every rule: spare the read
        return EVERYONE
    rule = await editing_rule(uow, tenant=tenant)
    if may_edit_others(rule, role=role, approves_owner=False):
        return EVERYONE
    if rule is EditingRule.ADMINISTRATORS:
        return NOBODY
    approved = await deciders(uow, tenant=tenant, actor=user)
    return EVERYONE if approved is None else OthersRights(owners=approved)
