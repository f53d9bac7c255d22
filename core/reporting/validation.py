"""The query model's validation (``query.py``) against the entity model and the limits:
every path names a property, every comparison compares like with like, every function gets
what it takes, ``$apply``'s steps come in an order Stint runs, and no query is larger or
deeper than the limits. Each refusal is a :class:`QueryRefused` naming what is wrong.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal

from .model import MODEL, Edm, EntitySet
from .query import (
    BOOLEAN_FUNCS,
    DATE_PART_FUNCS,
    MAX_DEPTH,
    MAX_IN_VALUES,
    MAX_TERMS,
    MAX_TOP,
    STRING_FUNCS,
    BoolOp,
    Compare,
    Computed,
    ComputeStep,
    Expr,
    FilterStep,
    Func,
    GroupBy,
    ListValue,
    Not,
    Path,
    Query,
    QueryRefused,
    Value,
    computed_of,
    resolve,
)

__all__ = ["validate"]


def _walk(expr: Expr, depth: int = 1) -> Iterator[tuple[Expr, int]]:
    # Iterative, so a hostile depth is refused by the limit, never by Python's recursion limit.
    stack: list[tuple[Expr, int]] = [(expr, depth)]
    while stack:
        node, level = stack.pop()
        yield node, level
        if isinstance(node, Compare | BoolOp):
            stack.append((node.right, level + 1))
            stack.append((node.left, level + 1))
        elif isinstance(node, Not):
            stack.append((node.operand, level + 1))
        elif isinstance(node, Func):
            stack.extend((arg, level + 1) for arg in node.args)
        elif isinstance(node, ListValue):
            if len(node.values) > MAX_IN_VALUES:
                raise QueryRefused(f"an 'in' list may hold at most {MAX_IN_VALUES} values")
            stack.extend((v, level + 1) for v in node.values)


def _type_of(entity_set: EntitySet, expr: Expr) -> Edm | None:
    """The Edm type an expression yields (None: a literal null or a list)."""
    if isinstance(expr, Path):
        return resolve(entity_set, expr).edm
    if isinstance(expr, Func):
        if expr.name in DATE_PART_FUNCS:
            return Edm.INT64
        if expr.name in STRING_FUNCS:
            return Edm.STRING
        return Edm.BOOLEAN
    if isinstance(expr, Compare | BoolOp | Not):
        return Edm.BOOLEAN
    if isinstance(expr, Value):
        v = expr.value
        if isinstance(v, bool):
            return Edm.BOOLEAN
        if isinstance(v, int):
            return Edm.INT64
        if isinstance(v, Decimal):
            return Edm.DECIMAL
        if isinstance(v, datetime):
            return Edm.DATETIME
        if isinstance(v, date):
            return Edm.DATE
        if isinstance(v, str):
            return Edm.STRING
    return None


def _compatible(a: Edm | None, b: Edm | None) -> bool:
    if a is None or b is None or a == b:
        return True
    if a.numeric and b.numeric:
        return True
    return a.temporal and b.temporal


def _check_expr(entity_set: EntitySet, expr: Expr, *, boolean: bool = True) -> None:
    for node, level in _walk(expr):
        if level > MAX_DEPTH:
            raise QueryRefused(f"the expression is nested deeper than {MAX_DEPTH} levels")
        if isinstance(node, Path):
            resolve(entity_set, node)
        elif isinstance(node, Value) and isinstance(node.value, str) and "\x00" in node.value:
            # PostgreSQL's text cannot hold it (a bound one fails the statement), and no stored
            # text has one (every write refuses control characters): one answer on both engines.
            raise QueryRefused("text may not contain the character U+0000")
        elif isinstance(node, Compare):
            left, right = _type_of(entity_set, node.left), _type_of(entity_set, node.right)
            if node.op == "in":
                if not isinstance(node.right, ListValue):
                    raise QueryRefused("'in' takes a list of values: Name in ('a', 'b')")
                for item in node.right.values:
                    if not _compatible(left, _type_of(entity_set, item)):
                        raise QueryRefused(f"'in' compares {left} with a value of another type")
            elif not _compatible(left, right):
                raise QueryRefused(f"cannot compare {left} with {right}")
            if isinstance(node.left, ListValue) or (node.op != "in" and isinstance(node.right, ListValue)):
                raise QueryRefused("a list of values may only follow 'in'")
        elif isinstance(node, Func):
            _check_func(entity_set, node)
        elif isinstance(node, BoolOp | Not):
            for operand in (node.left, node.right) if isinstance(node, BoolOp) else (node.operand,):
                if _type_of(entity_set, operand) not in (Edm.BOOLEAN, None) or isinstance(operand, Value):
                    raise QueryRefused("'and', 'or' and 'not' take conditions")
    if boolean and _type_of(entity_set, expr) is not Edm.BOOLEAN:
        raise QueryRefused("$filter must be a condition")


def _check_func(entity_set: EntitySet, node: Func) -> None:
    if node.name in BOOLEAN_FUNCS:
        if len(node.args) != 2:
            raise QueryRefused(f"{node.name} takes two arguments")
        for arg in node.args:
            if _type_of(entity_set, arg) not in (Edm.STRING, None):
                raise QueryRefused(f"{node.name} takes text")
        if not isinstance(node.args[1], Value) or not isinstance(node.args[1].value, str):
            raise QueryRefused(f"{node.name}'s second argument must be a text literal")
    else:
        if len(node.args) != 1:
            raise QueryRefused(f"{node.name} takes one argument")
        kind = _type_of(entity_set, node.args[0])
        if node.name in DATE_PART_FUNCS and (kind is None or not kind.temporal):
            raise QueryRefused(f"{node.name} takes a date or a date-time")
        if node.name in STRING_FUNCS and kind is not Edm.STRING:
            raise QueryRefused(f"{node.name} takes text")


def _terms(query: Query) -> int:
    exprs: list[Expr] = [] if query.filter is None else [query.filter]
    exprs += [step.expr for step in query.apply if isinstance(step, FilterStep)]
    exprs += [c.expr for c in computed_of(query).values()]
    return sum(1 for expr in exprs for _ in _walk(expr))


def validate(query: Query) -> EntitySet:
    """Check ``query`` against the model and the limits; its entity set."""
    entity_set = MODEL.get(query.entity_set)
    if entity_set is None:
        raise QueryRefused(f"'{query.entity_set}' is not an entity set", status=404, code="not_found")
    if _terms(query) > MAX_TERMS:
        raise QueryRefused(f"the query has more than {MAX_TERMS} terms")
    if query.filter is not None:
        _check_expr(entity_set, query.filter)
    if query.top is not None and not 0 <= query.top <= MAX_TOP:
        raise QueryRefused(f"$top must be between 0 and {MAX_TOP}")
    if query.skip < 0:
        raise QueryRefused("$skip cannot be negative")
    for path in query.select:
        if len(path.segments) != 1:
            raise QueryRefused(f"$select '{path.text}': select navigation properties with $expand")
        resolve(entity_set, path)
    for expand in query.expand:
        nav = entity_set.navigation(expand.navigation)
        if nav is None:
            raise QueryRefused(f"'{expand.navigation}' is not a navigation property of {entity_set.name}")
        target = MODEL[nav.target]
        for name in expand.select:
            if target.prop(name) is None:
                raise QueryRefused(f"'{name}' is not a property of {target.name}")
    _validate_apply(entity_set, query)
    if not query.aggregated:
        for item in query.orderby:
            resolve(entity_set, item.path)
    return entity_set


def _check_computed(entity_set: EntitySet, item: Computed) -> None:
    """A compute item: a date part (year, month, day) of a date or date-time property."""
    expr = item.expr
    if not isinstance(expr, Func) or expr.name not in DATE_PART_FUNCS:
        raise QueryRefused(
            f"compute: '{item.alias}' — only year(P), month(P) and day(P) of a date or date-time "
            "property can be computed",
            status=501,
            code="not_implemented",
        )
    if len(expr.args) != 1 or not isinstance(expr.args[0], Path):
        raise QueryRefused(f"compute: {expr.name} takes one property: {expr.name}(Timestamp) as {item.alias}")
    _check_func(entity_set, expr)


def _validate_apply(entity_set: EntitySet, query: Query) -> None:
    grouped = False
    aliases: set[str] = set()
    computed: set[str] = set()
    for step in query.apply:
        if grouped:
            raise QueryRefused("$apply: nothing may follow groupby or aggregate")
        if isinstance(step, FilterStep):
            _check_expr(entity_set, step.expr)
            continue
        if isinstance(step, ComputeStep):
            for one in step.items:
                _new_alias(entity_set, one.alias, computed | aliases)
                _check_computed(entity_set, one)
                computed.add(one.alias)
            continue
        grouped = True
        aggregates = step.aggregates
        if isinstance(step, GroupBy):
            if not step.paths:
                raise QueryRefused("groupby needs at least one property")
            for path in step.paths:
                if path.segments != (path.text,) or path.text not in computed:
                    resolve(entity_set, path)
        elif not aggregates:
            raise QueryRefused("aggregate needs at least one aggregation")
        for agg in aggregates:
            _new_alias(entity_set, agg.alias, computed | aliases)
            aliases.add(agg.alias)
            if agg.source is None:
                continue
            prop = resolve(entity_set, agg.source)
            if agg.method in ("sum", "average") and not prop.edm.numeric:
                raise QueryRefused(f"{agg.method} needs a number; '{agg.source.text}' is {prop.edm}")
    if computed and not grouped:
        raise QueryRefused(
            "compute is supported before groupby or aggregate only", status=501, code="not_implemented"
        )
    if grouped:
        if query.select or query.expand:
            raise QueryRefused("$select and $expand do not combine with $apply's groupby/aggregate")
        names = {p.text for s in query.apply if isinstance(s, GroupBy) for p in s.paths} | aliases
        for item in query.orderby:
            if item.path.text not in names:
                raise QueryRefused(f"$orderby '{item.path.text}' is neither grouped nor an alias")


def _new_alias(entity_set: EntitySet, alias: str, taken: set[str]) -> None:
    if not alias.isidentifier() or entity_set.prop(alias) is not None or entity_set.navigation(alias):
        raise QueryRefused(f"'{alias}' cannot be an alias (it must be a new name)")
    if alias in taken:
        raise QueryRefused(f"the alias '{alias}' is used twice")
