"""``$apply``'s ``groupby``/``aggregate`` (with ``filter`` and ``compute``) as one
grouped statement.
"""

from __future__ import annotations

from core.reporting.model import EntitySet
from core.reporting.query import Aggregate, AggregateStep, GroupBy, Path, Query, computed_of

from .clauses import from_clause, where
from .expressions import Compiler, column
from .statement import Context, Params, Statement

__all__ = ["grouped_sql"]


def _aggregate_sql(agg: Aggregate) -> str:
    if agg.source is None:
        return "COUNT(*)"
    col = column(agg.source)
    if agg.method == "countdistinct":
        return f"COUNT(DISTINCT {col})"
    return f"{ {'sum': 'SUM', 'min': 'MIN', 'max': 'MAX', 'average': 'AVG'}[agg.method] }({col})"


def grouped_sql(
    entity_set: EntitySet, query: Query, ctx: Context
) -> tuple[Statement, list[Path], list[Aggregate]]:
    """$apply's groupby/aggregate: ``_g0…`` the grouped values, ``_a0…`` the aggregates."""
    p = Params()
    step = next(s for s in query.apply if isinstance(s, GroupBy | AggregateStep))
    paths = list(step.paths) if isinstance(step, GroupBy) else []
    aggregates = list(step.aggregates)
    # compute(…)'s properties as their SQL; validation let only date parts of a property
    # through, so compiling them binds no parameter (the text's parameter order is unchanged).
    compiler = Compiler(entity_set, ctx, p)
    computed = {alias: compiler.expr(item.expr) for alias, item in computed_of(query).items()}
    assert not p.values

    def grouped(path: Path) -> str:
        return computed.get(path.text) or column(path)

    columns = [f"{grouped(path)} AS _g{i}" for i, path in enumerate(paths)]
    columns += [f"{_aggregate_sql(agg)} AS _a{i}" for i, agg in enumerate(aggregates)]
    text = f"SELECT {', '.join(columns)} {from_clause(entity_set, query, ctx, p)}"
    conditions = where(entity_set, query, ctx, p)
    if conditions:
        text += " WHERE " + " AND ".join(conditions)
    if paths:
        text += " GROUP BY " + ", ".join(grouped(path) for path in paths)
    names = {path.text: f"_g{i}" for i, path in enumerate(paths)}
    names |= {agg.alias: f"_a{i}" for i, agg in enumerate(aggregates)}
    order = [
        f"{names[i.path.text]} {'DESC NULLS LAST' if i.descending else 'ASC NULLS FIRST'}"
        for i in query.orderby
    ]
    order += [f"_g{i} ASC NULLS FIRST" for i in range(len(paths))]
    if order:
        text += " ORDER BY " + ", ".join(order)
    if query.top is not None:
        text += f" LIMIT {int(query.top)}"
    elif query.skip:
        text += " LIMIT -1" if ctx.dialect == "sqlite" else " LIMIT ALL"
    if query.skip:
        text += f" OFFSET {int(query.skip)}"
    return Statement(text, tuple(p.values)), paths, aggregates
