"""Work item automation settings (core.tracking.automation): what each setting writes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.errors import ValidationFailed
from core.tracking.automation import (
    FieldsWritten,
    PendingChange,
    PlannedFields,
    RemainingMode,
    RemainingNotPerWorklog,
    WorkItemAutomation,
    automation_settings,
    check_remaining_given,
    planned_fields,
    remaining_hours,
)

D = Decimal


def plan(
    settings: WorkItemAutomation, *changes: PendingChange, remaining: Decimal | None = D("8")
) -> PlannedFields:
    return planned_fields(settings, tracked_s=5400, current_remaining=remaining, changes=changes)


def test_the_defaults_are_the_behaviour_from_before_there_were_settings() -> None:
    settings = WorkItemAutomation()
    assert settings == WorkItemAutomation(True, FieldsWritten.BOTH, RemainingMode.REDUCE)
    assert plan(settings, PendingChange(3600)) == PlannedFields(D("1.5"), D("7.00"))


def test_leave_writes_completed_work_only() -> None:
    settings = WorkItemAutomation(remaining=RemainingMode.LEAVE)
    assert plan(settings, PendingChange(3600, D("2"))) == PlannedFields(D("1.5"), None)


def test_per_worklog_writes_the_value_set_on_the_latest_worklog_that_set_one() -> None:
    settings = WorkItemAutomation(remaining=RemainingMode.PER_WORKLOG)
    changes = (PendingChange(3600, D("5")), PendingChange(1800, D("3.25")), PendingChange(600))
    assert plan(settings, *changes) == PlannedFields(D("1.5"), D("3.25"))
    assert plan(settings, PendingChange(600)) == PlannedFields(D("1.5"), None)


def test_completed_only_never_writes_remaining_work_and_remaining_only_never_completed() -> None:
    completed_only = WorkItemAutomation(fields=FieldsWritten.COMPLETED)
    assert plan(completed_only, PendingChange(3600)) == PlannedFields(D("1.5"), None)
    remaining_only = WorkItemAutomation(fields=FieldsWritten.REMAINING)
    assert plan(remaining_only, PendingChange(3600)) == PlannedFields(None, D("7.00"))


def test_off_or_no_field_writes_nothing() -> None:
    for settings in (WorkItemAutomation(enabled=False), WorkItemAutomation(fields=FieldsWritten.NONE)):
        assert not settings.active
        assert plan(settings, PendingChange(3600, D("1"))) == PlannedFields(None, None)


def test_an_item_without_an_estimate_is_not_given_one_by_reducing() -> None:
    assert plan(WorkItemAutomation(), PendingChange(3600), remaining=None) == PlannedFields(D("1.5"), None)


def test_unknown_choices_are_refused_naming_the_field() -> None:
    with pytest.raises(ValidationFailed) as fields:
        automation_settings(True, "all", "reduce")
    assert fields.value.field == "fields"
    with pytest.raises(ValidationFailed) as remaining:
        automation_settings(True, "both", "halve")
    assert remaining.value.field == "remaining"
    assert automation_settings(False, "completed", "leave") == WorkItemAutomation(
        False, FieldsWritten.COMPLETED, RemainingMode.LEAVE
    )


@pytest.mark.parametrize("value", ["-1", "100000.01", "1.234", "NaN", "Infinity", "abc"])
def test_a_remaining_work_out_of_range_or_too_precise_is_refused(value: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        remaining_hours(value)
    assert refused.value.field == "remaining_h"


def test_a_remaining_work_is_kept_to_two_decimals() -> None:
    assert remaining_hours("2.5") == D("2.50")
    assert remaining_hours(0) == D("0.00")


def test_a_worklog_may_carry_remaining_work_only_for_a_work_item_in_per_worklog_mode() -> None:
    per_worklog = WorkItemAutomation(remaining=RemainingMode.PER_WORKLOG)
    assert check_remaining_given(per_worklog, "42", D("3")) == D("3.00")
    assert check_remaining_given(WorkItemAutomation(), "42", None) is None
    with pytest.raises(ValidationFailed):
        check_remaining_given(per_worklog, None, D("3"))
    for settings in (
        WorkItemAutomation(),
        WorkItemAutomation(enabled=False, remaining=RemainingMode.PER_WORKLOG),
        WorkItemAutomation(fields=FieldsWritten.COMPLETED, remaining=RemainingMode.PER_WORKLOG),
    ):
        with pytest.raises(RemainingNotPerWorklog) as refused:
            check_remaining_given(settings, "42", D("3"))
        assert refused.value.code == "remaining_work_not_per_worklog"
