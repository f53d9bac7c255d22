"""The trial banner of SPEC §6: collection admins only, only while the trial runs."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

from core.licensing import Banner, Role, banner

from .builders import TODAY, active, context, trial


def test_collection_admins_see_the_banner_with_the_days_left_during_a_trial() -> None:
    """At noon on day one of a 28-day trial, 28 days are left (27.5 rounded up)."""
    assert banner(context(trial(), collection_admin=True)) == Banner(True, 28)


def test_users_who_are_not_collection_admins_never_see_the_banner() -> None:
    """An Administrator who is not a collection admin does not see it."""
    assert banner(context(trial(), role=Role.ADMINISTRATOR)) == Banner(False, None)


def test_the_banner_disappears_after_a_purchase() -> None:
    """Only while trialing."""
    assert not banner(context(active(), collection_admin=True)).visible


def test_the_banner_disappears_when_the_trial_has_ended() -> None:
    """On the trial's end day there is nothing left to count down."""
    ctx = context(trial(), on=TODAY + timedelta(days=28), collection_admin=True)
    assert not banner(ctx).visible


def test_the_banner_counts_down_on_the_last_day() -> None:
    """On the last trial day one (partial) day is left."""
    ctx = context(trial(), on=TODAY + timedelta(days=27), collection_admin=True)
    assert banner(ctx) == Banner(True, 1)


def test_the_countdown_follows_the_billing_time_zone() -> None:
    """At 23:00 UTC on the last day, a tenant in UTC+2 has already ended its trial."""
    ctx = context(trial(), collection_admin=True)
    late = datetime(2026, 1, 28, 23, tzinfo=UTC)
    assert banner(replace(ctx, now=late)) == Banner(True, 1)
    assert not banner(replace(ctx, now=late, time_zone=timezone(timedelta(hours=2)))).visible


def test_an_uninstalled_tenant_shows_no_banner() -> None:
    """Nothing is shown where the product is not installed."""
    assert not banner(context(trial(), collection_admin=True, tenant_uninstalled=True)).visible
