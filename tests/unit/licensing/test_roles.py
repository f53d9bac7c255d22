"""Roles of SPEC §6: each includes the ones below it; approval is a separate flag."""

from __future__ import annotations

import pytest

from core.licensing import DEFAULT_ROLE, Permission, Role, role_allows, user_may

TEAM_PERMISSIONS = {
    Permission.TRACK_TIME,
    Permission.OWN_WORKLOGS,
    Permission.OWN_TIMESHEET,
    Permission.EXPORT_OWN,
    Permission.SUBMIT_OWN_WEEK,
    Permission.USE_REPORTING,
}
PRODUCT_PERMISSIONS = TEAM_PERMISSIONS | {
    Permission.VIEW_ALL_WORKLOGS,
    Permission.VIEW_REPORTS,
    Permission.EXPORT_ALL,
}
BUDGET_PERMISSIONS = PRODUCT_PERMISSIONS | {Permission.MANAGE_BUDGETS}
ADMINISTRATOR_PERMISSIONS = set(Permission) - {Permission.APPROVE_WEEKS}


def _granted(role: Role) -> set[Permission]:
    return {permission for permission in Permission if role_allows(role, permission)}


def test_role_none_may_do_nothing() -> None:
    """None has no permission at all."""
    assert _granted(Role.NONE) == set()


def test_team_may_track_time_and_handle_its_own_worklogs_timesheet_export_and_weeks() -> None:
    """Team: track time; own worklogs, timesheet, export; submit own weeks; the Reporting API
    (which shows them their own worklogs only)."""
    assert _granted(Role.TEAM) == TEAM_PERMISSIONS


def test_product_adds_everyones_worklogs_reports_and_export_to_team() -> None:
    """Product: Team + see and export everyone's worklogs and reports."""
    assert _granted(Role.PRODUCT) == PRODUCT_PERMISSIONS


def test_budget_adds_managing_budgets_to_product() -> None:
    """Budget: Product + manage budgets."""
    assert _granted(Role.BUDGET) == BUDGET_PERMISSIONS


def test_administrator_may_do_everything_including_settings_rules_and_users() -> None:
    """Administrator: every role permission."""
    assert _granted(Role.ADMINISTRATOR) == ADMINISTRATOR_PERMISSIONS


@pytest.mark.parametrize("higher", list(Role))
@pytest.mark.parametrize("lower", list(Role))
def test_each_role_includes_the_lower_ones(higher: Role, lower: Role) -> None:
    """Whatever a lower role may do, every higher role may do too."""
    if higher.rank >= lower.rank:
        assert _granted(lower) <= _granted(higher)


def test_approving_weeks_comes_from_the_approval_manager_flag_not_a_role() -> None:
    """No role grants approval, not even Administrator; the flag does."""
    assert not any(role_allows(role, Permission.APPROVE_WEEKS) for role in Role)
    assert user_may(Role.TEAM, Permission.APPROVE_WEEKS, approval_manager=True)
    assert not user_may(Role.ADMINISTRATOR, Permission.APPROVE_WEEKS, approval_manager=False)


def test_the_approval_manager_flag_does_not_lift_role_none() -> None:
    """None may do nothing, even with the flag."""
    assert not user_may(Role.NONE, Permission.APPROVE_WEEKS, approval_manager=True)


def test_the_default_role_is_team() -> None:
    """Users not given another role get Team unless the tenant changes it."""
    assert DEFAULT_ROLE is Role.TEAM


def test_roles_have_their_api_ids_and_display_names() -> None:
    """Ids none…administrator; display names as in SPEC."""
    assert [r.value for r in Role] == ["none", "team", "product", "budget", "administrator"]
    assert [r.display_name for r in Role] == ["None", "Team", "Product", "Budget", "Administrator"]
