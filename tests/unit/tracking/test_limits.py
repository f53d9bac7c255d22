"""Plan limits on the number of worklogs."""

from __future__ import annotations

import pytest

from core.errors import StintError
from core.tracking import WorklogLimitReached, check_worklog_limit


def test_adding_below_the_limits_is_allowed() -> None:
    """499 of 500 leaves room for one."""
    check_worklog_limit(499, 10, 500, None)
    check_worklog_limit(10, 999, None, 1000)
    check_worklog_limit(10**6, 10**6, None, None)


def test_the_free_plans_tenant_limit_refuses_the_501st_worklog() -> None:
    """Free: 500 worklogs per tenant, with a stable error code."""
    with pytest.raises(WorklogLimitReached) as caught:
        check_worklog_limit(500, 3, 500, None)
    assert caught.value.code == "worklog_limit"
    assert caught.value.extra["scope"] == "tenant"
    assert isinstance(caught.value, StintError)


def test_the_start_plans_user_limit_refuses_the_1001st_worklog_of_a_user() -> None:
    """Start: 1,000 worklogs per user."""
    with pytest.raises(WorklogLimitReached) as caught:
        check_worklog_limit(5000, 1000, None, 1000)
    assert caught.value.extra["scope"] == "user"


def test_an_import_that_would_pass_the_limit_is_refused_whole() -> None:
    """Adding many at once counts them all."""
    check_worklog_limit(400, 0, 500, None, adding=100)
    with pytest.raises(WorklogLimitReached):
        check_worklog_limit(400, 0, 500, None, adding=101)
