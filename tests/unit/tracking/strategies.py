"""Hypothesis strategies for valid worklogs, with text that tempts formula injection."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import strategies as st

from core.tracking import Worklog, WorklogFlag, create_worklog, draft_worklog
from tests.unit.tracking.factories import USERS

_plain = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\ufffe\uffff")
    | st.sampled_from("\n\t"),
    max_size=40,
)
_tempting = st.builds(
    lambda start, rest: start + rest,
    st.sampled_from(["=", "+", "-", "@", "'", "''", "\t", "'=", "-1", "+1.5", " ="]),
    _plain,
)
texts = st.one_of(st.none(), _plain, _tempting)
names = st.one_of(st.none(), st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\ufffe\uffff"),
    max_size=20,
), _tempting.map(lambda text: text.replace("\n", " ").replace("\t", " ")))


@st.composite
def worklogs(draw: st.DrawFn) -> Worklog:
    length = draw(st.integers(min_value=1, max_value=24 * 3600))
    draft = draft_worklog(
        draw(st.sampled_from(sorted(USERS))),
        draw(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1),
                          timezones=st.just(UTC))),
        length,
        billable_length_s=draw(st.integers(min_value=0, max_value=length)),
        work_item=draw(names),
        comment=draw(texts),
        activity_type=draw(names),
        origin=draw(st.sampled_from([WorklogFlag.MANUAL, WorklogFlag.TRACKED])),
    )
    return create_worklog(draft, "w")


def exported_fields(worklog: Worklog) -> tuple[object, ...]:
    """The fields an export carries, to compare a worklog with its re-import."""
    return (
        worklog.user_id,
        worklog.started_at,
        worklog.length_s,
        worklog.billable_length_s,
        worklog.activity_type,
        worklog.comment,
        worklog.work_item,
    )
