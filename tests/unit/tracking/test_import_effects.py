"""An import's work-item effects: one per work item, carrying all of its imported time."""

from __future__ import annotations

from core.services.tracking_common import import_effects
from tests.unit.tracking.factories import a_worklog


def test_an_import_queues_one_effect_per_work_item_with_the_sum_of_its_time() -> None:
    worklogs = [
        a_worklog(worklog_id="w1", work_item="7", length_s=900),
        a_worklog(worklog_id="w2", work_item="42", length_s=3600),
        a_worklog(worklog_id="w3", work_item="7", length_s=1800),
        a_worklog(worklog_id="w4", work_item=None, length_s=600),
    ]

    effects = import_effects(worklogs, "imp1")

    assert [(item, delta) for item, _, delta in effects] == [("42", 3600), ("7", 2700)]
    assert len({key for _, key, _ in effects}) == 2
    assert all(key.startswith("import:imp1:") for _, key, _ in effects)


def test_an_item_total_beyond_the_outbox_column_is_split_into_effects_that_add_up() -> None:
    """30,000 day-long worklogs on one item: 2,592,000,000 s, past a 32-bit column; split in two."""
    worklogs = [a_worklog(worklog_id=f"w{n}", work_item="7", length_s=86_400) for n in range(30_000)]

    effects = import_effects(worklogs, "imp1")

    assert [delta for _, _, delta in effects] == [2**31 - 1, 86_400 * 30_000 - (2**31 - 1)]
    assert len({key for _, key, _ in effects}) == 2


def test_an_import_without_work_items_queues_nothing() -> None:
    assert import_effects([a_worklog(work_item=None)], "imp1") == []
