"""A Hypothesis state machine over the pure licensing model: subscription, seats, roles and access.

The model plays the services' part — it calls the core functions the way a use
case would, and releases licences where the core says seats shrank — and after
every step checks the rules that must hold whatever happened before:
licensed users ≤ seats, only allowed status transitions, an expired tenant open
only on the collection admin's Subscription page, role None never let in, and
the trial banner for collection admins only while trialing.
"""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from core.errors import Conflict, PlanNotAvailable, SeatLimit
from core.licensing import (
    COLLECTION_ADMIN_PAGES,
    DEFAULT_CATALOGUE,
    AccessContext,
    Action,
    AutoLicensing,
    DenialReason,
    Deployment,
    DueAction,
    Role,
    SeatPool,
    Subscription,
    SubscriptionStatus,
    apply_due,
    banner,
    cancel,
    change_plan,
    change_seats,
    decide,
    end_trial,
    expire,
    extend_trial,
    is_allowed_transition,
    is_usable,
    keep_most_recent,
    keep_on_conversion,
    licence_on_first_use,
    payment_failed,
    payment_succeeded,
    purchase,
    reactivate,
    resume,
    start_trial,
    unusable_reason,
)
from core.periods import Interval

from .builders import noon

USERS = ("ada", "bo", "cy", "di")
# The Subscription page, and taking the tenant's data out during the retention period.
OPEN_WHEN_EXPIRED = {Action.VIEW_SUBSCRIPTION, Action.PURCHASE, Action.EXPORT_TENANT_DATA}
users = st.sampled_from(USERS)
# Mostly fewer seats than users, so pools fill up; sometimes enough for Ultimate's 20.
seat_counts = st.integers(1, 4) | st.sampled_from([19, 20, 25])
plan_ids = st.sampled_from(DEFAULT_CATALOGUE.ids)


