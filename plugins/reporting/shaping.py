"""Stored values → the answer's OData values: each property's converter (made once per
entity set and ``$select``), a row shaped as the answer's object, an aggregate's value.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache, partial
from typing import Any

from core.reporting.model import MODEL, Edm, EntitySet, Property
from core.reporting.query import Aggregate, Path, resolve

__all__ = ["Shaper", "aggregate_value", "convert_value", "put", "row_of", "shaped_row", "shaper_for"]

_MICRO = Decimal("0.000001")


def convert_value(prop: Property, raw: Any) -> Any:
    if raw is None:
        return None
    edm = prop.edm
    if edm is Edm.DATETIME:
        when = raw if isinstance(raw, datetime) else datetime.fromisoformat(str(raw))
        return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    if edm is Edm.DATE:
        return raw if isinstance(raw, date) else date.fromisoformat(str(raw)[:10])
    if edm is Edm.BOOLEAN:
        return bool(raw)
    if edm is Edm.INT64:
        return int(raw)
    if edm is Edm.DECIMAL:
        return _scaled(raw, prop.scale)
    return str(raw)


def _scaled(raw: Any, scale: int) -> Decimal:
    # Stored in hundredths (money, centihours): exact in two places; seconds as hours: six.
    value = Decimal(str(raw)) / scale
    return value.quantize(Decimal("0.01") if scale == 100 else _MICRO)


def _converter(prop: Property) -> Callable[[Any], Any]:
    """:func:`convert_value` for one property, the common case first: what asyncpg already gives
    as the answer's type passes as it is (a page is 1,000 rows of 16 values; this is its
    cost in Python)."""
    edm = prop.edm
    if edm is Edm.DATETIME:
        return lambda raw: raw if type(raw) is datetime and raw.tzinfo is UTC else convert_value(prop, raw)
    if edm is Edm.INT64:
        return lambda raw: raw if type(raw) is int or raw is None else int(raw)
    if edm is Edm.STRING:
        return lambda raw: raw if type(raw) is str or raw is None else str(raw)
    return partial(convert_value, prop)


Shaper = tuple[tuple[str, Callable[[Any], Any]], ...]


@cache
def shaper_for(entity_set_name: str, select: tuple[str, ...]) -> Shaper:
    """Each answered property's name and converter, once per set and $select (by name: the
    set's own hash walks every property)."""
    entity_set = MODEL[entity_set_name]
    names = select or tuple(p.name for p in entity_set.properties)
    found = []
    for name in names:
        prop = entity_set.prop(name)
        assert prop is not None
        found.append((name, _converter(prop)))
    return tuple(found)


def row_of(entity_set: EntitySet, raw: dict[str, Any], select: Sequence[str] = ()) -> dict[str, Any]:
    return shaped_row(shaper_for(entity_set.name, tuple(select)), raw)


def shaped_row(shaper: Shaper, raw: dict[str, Any]) -> dict[str, Any]:
    return {name: convert(raw.get(name)) for name, convert in shaper}


def aggregate_value(entity_set: EntitySet, agg: Aggregate, raw: Any) -> Any:
    if agg.source is None or agg.method == "countdistinct":
        return int(raw or 0)
    prop = resolve(entity_set, agg.source)
    if raw is None:
        return None
    if agg.method == "average":
        return (Decimal(str(raw)) / prop.scale).quantize(_MICRO)
    return convert_value(prop, raw)


def put(target: dict[str, Any], path: Path, value: Any) -> None:
    if len(path.segments) == 1:
        target[path.segments[0]] = value
    else:
        target.setdefault(path.segments[0], {})[path.segments[1]] = value
