"""The query model's expressions (``$filter``, ``compute``, the visibility condition) as
SQL: a property path as its column, a literal as a bind parameter in the column's storage
terms, comparisons and functions in each engine's words.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from core.reporting.model import Edm, EntitySet, Property
from core.reporting.query import BoolOp, Compare, Expr, Func, HitBy, ListValue, Not, Path, Value, resolve

from .sources import worklogs_sql
from .statement import Context, Dialect, Params, quoted

__all__ = ["Compiler", "bind", "column"]

#: The range of a 64-bit integer column (SQLite's INTEGER, PostgreSQL's BIGINT).
_INT64 = range(-(2**63), 2**63)


def column(path: Path, root: str = "r") -> str:
    alias = root if len(path.segments) == 1 else f"n_{path.segments[0]}"
    return f"{alias}.{quoted(path.segments[-1])}"


def bind(p: Params, prop: Property | None, value: Any, dialect: Dialect) -> str:
    """A literal as a parameter, in the column's storage terms (scaled, typed)."""
    if prop is not None and value is not None:
        if prop.scale != 1 and isinstance(value, int | Decimal) and not isinstance(value, bool):
            value = Decimal(value) * prop.scale
            if value == value.to_integral_value():
                value = int(value)
        if prop.edm is Edm.DATETIME and isinstance(value, date) and not isinstance(value, datetime):
            value = datetime.combine(value, time(), UTC)
        elif prop.edm is Edm.DATE and isinstance(value, datetime):
            value = value.astimezone(UTC).date()
        elif prop.edm is Edm.DECIMAL and isinstance(value, int) and not isinstance(value, bool):
            value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value not in _INT64:
        # A number no 64-bit column holds (Id eq 99999999999999999999, Amount lt 1e30 in
        # minor units) is still a number to compare with: neither engine binds such an int
        # (SQLite overflows, asyncpg refuses it as BIGINT), both bind it as a decimal.
        value = Decimal(value)
    if value is None:
        return "NULL"
    placeholder = p.add(value)
    if dialect == "postgres":
        # asyncpg types a parameter by its column; a fraction against an integer column, or a
        # literal facing another literal, needs the type said.
        if isinstance(value, datetime):
            return f"CAST({placeholder} AS TIMESTAMPTZ)"
        if isinstance(value, date):
            return f"CAST({placeholder} AS DATE)"
        if isinstance(value, Decimal):
            return f"CAST({placeholder} AS NUMERIC)"
        if isinstance(value, bool):
            return f"CAST({placeholder} AS BOOLEAN)"
        if isinstance(value, int):
            return f"CAST({placeholder} AS BIGINT)"
        if isinstance(value, str):
            return f"CAST({placeholder} AS TEXT)"
    return placeholder


class Compiler:
    def __init__(self, entity_set: EntitySet, ctx: Context, p: Params, root: str = "r") -> None:
        self.entity_set = entity_set
        self.ctx = ctx
        self.dialect = ctx.dialect
        self.p = p
        self.root = root

    def _prop(self, expr: Expr) -> Property | None:
        if isinstance(expr, Path):
            return resolve(self.entity_set, expr)
        if isinstance(expr, Func) and expr.name in ("tolower", "toupper"):
            return None
        return None

    def _operand(self, expr: Expr, other: Expr | None) -> str:
        if isinstance(expr, Value):
            return bind(self.p, self._prop(other) if other is not None else None, expr.value, self.dialect)
        return self.expr(expr)

    def expr(self, expr: Expr) -> str:
        if isinstance(expr, Path):
            return column(expr, self.root)
        if isinstance(expr, Value):
            return bind(self.p, None, expr.value, self.dialect)
        if isinstance(expr, BoolOp):
            return f"({self.expr(expr.left)} {expr.op.upper()} {self.expr(expr.right)})"
        if isinstance(expr, Not):
            return f"(NOT {self.expr(expr.operand)})"
        if isinstance(expr, Compare):
            return self._compare(expr)
        if isinstance(expr, Func):
            return self._func(expr)
        if isinstance(expr, HitBy):
            # The budgets the user's worklogs resolve to, by the same worklog SQL as workLogs.
            assert self.entity_set.name == "budgets"
            worklogs = worklogs_sql(self.ctx, self.p)
            user = self.p.add(expr.user_id)
            return (f'({self.root}."Id" IN (SELECT hit."BudgetId" FROM ({worklogs}) hit '
                    f'WHERE hit."UserId" = {user} AND hit."BudgetId" IS NOT NULL))')
        raise AssertionError(f"not an expression here: {expr!r}")

    def _compare(self, expr: Compare) -> str:
        left, right = expr.left, expr.right
        if isinstance(left, Value) and not isinstance(right, Value):
            # Literal first (5 lt PeriodLength): the same comparison turned round.
            flip = {"lt": "gt", "le": "ge", "gt": "lt", "ge": "le"}
            return self._compare(Compare(flip.get(expr.op, expr.op), right, left))  # type: ignore[arg-type]
        if expr.op == "in":
            assert isinstance(right, ListValue)
            if not right.values:
                return "(1 = 0)"
            prop = self._prop(left)
            items = ", ".join(bind(self.p, prop, v.value, self.dialect) for v in right.values)
            return f"({self.expr(left)} IN ({items}))"
        if isinstance(right, Value) and right.value is None:
            return f"({self.expr(left)} IS {'NOT ' if expr.op == 'ne' else ''}NULL)"
        sql_left = self.expr(left)
        sql_right = self._operand(right, left)
        if expr.op == "ne":
            distinct = "IS DISTINCT FROM" if self.dialect == "postgres" else "IS NOT"
            return f"({sql_left} {distinct} {sql_right})"
        op = {"eq": "=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}[expr.op]
        return f"({sql_left} {op} {sql_right})"

    def _func(self, expr: Func) -> str:
        if expr.name in ("tolower", "toupper"):
            return f"{'lower' if expr.name == 'tolower' else 'upper'}({self.expr(expr.args[0])})"
        if expr.name in ("year", "month", "day"):
            arg = expr.args[0]
            if self.dialect == "postgres":
                prop = self._prop(arg)
                inner = self.expr(arg)
                moment = (prop is not None and prop.edm is Edm.DATETIME) or (
                    isinstance(arg, Value) and isinstance(arg.value, datetime)
                )
                if moment:
                    inner = f"({inner} AT TIME ZONE 'UTC')"
                return f"CAST(EXTRACT({expr.name.upper()} FROM {inner}) AS BIGINT)"
            start, length = {"year": (1, 4), "month": (6, 2), "day": (9, 2)}[expr.name]
            return f"CAST(substr({self.expr(arg)}, {start}, {length}) AS INTEGER)"
        haystack = self.expr(expr.args[0])
        needle = expr.args[1]
        assert isinstance(needle, Value) and isinstance(needle.value, str)
        text = needle.value
        # Plain string functions, never LIKE: a '%' or '_' in the literal is just a character.
        if self.dialect == "postgres":
            if expr.name == "contains":
                return f"(strpos({haystack}, {self.p.add(text)}) > 0)"
            side = "left" if expr.name == "startswith" else "right"
            return f"({side}({haystack}, {len(text)}) = {self.p.add(text)})"
        if expr.name == "contains":
            return f"(instr({haystack}, {self.p.add(text)}) > 0)"
        if not text:
            return f"({haystack} IS NOT NULL)"
        first = "1" if expr.name == "startswith" else f"-{len(text)}"
        return f"(substr({haystack}, {first}, {len(text)}) = {self.p.add(text)})"
