"""``$apply`` → the query model's steps: ``filter``, ``compute``, ``aggregate`` and ``groupby``
(with at most one ``aggregate``), each split by ``option_tokens.py``."""

from __future__ import annotations

import re
from typing import Any, cast

from core.reporting.query import (
    Aggregate,
    AggregateStep,
    Computed,
    ComputeStep,
    FilterStep,
    GroupBy,
    QueryRefused,
    Step,
)

from .filter_parsing import parse_filter
from .option_tokens import one_path, split_call, split_outside

_AGGREGATE = re.compile(
    r"\s*(\$count|[A-Za-z_][A-Za-z0-9_/]*)(?:\s+with\s+([a-z]+))?\s+as\s+([A-Za-z_][A-Za-z0-9_]*)\s*"
)
_METHODS = frozenset({"sum", "min", "max", "average", "countdistinct"})


def _aggregates(text: str) -> tuple[Aggregate, ...]:
    found = []
    for part in split_outside(text, ","):
        match = _AGGREGATE.fullmatch(part)
        if match is None:
            raise QueryRefused(f"aggregate: cannot read '{part[:80]}' (X with sum as Y, or $count as N)")
        source, method, alias = match.groups()
        if source == "$count":
            if method is not None:
                raise QueryRefused("aggregate: '$count as N' takes no 'with'")
            found.append(Aggregate(None, "count", alias))
            continue
        if method is None:
            raise QueryRefused(f"aggregate: '{part[:80]}' needs 'with sum|min|max|average|countdistinct'")
        if method not in _METHODS:
            raise QueryRefused(
                f"aggregate: the method '{method}' is not supported", status=501, code="not_implemented"
            )
        found.append(Aggregate(one_path(source, "aggregate"), cast(Any, method), alias))
    return tuple(found)


_COMPUTED = re.compile(r"(.*\S)\s+as\s+([A-Za-z_][A-Za-z0-9_]{0,63})\s*", re.S)


def _compute(text: str) -> ComputeStep:
    """``compute(year(Timestamp) as Year, …)``: each expression through the $filter parser."""
    items = []
    for part in split_outside(text, ","):
        match = _COMPUTED.fullmatch(part)
        if match is None:
            raise QueryRefused(f"compute: cannot read '{part[:80]}' (expression as Alias)")
        items.append(Computed(parse_filter(match.group(1), "compute"), match.group(2)))
    return ComputeStep(tuple(items))


def parse_apply(text: str) -> tuple[Step, ...]:
    steps: list[Step] = []
    for part in split_outside(text, "/"):
        name, inner = split_call(part)
        if name == "filter":
            steps.append(FilterStep(parse_filter(inner)))
        elif name == "compute":
            steps.append(_compute(inner))
        elif name == "aggregate":
            steps.append(AggregateStep(_aggregates(inner)))
        elif name == "groupby":
            pieces = split_outside(inner, ",")
            first = pieces[0]
            if not (first.startswith("(") and first.endswith(")")):
                raise QueryRefused("groupby: the properties go in parentheses: groupby((A,B),…)")
            paths = tuple(one_path(p.strip(), "groupby") for p in first[1:-1].split(","))
            aggregates: tuple[Aggregate, ...] = ()
            if len(pieces) == 2:
                inner_name, inner_args = split_call(pieces[1])
                if inner_name != "aggregate":
                    raise QueryRefused(
                        f"groupby: '{inner_name}' is not supported (only aggregate)",
                        status=501,
                        code="not_implemented",
                    )
                aggregates = _aggregates(inner_args)
            elif len(pieces) > 2:
                raise QueryRefused("groupby takes the properties and at most one aggregate(…)")
            steps.append(GroupBy(paths, aggregates))
        else:
            raise QueryRefused(
                f"$apply: the transformation '{name}' is not supported", status=501, code="not_implemented"
            )
    return tuple(steps)
