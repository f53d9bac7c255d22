"""The one access decision of SPEC §6: subscription state, seat, role and deployment, in order."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import AccessDenied
from core.licensing import (
    COLLECTION_ADMIN_PAGES,
    Action,
    Decision,
    DenialReason,
    Deployment,
    Role,
    Subscription,
    decide,
    ensure_allowed,
    expire,
)

from .builders import TODAY, active, cancelled, context, past_due, trial

R = DenialReason
ENDED_TRIAL_DAY = TODAY + timedelta(days=28)
SUBSCRIPTION_PAGE = (Action.VIEW_SUBSCRIPTION, Action.PURCHASE)


def expired() -> Subscription:
    return expire(cancelled(), date(2027, 1, 1))


def test_a_licensed_team_user_may_track_time() -> None:
    """The ordinary case is allowed."""
    assert decide(context(active()), Action.TRACK_TIME) == Decision(True)


def test_an_uninstalled_tenant_allows_nothing() -> None:
    """tenant_uninstalled comes first, even for a collection admin's Subscription page."""
    ctx = context(active(), role=Role.ADMINISTRATOR, collection_admin=True, tenant_uninstalled=True)
    for action in Action:
        assert decide(ctx, action).reason is R.TENANT_UNINSTALLED


@pytest.mark.parametrize(
    "action", [Action.TRACK_TIME, Action.USE_TIME_TAB, Action.EXPORT_ALL, Action.USE_API]
)
def test_an_expired_tenant_blocks_tracking_export_and_api_for_everyone(action: Action) -> None:
    """No tracking, adding time, export or API — administrators included."""
    ctx = context(expired(), on=date(2027, 1, 2), role=Role.ADMINISTRATOR, collection_admin=True)
    decision = decide(ctx, action)
    assert (decision.allowed, decision.reason) == (False, R.EXPIRED)
    assert decision.payment_required


@pytest.mark.parametrize("action", SUBSCRIPTION_PAGE)
def test_an_expired_tenant_lets_collection_admins_open_the_subscription_page(action: Action) -> None:
    """Collection admins can still view the Subscription page and buy or reactivate."""
    ctx = context(expired(), on=date(2027, 1, 2), role=Role.NONE, licensed=False, collection_admin=True)
    assert decide(ctx, action).allowed


def test_an_expired_tenant_keeps_the_subscription_page_closed_to_others() -> None:
    """An Administrator who is not a collection admin gets expired there too."""
    ctx = context(expired(), on=date(2027, 1, 2), role=Role.ADMINISTRATOR)
    assert decide(ctx, Action.VIEW_SUBSCRIPTION).reason is R.EXPIRED


def test_an_expired_tenant_closes_user_management_too() -> None:
    """Only the Subscription page stays open when expired."""
    ctx = context(expired(), on=date(2027, 1, 2), collection_admin=True, role=Role.ADMINISTRATOR)
    assert decide(ctx, Action.MANAGE_USERS).reason is R.EXPIRED


def test_an_ended_trial_says_trial_expired() -> None:
    """After the trial the reason is trial_expired, whether or not the job has run yet."""
    for sub in (trial(), expire(trial(), ENDED_TRIAL_DAY)):
        assert decide(context(sub, on=ENDED_TRIAL_DAY), Action.TRACK_TIME).reason is R.TRIAL_EXPIRED


def test_a_running_trial_allows_use() -> None:
    """During a trial, a licensed Team user tracks time."""
    assert decide(context(trial(), on=ENDED_TRIAL_DAY - timedelta(days=1)), Action.TRACK_TIME).allowed


def test_access_continues_during_the_past_due_grace_and_stops_after_it() -> None:
    """Failed on Mar 1: allowed on Mar 14, expired on Mar 15."""
    sub = past_due(since=date(2026, 3, 1))
    assert decide(context(sub, on=date(2026, 3, 14)), Action.TRACK_TIME).allowed
    assert decide(context(sub, on=date(2026, 3, 15)), Action.TRACK_TIME).reason is R.EXPIRED


