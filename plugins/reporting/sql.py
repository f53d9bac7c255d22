"""The Reporting API's query model → parameterised SQL for SQLite and PostgreSQL: the
statements the reader runs for a page of rows, its count and ``$expand``'s targets
(``$apply``'s: ``aggregation.py``).

Each entity set is a base ``SELECT`` whose columns are named by the model's property names
(``sources.py``, the whitelist: no identifier ever comes from the request except by lookup
there); a query wraps it as ``r`` and a navigation path joins the target set's base as
``n_<Navigation>`` (``clauses.py``). Every value travels as a bind parameter (``{}``,
Piccolo's placeholder, numbered ``$n`` on PostgreSQL by ``plugins.storage.plain_sql``), in the
order the text uses them (``statement.py``). Expressions: ``expressions.py``; the order and
the keyset cursor: ``keyset.py``; a workLogs page cut from the worklog table first:
``worklog_cut.py``.
"""

from __future__ import annotations

from typing import Any

from core.reporting.model import EntitySet
from core.reporting.query import Query
from core.reporting.visibility import visible_rows

from .clauses import from_clause, where
from .expressions import Compiler, bind, column
from .keyset import after_condition, order_of, order_sql
from .sources import base_sql
from .statement import Context, Params, Statement, quoted
from .worklog_cut import page_first

__all__ = ["count_sql", "rows_sql", "targets_sql"]


def rows_sql(
    entity_set: EntitySet, query: Query, ctx: Context, *, after: tuple[Any, ...] | None, limit: int, skip: int
) -> Statement:
    """A page of rows: every property, then the order's values as ``_k0…``."""
    p = Params()
    order = order_of(entity_set, query)
    keys = ", ".join(f"{column(item.path)} AS _k{i}" for i, item in enumerate(order))
    source = page_first(entity_set, query, ctx, order, after, limit + skip)
    text = f"SELECT r.*, {keys} {from_clause(entity_set, query, ctx, p, source)}"
    conditions = where(entity_set, query, ctx, p)
    if after is not None:
        conditions.append(after_condition(entity_set, order, after, ctx, p))
    if conditions:
        text += " WHERE " + " AND ".join(conditions)
    text += f" ORDER BY {order_sql(entity_set, order)} LIMIT {int(limit)}"
    if skip:
        text += f" OFFSET {int(skip)}"
    return Statement(text, tuple(p.values))


def count_sql(entity_set: EntitySet, query: Query, ctx: Context) -> Statement:
    p = Params()
    text = f"SELECT COUNT(*) AS n {from_clause(entity_set, query, ctx, p)}"
    conditions = where(entity_set, query, ctx, p)
    if conditions:
        text += " WHERE " + " AND ".join(conditions)
    return Statement(text, tuple(p.values))


def targets_sql(target: EntitySet, keys: list[Any], ctx: Context) -> Statement:
    """The rows of ``target`` with these keys that the viewer may see (for $expand)."""
    p = Params()
    text = f"SELECT r.* FROM ({base_sql(target, ctx, p)}) r"
    placeholders = ", ".join(bind(p, target.key_property, key, ctx.dialect) for key in keys)
    conditions = [f"r.{quoted(target.key)} IN ({placeholders})"]
    hidden = visible_rows(target, ctx.viewer)
    if hidden is not None:
        conditions.append(Compiler(target, ctx, p).expr(hidden))
    return Statement(text + " WHERE " + " AND ".join(conditions), tuple(p.values))
