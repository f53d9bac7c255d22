"""Budgets (SPEC §12): the model and its rules, the resolution rule, usage and statements.

The public face of the context; its ports are :mod:`core.budgets.ports`.
"""

from core.budgets.model import (
    KEEP,
    NO_BUDGET,
    Assignment,
    AssignmentKind,
    Budget,
    BudgetChanges,
    BudgetClosed,
    BudgetDraft,
    Resolution,
    apply_changes,
    check_currency,
    create_budget,
    hours_to_seconds,
    seconds_to_hours,
)
from core.budgets.resolution import Assignments, Resolver, WorkTree
from core.budgets.usage import (
    Breakdown,
    PricedLine,
    Pricer,
    Statement,
    StatementLine,
    Usage,
    WorklogFact,
    month_window,
    price_lines,
    statement_of,
    usage_of,
)

__all__ = [
    "KEEP",
    "NO_BUDGET",
    "Assignment",
    "AssignmentKind",
    "Assignments",
    "Breakdown",
    "Budget",
    "BudgetChanges",
    "BudgetClosed",
    "BudgetDraft",
    "PricedLine",
    "Pricer",
    "Resolution",
    "Resolver",
    "Statement",
    "StatementLine",
    "Usage",
    "WorkTree",
    "WorklogFact",
    "apply_changes",
    "check_currency",
    "create_budget",
    "hours_to_seconds",
    "month_window",
    "price_lines",
    "seconds_to_hours",
    "statement_of",
    "usage_of",
]