def test_a_cancelled_subscription_gives_access_until_its_period_ends() -> None:
    """Cancelled: allowed on the last day of the period, expired on the expiry day."""
    assert decide(context(cancelled(), on=date(2026, 12, 31)), Action.TRACK_TIME).allowed
    assert decide(context(cancelled(), on=date(2027, 1, 1)), Action.TRACK_TIME).reason is R.EXPIRED


def test_role_none_in_the_cloud_is_hidden() -> None:
    """The Time tab and its pages do not exist for role None in the cloud."""
    decision = decide(context(active(), role=Role.NONE), Action.USE_TIME_TAB)
    assert (decision.allowed, decision.reason, decision.hidden) == (False, R.ROLE_NONE, True)


def test_role_none_on_premises_shows_this_door_is_locked() -> None:
    """On-premises the tab is shown and every page says the door is locked."""
    ctx = context(active(), role=Role.NONE, deployment=Deployment.ONPREM)
    decision = decide(ctx, Action.USE_TIME_TAB)
    assert (decision.reason, decision.hidden, decision.message) == (
        R.ROLE_NONE,
        False,
        "This door is locked.",
    )


def test_role_none_in_the_cloud_stays_hidden_when_the_tenant_is_expired() -> None:
    """The tab never appears for role None in the cloud, whatever else is wrong."""
    decision = decide(context(expired(), on=date(2027, 2, 1), role=Role.NONE), Action.USE_TIME_TAB)
    assert decision.hidden


def test_a_collection_admin_with_role_none_in_the_cloud_is_not_hidden() -> None:
    """Collection admins need the tab to reach the Subscription page; they see a locked door."""
    ctx = context(active(), role=Role.NONE, collection_admin=True)
    decision = decide(ctx, Action.TRACK_TIME)
    assert (decision.reason, decision.hidden) == (R.ROLE_NONE, False)


def test_an_unlicensed_user_gets_no_seat() -> None:
    """Managers and administrators need a licence like everyone else."""
    ctx = context(active(), role=Role.ADMINISTRATOR, licensed=False)
    assert decide(ctx, Action.MANAGE_SETTINGS).reason is R.NO_SEAT


def test_no_seat_is_only_reported_when_a_licence_is_the_only_thing_missing() -> None:
    """An unlicensed Team user asking for everyone's worklogs is not_permitted, not no_seat."""
    ctx = context(active(), licensed=False)
    assert decide(ctx, Action.VIEW_ALL_WORKLOGS).reason is R.NOT_PERMITTED


def test_a_role_without_the_permission_gets_not_permitted() -> None:
    """Team may not manage budgets; Budget may."""
    assert decide(context(active()), Action.MANAGE_BUDGETS).reason is R.NOT_PERMITTED
    assert decide(context(active(), role=Role.BUDGET), Action.MANAGE_BUDGETS).allowed


def test_only_collection_admins_can_open_the_subscription_page() -> None:
    """An Administrator who is not a collection admin is not permitted."""
    ctx = context(active(), role=Role.ADMINISTRATOR)
    for action in (*SUBSCRIPTION_PAGE, Action.MANAGE_SUBSCRIPTION):
        assert decide(ctx, action).reason is R.NOT_PERMITTED


@pytest.mark.parametrize("action", sorted(COLLECTION_ADMIN_PAGES, key=lambda a: a.value))
def test_a_collection_admins_subscription_and_user_management_pages_need_no_seat_or_role(
    action: Action,
) -> None:
    """They are not "use" of the product."""
    ctx = context(active(), role=Role.NONE, licensed=False, collection_admin=True)
    assert decide(ctx, action).allowed


def test_a_collection_admin_needs_a_seat_and_a_role_for_everything_else() -> None:
    """Tracking time is use: role None is refused, an unlicensed Team user gets no_seat."""
    ctx = context(active(), licensed=False, collection_admin=True)
    assert decide(ctx, Action.TRACK_TIME).reason is R.NO_SEAT


def test_an_administrator_manages_users_without_being_a_collection_admin() -> None:
    """User Management is an Administrator permission too."""
    assert decide(context(active(), role=Role.ADMINISTRATOR), Action.MANAGE_USERS).allowed


