"""The order a page's rows come in and the keyset cursor that continues it: the asked
order then the key (a total order), its ``ORDER BY``, and the condition for the rows after a
cursor's values (one row comparison when the order is plain, which an index answers as a
range).
"""

from __future__ import annotations

from typing import Any

from core.reporting.model import EntitySet
from core.reporting.query import OrderItem, Path, Query, resolve

from .expressions import column
from .statement import Context, Params

__all__ = ["after_condition", "order_of", "order_sql"]


def order_of(entity_set: EntitySet, query: Query) -> list[OrderItem]:
    """The order rows come in: the asked order, then the key (keyset paging needs a total order)."""
    items = list(query.orderby) or [OrderItem(Path((name,))) for name in entity_set.default_order]
    if not any(i.path.segments == (entity_set.key,) for i in items):
        items.append(OrderItem(Path((entity_set.key,))))
    return items


def _plain(entity_set: EntitySet, order: list[OrderItem]) -> bool:
    """Whether the order is of non-null properties of the set itself, all one way: then
    its keyset is one row comparison and its ORDER BY an index's order."""
    return len({i.descending for i in order}) == 1 and all(
        len(i.path.segments) == 1 and not resolve(entity_set, i.path).nullable for i in order
    )


def after_condition(
    entity_set: EntitySet, order: list[OrderItem], after: tuple[Any, ...], ctx: Context, p: Params,
    root: str = "r",
) -> str:
    """Rows strictly after ``after`` in ``order`` (ascending: NULLs first; descending: last)."""
    if _plain(entity_set, order):
        # (a, b) > (x, y): what a (tenant, a, b) index answers as a range (the OR form below
        # is the same rows, but PostgreSQL scans the whole tenant for it).
        cols = ", ".join(column(item.path, root) for item in order)
        values = ", ".join(_raw(p, value, ctx) for value in after)
        return f"(({cols}) {'<' if order[0].descending else '>'} ({values}))"
    alternatives = []
    for i, item in enumerate(order):
        col, value = column(item.path, root), after[i]
        if item.descending and value is None:
            # Nothing sorts after NULL when NULLs come last. Decided before the earlier
            # columns' values are added: each added value is a placeholder the text must use.
            continue
        parts = []
        for prior, prior_value in zip(order[:i], after[:i], strict=True):
            prior_col = column(prior.path, root)
            parts.append(f"{prior_col} IS NULL" if prior_value is None
                         else f"{prior_col} = {_raw(p, prior_value, ctx)}")
        if item.descending:
            parts.append(f"({col} < {_raw(p, value, ctx)} OR {col} IS NULL)")
        else:
            parts.append(f"{col} IS NOT NULL" if value is None else f"{col} > {_raw(p, value, ctx)}")
        alternatives.append("(" + " AND ".join(parts) + ")")
    return "(" + (" OR ".join(alternatives) or "1 = 0") + ")"


def _raw(p: Params, value: Any, ctx: Context) -> str:
    placeholder = p.add(value)
    if ctx.dialect == "postgres" and isinstance(value, str):
        return f"CAST({placeholder} AS TEXT)"
    return placeholder


def order_sql(entity_set: EntitySet, order: list[OrderItem], root: str = "r") -> str:
    # A non-null property's NULLS clause is left out: the same order, and the one an index has.
    def way(item: OrderItem) -> str:
        nullable = len(item.path.segments) > 1 or resolve(entity_set, item.path).nullable
        if item.descending:
            return "DESC NULLS LAST" if nullable else "DESC"
        return "ASC NULLS FIRST" if nullable else "ASC"

    return ", ".join(f"{column(i.path, root)} {way(i)}" for i in order)