class LicensingMachine(RuleBasedStateMachine):
    """One tenant: its subscription, its users' roles, licences and last use, and a calendar."""

    @initialize(
        deployment=st.sampled_from(Deployment),
        trial_days=st.integers(1, 40),
        policy=st.sampled_from(AutoLicensing),
    )
    def sign_up(self, deployment: Deployment, trial_days: int, policy: AutoLicensing) -> None:
        self.today = date(2026, 1, 31)
        self.deployment = deployment
        self.policy = policy
        self.sub = start_trial(self.today, trial_days)
        self.roles = dict.fromkeys(USERS, Role.TEAM) | {"ada": Role.ADMINISTRATOR}
        self.collection_admins = {"ada"}
        self.licensed: set[str] = set()
        self.last_used: dict[str, date] = {}

    # -- helpers ---------------------------------------------------------------------

    def _move(self, new: Subscription) -> None:
        # An unchanged subscription (a repeated request) is no transition at all.
        if new == self.sub:
            return
        assert is_allowed_transition(self.sub.status, new.status), (self.sub.status, new.status)
        self.sub = new

    def _context(self, user: str) -> AccessContext:
        return AccessContext(
            deployment=self.deployment,
            subscription=self.sub,
            now=noon(self.today),
            role=self.roles[user],
            licensed=user in self.licensed,
            collection_admin=user in self.collection_admins,
        )

    def _pool(self) -> SeatPool:
        return SeatPool(self.sub.seats, len(self.licensed))

    def _licensed_users(self) -> list[tuple[str, date | None]]:
        return [(user, self.last_used.get(user)) for user in sorted(self.licensed)]

    def _fit_licences_to_seats(self) -> None:
        # What the services do when the core shrank the seats (a renewal onto Free).
        if self.sub.seats is not None and len(self.licensed) > self.sub.seats:
            keep, _ = keep_most_recent(self._licensed_users(), self.sub.seats)
            self.licensed = set(keep)

    # -- the calendar and the background job ------------------------------------------

    @rule(days=st.integers(1, 45))
    def days_pass(self, days: int) -> None:
        self.today += timedelta(days=days)

    @rule()
    def background_job_runs(self) -> None:
        for _ in range(40):
            new, due = apply_due(self.sub, self.today)
            self._move(new)
            self._fit_licences_to_seats()
            if due.action is DueAction.NOTHING:
                break
        assert apply_due(self.sub, self.today)[1].action is DueAction.NOTHING

    # -- users ------------------------------------------------------------------------

    @rule(user=users, action=st.sampled_from(Action))
    def user_acts(self, user: str, action: Action) -> None:
        decision = decide(self._context(user), action)
        if decision.reason is DenialReason.NO_SEAT:
            first = licence_on_first_use(self._pool(), self.policy, already_licensed=False)
            if first.licensed:
                self.licensed.add(user)
                decision = decide(self._context(user), action)
                assert decision.allowed
        if decision.allowed:
            self.last_used[user] = self.today

    @rule(user=users, role=st.sampled_from(Role))
    def admin_sets_role(self, user: str, role: Role) -> None:
        self.roles[user] = role

    @rule(user=users)
    def collection_admin_flag_flips(self, user: str) -> None:
        self.collection_admins ^= {user}

    @rule(user=users)
    def admin_assigns_seat(self, user: str) -> None:
        if user in self.licensed:
            return
        try:
            self._pool().license_one()
        except SeatLimit:
            assert not self._pool().can_license_one()
        else:
            self.licensed.add(user)

    @rule(user=users)
    def admin_unassigns_seat(self, user: str) -> None:
        self.licensed.discard(user)

    # -- the subscription -------------------------------------------------------------

    @rule(plan_id=plan_ids, interval=st.sampled_from(Interval), seats=seat_counts)
    def collection_admin_buys(self, plan_id: str, interval: Interval, seats: int) -> None:
        before = self.sub
        try:
            new = purchase(
                before,
                DEFAULT_CATALOGUE.get(plan_id),
                interval,
                seats,
                self.today,
                deployment=self.deployment,
            )
        except (Conflict, PlanNotAvailable, SeatLimit):
            return
        self._move(new)
        if not before.is_paid:
            keep, _ = keep_on_conversion(self._licensed_users(), self.today, seats)
            self.licensed = set(keep)
        self._fit_licences_to_seats()

    @rule(seats=seat_counts)
    def collection_admin_changes_seats(self, seats: int) -> None:
        try:
            new = change_seats(self.sub, DEFAULT_CATALOGUE.get(self.sub.plan_id), seats, len(self.licensed))
        except (Conflict, SeatLimit):
            return
        self._move(new)

    @rule(plan_id=plan_ids, seats=seat_counts)
    def collection_admin_changes_plan(self, plan_id: str, seats: int) -> None:
        current = DEFAULT_CATALOGUE.get(self.sub.plan_id)
        try:
            new = change_plan(
                self.sub, current, DEFAULT_CATALOGUE.get(plan_id), seats, self.deployment, len(self.licensed)
            )
        except (Conflict, PlanNotAvailable, SeatLimit):
            return
        self._move(new)

    @rule()
    def collection_admin_cancels(self) -> None:
        try:
            self._move(cancel(self.sub))
        except Conflict:
            assert self.sub.status is not SubscriptionStatus.ACTIVE

    @rule()
    def collection_admin_resumes(self) -> None:
        try:
            self._move(resume(self.sub, self.today))
        except Conflict:
            assert self.sub.status is not SubscriptionStatus.CANCELLED or not is_usable(self.sub, self.today)

    @rule()
    def a_payment_fails(self) -> None:
        try:
            self._move(payment_failed(self.sub, self.today))
        except Conflict:
            assert self.sub.status not in (SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE)

    @rule()
    def a_payment_succeeds(self) -> None:
        try:
            self._move(payment_succeeded(self.sub))
        except Conflict:
            assert self.sub.status not in (SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE)

    @rule()
    def expiry_is_recorded(self) -> None:
        try:
            self._move(expire(self.sub, self.today))
        except Conflict:
            assert unusable_reason(self.sub, self.today) is None

    @precondition(lambda self: unusable_reason(self.sub, self.today) is not None)
    @rule()
    def collection_admin_reactivates(self) -> None:
        try:
            self._move(reactivate(self.sub, self.today))
        except Conflict:
            assert not self.sub.is_paid or self.sub.status is SubscriptionStatus.PAST_DUE
            return
        assert unusable_reason(self.sub, self.today) is None

    @rule(days=st.integers(1, 30))
    def operator_extends_the_trial(self, days: int) -> None:
        try:
            self._move(extend_trial(self.sub, self.today + timedelta(days=days), self.today))
        except Conflict:
            assert self.sub.status is not SubscriptionStatus.TRIALING

    @rule()
    def operator_ends_the_trial(self) -> None:
        try:
            self._move(end_trial(self.sub, self.today))
        except Conflict:
            assert self.sub.status is not SubscriptionStatus.TRIALING

    # -- invariants -------------------------------------------------------------------

    @invariant()
    def licensed_users_never_exceed_paid_seats(self) -> None:
        assert self.sub.seats is None or len(self.licensed) <= self.sub.seats

    @invariant()
    def access_follows_the_rules(self) -> None:
        expired = unusable_reason(self.sub, self.today) is not None
        for user in USERS:
            ctx = self._context(user)
            for action in Action:
                decision = decide(ctx, action)
                exempt = ctx.collection_admin and action in COLLECTION_ADMIN_PAGES
                if expired:
                    # Nothing but the collection admin's Subscription page and data export.
                    assert decision.allowed == (ctx.collection_admin and action in OPEN_WHEN_EXPIRED)
                if ctx.role is Role.NONE and not exempt:
                    assert not decision.allowed
                if decision.allowed and not exempt:
                    assert ctx.licensed
                if decision.hidden:
                    assert self.deployment is Deployment.CLOUD and ctx.role is Role.NONE

    @invariant()
    def the_banner_shows_only_to_collection_admins_while_trialing(self) -> None:
        trialing = (
            self.sub.status is SubscriptionStatus.TRIALING
            and self.sub.trial_ends_on is not None
            and self.today < self.sub.trial_ends_on
        )
        for user in USERS:
            shown = banner(self._context(user))
            assert shown.visible == (user in self.collection_admins and trialing)
            assert (shown.days_left is not None and shown.days_left > 0) == shown.visible


TestLicensingMachine = LicensingMachine.TestCase
# Examples come from the loaded profile; fewer steps per example keep the file fast,
# and 30 steps already reach every status through purchases, days passing and jobs.
TestLicensingMachine.settings = settings(stateful_step_count=30)
TestLicensingMachine.__doc__ = "Random sequences of licensing steps never break the invariants."
