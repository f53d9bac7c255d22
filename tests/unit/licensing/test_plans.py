"""The plan catalogue of SPEC §2: defaults, prices, limits, and plans as operator-edited data."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from core.errors import PlanNotAvailable, ValidationFailed
from core.licensing import (
    DEFAULT_CATALOGUE,
    DEFAULT_PLANS,
    Deployment,
    PlanCatalogue,
    PlanScope,
    plan_from_dict,
    plan_to_dict,
)
from core.periods import Interval

from .builders import plan


def test_the_default_catalogue_has_the_six_plans_of_the_spec() -> None:
    """The defaults are Free, Start, Team, Ultimate and the two legacy plans, by their API ids."""
    assert DEFAULT_CATALOGUE.ids == (
        "free", "start", "team", "ultimate", "legacy_services", "legacy_server",
    )  # fmt: skip


def test_plans_carry_the_display_names_of_the_spec() -> None:
    """Display names are those of SPEC §2, legacy plans with their former names."""
    assert [p.name for p in DEFAULT_PLANS] == [
        "Free",
        "Start",
        "Team",
        "Ultimate",
        "Legacy DevOps Services (formerly VSTS)",
        "Legacy DevOps Server (formerly TFS)",
    ]


@pytest.mark.parametrize(
    ("plan_id", "annual", "monthly"),
    [
        ("free", 0, 0),
        ("start", 700, 900),
        ("team", 1200, 1500),
        ("ultimate", 1600, 2000),
        ("legacy_services", 1000, 1200),
        ("legacy_server", 1000, 1200),
    ],
)
def test_each_plan_has_the_monthly_prices_of_the_spec(plan_id: str, annual: int, monthly: int) -> None:
    """Prices per user per month, billed annually and billed monthly, are those of SPEC §2."""
    assert plan(plan_id).monthly_price_annual_billing == annual
    assert plan(plan_id).monthly_price_monthly_billing == monthly


def test_an_annual_seat_costs_twelve_times_the_billed_annually_monthly_price() -> None:
    """Team annual is 12 × 12.00 = 144.00 per seat per year."""
    assert plan("team").seat_price(Interval.ANNUAL) == 14400


def test_a_monthly_seat_costs_the_billed_monthly_price() -> None:
    """Team monthly is 15.00 per seat per month."""
    assert plan("team").seat_price(Interval.MONTHLY) == 1500


@pytest.mark.parametrize(
    ("plan_id", "deployments"),
    [
        ("free", {"cloud"}),
        ("start", {"cloud"}),
        ("team", {"cloud", "onprem"}),
        ("ultimate", {"cloud", "onprem"}),
        ("legacy_services", {"cloud"}),
        ("legacy_server", {"cloud", "onprem"}),
    ],
)
def test_each_plan_is_offered_for_the_deployments_of_the_spec(plan_id: str, deployments: set[str]) -> None:
    """Free, Start and Legacy DevOps Services are cloud only; the others also on-premises."""
    assert plan(plan_id).deployments == deployments


@pytest.mark.parametrize(
    ("plan_id", "scope"),
    [
        ("free", PlanScope.TENANT),
        ("start", PlanScope.TENANT),
        ("team", PlanScope.TENANT),
        ("ultimate", PlanScope.ENTERPRISE),
        ("legacy_services", PlanScope.TENANT),
        ("legacy_server", PlanScope.ENTERPRISE),
    ],
)
def test_ultimate_and_legacy_server_cover_every_tenant_of_the_enterprise(
    plan_id: str, scope: PlanScope
) -> None:
    """Only the "unlimited instances" plans attach to the enterprise; the rest cover one tenant."""
    assert plan(plan_id).scope is scope


@pytest.mark.parametrize(
    ("plan_id", "min_users", "max_users"),
    [
        ("free", 1, 3),
        ("start", 1, 19),
        ("team", 1, 299),
        ("ultimate", 20, None),
        ("legacy_services", 1, None),
        ("legacy_server", 1, None),
    ],
)
def test_each_plan_has_the_user_range_of_the_spec(
    plan_id: str, min_users: int, max_users: int | None
) -> None:
    """Free at most 3, Start 1–19, Team 1–299, Ultimate 20+, legacy plans any number."""
    assert (plan(plan_id).min_users, plan(plan_id).max_users) == (min_users, max_users)


def test_only_the_legacy_plans_are_not_purchasable() -> None:
    """Legacy plans exist for existing subscriptions only."""
    assert {p.id for p in DEFAULT_PLANS if not p.purchasable} == {"legacy_services", "legacy_server"}


def test_free_allows_500_worklogs_per_tenant_and_start_1000_per_user() -> None:
    """The plan limits of SPEC §2; the other plans have none."""
    assert (plan("free").worklog_limit_per_tenant, plan("free").worklog_limit_per_user) == (500, None)
    assert (plan("start").worklog_limit_per_tenant, plan("start").worklog_limit_per_user) == (None, 1000)
    others = [p for p in DEFAULT_PLANS if p.id not in {"free", "start"}]
    assert all(p.worklog_limit_per_tenant is None and p.worklog_limit_per_user is None for p in others)


def test_only_free_is_free() -> None:
    """A plan is free when it costs nothing on either interval."""
    assert [p.id for p in DEFAULT_PLANS if p.is_free] == ["free"]


def test_an_unknown_plan_id_is_a_plan_that_is_not_available() -> None:
    """Asking the catalogue for a plan it does not have raises PlanNotAvailable."""
    with pytest.raises(PlanNotAvailable):
        DEFAULT_CATALOGUE.get("platinum")


def test_the_purchase_page_offers_only_purchasable_plans_of_the_deployment() -> None:
    """On-premises a new subscription can choose Team or Ultimate only."""
    assert [p.id for p in DEFAULT_CATALOGUE.purchasable_for(Deployment.ONPREM)] == ["team", "ultimate"]
    assert [p.id for p in DEFAULT_CATALOGUE.purchasable_for(Deployment.CLOUD)] == [
        "free", "start", "team", "ultimate",
    ]  # fmt: skip


def test_an_operator_edit_returns_a_new_catalogue_and_leaves_the_old_one() -> None:
    """Replacing a plan's price builds a new catalogue; the default is untouched."""
    cheaper = replace(plan("team"), monthly_price_annual_billing=1100)
    edited = DEFAULT_CATALOGUE.with_plan(cheaper)
    assert edited.get("team").monthly_price_annual_billing == 1100
    assert DEFAULT_CATALOGUE.get("team").monthly_price_annual_billing == 1200
    assert edited.ids == DEFAULT_CATALOGUE.ids


