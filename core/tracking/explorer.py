"""The team-wide worklog list (the Times Explorer): what a query selects, and its grouping.

:class:`WorklogQuery` is what the storage applies in SQL: every filter is already reduced
to columns of the worklog row (iterations and budgets become sets of work items and
worklog ids before the query; see :func:`core.services.explorer`). :func:`group_worklogs`
sums worklogs into one or two levels of groups; amounts are summed from lines rounded once
each (``price`` is called per worklog), never rounded again.

At scale the sums are made by the storage (``TrackingRepository.explore_totals``): it
groups the matching rows in SQL by what a :class:`TotalsBy` names and answers
:class:`WorklogTotals` — partial sums that :func:`fold_totals` folds into the same groups
:func:`group_worklogs` makes from single worklogs (through :func:`group_totals`).
:class:`PriceRules` carries the rates into SQL so that each *worklog* is still rounded once
there (see the storage's comment).

The pieces live in their own modules, each one concept: the query and its page
(:mod:`core.tracking.explorer_query`), the grouping (:mod:`core.tracking.explorer_groups`)
and the sums in SQL (:mod:`core.tracking.explorer_totals`). This module re-exports them;
import from here.
"""

from core.tracking.explorer_groups import (
    KEY_NAMES,
    FoldLine,
    GroupBy,
    GroupKey,
    KeyValue,
    Subtotal,
    WorklogGroup,
    day_key,
    day_value,
    fold_totals,
    group_totals,
    group_worklogs,
    parse_group_by,
)
from core.tracking.explorer_groups import KeyFacts as KeyFacts  # public, though never in __all__
from core.tracking.explorer_query import ExplorerRows, PageShape, UserWindow, WorklogQuery, bound, week_window
from core.tracking.explorer_totals import PriceRules, TotalsBy, WorklogTotals, offset_spans

__all__ = [
    "KEY_NAMES",
    "ExplorerRows",
    "FoldLine",
    "GroupBy",
    "GroupKey",
    "KeyValue",
    "PageShape",
    "PriceRules",
    "Subtotal",
    "TotalsBy",
    "UserWindow",
    "WorklogGroup",
    "WorklogQuery",
    "WorklogTotals",
    "bound",
    "day_key",
    "day_value",
    "fold_totals",
    "group_totals",
    "group_worklogs",
    "offset_spans",
    "parse_group_by",
    "week_window",
]
