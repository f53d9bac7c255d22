"""A query's ``FROM`` and ``WHERE``: its entity set's base ``SELECT`` as ``r``, each
navigation it names joined as ``n_<Navigation>`` (the target's base, with the viewer's
condition), and its conditions: the viewer's, ``$filter`` and ``$apply``'s ``filter(…)``.
"""

from __future__ import annotations

from collections.abc import Callable

from core.reporting.model import MODEL, EntitySet
from core.reporting.query import (
    AggregateStep,
    BoolOp,
    Compare,
    ComputeStep,
    Expr,
    FilterStep,
    Func,
    GroupBy,
    Not,
    Path,
    Query,
    computed_of,
)
from core.reporting.visibility import visible_rows

from .expressions import Compiler
from .sources import base_sql
from .statement import Context, Params, quoted

__all__ = ["from_clause", "paths_of", "where"]


def paths_of(query: Query) -> list[Path]:
    """Every path the query names (filters, order, grouping, aggregates)."""
    found: list[Path] = [item.path for item in query.orderby]
    exprs: list[Expr] = [] if query.filter is None else [query.filter]
    for step in query.apply:
        if isinstance(step, FilterStep):
            exprs.append(step.expr)
        elif isinstance(step, GroupBy):
            found += step.paths
        elif isinstance(step, ComputeStep):
            exprs += [item.expr for item in step.items]
        aggregates = step.aggregates if isinstance(step, GroupBy | AggregateStep) else ()
        found += [agg.source for agg in aggregates if agg.source is not None]
    computed = computed_of(query)
    found = [path for path in found if path.segments != (path.text,) or path.text not in computed]
    stack = list(exprs)
    while stack:
        node = stack.pop()
        if isinstance(node, Path):
            found.append(node)
        elif isinstance(node, Compare | BoolOp):
            stack += [node.left, node.right]
        elif isinstance(node, Not):
            stack.append(node.operand)
        elif isinstance(node, Func):
            stack += list(node.args)
    return found


def from_clause(
    entity_set: EntitySet, query: Query, ctx: Context, p: Params,
    source: Callable[[Params], str] | None = None,
) -> str:
    text = f"FROM ({base_sql(entity_set, ctx, p, source)}) r"
    joined: set[str] = set()
    for path in paths_of(query):
        if len(path.segments) != 2 or path.segments[0] in joined:
            continue
        nav_name = path.segments[0]
        joined.add(nav_name)
        nav = entity_set.navigation(nav_name)
        assert nav is not None
        target = MODEL[nav.target]
        alias = f"n_{nav_name}"
        text += (
            f" LEFT JOIN ({base_sql(target, ctx, p)}) {alias}"
            f" ON {alias}.{quoted(target.key)} = r.{quoted(nav.local)}"
        )
        hidden = visible_rows(target, ctx.viewer)
        if hidden is not None:
            text += f" AND {Compiler(target, ctx, p, root=alias).expr(hidden)}"
    return text


def where(entity_set: EntitySet, query: Query, ctx: Context, p: Params, root: str = "r") -> list[str]:
    compiler = Compiler(entity_set, ctx, p, root)
    conditions = []
    hidden = visible_rows(entity_set, ctx.viewer)
    if hidden is not None:
        conditions.append(compiler.expr(hidden))
    if query.filter is not None:
        conditions.append(compiler.expr(query.filter))
    conditions += [compiler.expr(step.expr) for step in query.apply if isinstance(step, FilterStep)]
    return conditions