def test_approving_weeks_needs_the_approval_manager_flag() -> None:
    """Even an Administrator approves only with the flag."""
    admin = context(active(), role=Role.ADMINISTRATOR)
    manager = context(active(), approval_manager=True)
    assert decide(admin, Action.APPROVE_WEEKS).reason is R.NOT_PERMITTED
    assert decide(manager, Action.APPROVE_WEEKS).allowed


def test_ensure_allowed_raises_access_denied_with_the_reason_as_its_code() -> None:
    """Services raise the decision; the web maps its code."""
    with pytest.raises(AccessDenied) as refused:
        ensure_allowed(context(active(), licensed=False), Action.TRACK_TIME)
    assert refused.value.code == "no_seat"
    ensure_allowed(context(active()), Action.TRACK_TIME)


_SUBSCRIPTIONS = st.sampled_from(
    [
        ("trial", trial(), TODAY + timedelta(days=3)),
        ("ended trial", trial(), ENDED_TRIAL_DAY),
        ("active", active(), date(2026, 6, 1)),
        ("past due", past_due(since=date(2026, 3, 1)), date(2026, 3, 20)),
        ("cancelled", cancelled(), date(2027, 1, 1)),
        ("expired", expired(), date(2027, 3, 1)),
    ]
)


@given(
    case=_SUBSCRIPTIONS,
    role=st.sampled_from(Role),
    licensed=st.booleans(),
    collection_admin=st.booleans(),
    approval_manager=st.booleans(),
    deployment=st.sampled_from(Deployment),
    action=st.sampled_from(Action),
)
def test_a_tenant_without_usable_subscription_allows_only_the_collection_admins_subscription_page_and_export(
    case: tuple[str, Subscription, date],
    role: Role,
    licensed: bool,
    collection_admin: bool,
    approval_manager: bool,
    deployment: Deployment,
    action: Action,
) -> None:
    """Any user, any action: when the subscription gives no access, only that page (and taking
    the data out) is open."""
    _, sub, on = case
    ctx = context(
        sub,
        on=on,
        role=role,
        licensed=licensed,
        collection_admin=collection_admin,
        approval_manager=approval_manager,
        deployment=deployment,
    )
    decision = decide(ctx, action)
    if case[0] in {"trial", "active"}:
        return
    open_when_expired = {*SUBSCRIPTION_PAGE, Action.EXPORT_TENANT_DATA}
    assert decision.allowed == (collection_admin and action in open_when_expired)
    if not decision.allowed:
        assert decision.reason in {R.EXPIRED, R.TRIAL_EXPIRED}


@given(
    role=st.sampled_from(Role),
    licensed=st.booleans(),
    collection_admin=st.booleans(),
    action=st.sampled_from(Action),
)
def test_every_refusal_has_a_reason_and_every_allowance_has_none(
    role: Role, licensed: bool, collection_admin: bool, action: Action
) -> None:
    """allowed and reason never disagree."""
    decision = decide(
        context(active(), role=role, licensed=licensed, collection_admin=collection_admin), action
    )
    assert decision.allowed == (decision.reason is None)
    assert not (decision.allowed and decision.hidden)


def test_an_expired_tenants_collection_admin_can_still_take_all_the_data_out() -> None:
    """The retention period keeps the data for its owners: no purchase needed to export it."""
    ctx = context(expired(), role=Role.NONE, licensed=False, collection_admin=True)
    assert decide(ctx, Action.EXPORT_TENANT_DATA).allowed


def test_the_tenant_export_is_for_administrators_and_closes_to_them_when_expired() -> None:
    """Product users may export worklogs, not the whole tenant; an Administrator who does not
    own the organisation needs a usable subscription like for everything else."""
    assert decide(context(active(), role=Role.ADMINISTRATOR), Action.EXPORT_TENANT_DATA).allowed
    assert decide(context(active(), role=Role.PRODUCT), Action.EXPORT_TENANT_DATA).reason is R.NOT_PERMITTED
    assert decide(context(expired(), role=Role.ADMINISTRATOR), Action.EXPORT_TENANT_DATA).reason is R.EXPIRED