def test_a_catalogue_refuses_two_plans_with_one_id() -> None:
    """Plan ids are unique."""
    with pytest.raises(ValidationFailed) as refused:
        PlanCatalogue.of([plan("team"), plan("team")])
    assert refused.value.field == "id"


@pytest.mark.parametrize("default", DEFAULT_PLANS, ids=lambda p: p.id)
def test_a_plan_survives_a_round_trip_through_a_plain_dict(default: Any) -> None:
    """plan_from_dict reads back exactly what plan_to_dict wrote."""
    assert plan_from_dict(plan_to_dict(default)) == default


def _team_dict(**changes: Any) -> dict[str, Any]:
    data = plan_to_dict(plan("team"))
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("min_users", "1"),
        ("min_users", True),
        ("monthly_price_annual_billing", 12.5),
        ("monthly_price_monthly_billing", -1),
        ("max_users", 0),
        ("purchasable", "yes"),
        ("deployments", ["cloud", "mainframe"]),
        ("deployments", []),
        ("deployments", ["cloud", "cloud"]),
        ("scope", "galaxy"),
        ("id", "Team Plan"),
        ("name", " "),
        ("currency", "usd"),
        ("worklog_limit_per_user", 0),
    ],
)
def test_a_plan_dict_with_a_bad_field_is_refused_naming_the_field(field: str, value: Any) -> None:
    """Operators' typos fail with ValidationFailed whose field says what was wrong."""
    with pytest.raises(ValidationFailed) as refused:
        plan_from_dict(_team_dict(**{field: value}))
    assert refused.value.field == field


def test_a_plan_dict_with_an_unknown_field_is_refused() -> None:
    """Strict reading: a field the plan does not have is an error, not ignored."""
    with pytest.raises(ValidationFailed) as refused:
        plan_from_dict(_team_dict(discount=10))
    assert refused.value.field == "discount"


def test_a_plan_dict_with_a_missing_field_is_refused() -> None:
    """Strict reading: every field must be present."""
    data = _team_dict()
    del data["max_users"]
    with pytest.raises(ValidationFailed) as refused:
        plan_from_dict(data)
    assert refused.value.field == "max_users"


def test_a_plan_that_is_not_a_dict_is_refused() -> None:
    """A list or a string is not a plan."""
    with pytest.raises(ValidationFailed):
        plan_from_dict(["team"])
