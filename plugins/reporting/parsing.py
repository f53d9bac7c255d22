"""OData query options → the Reporting API's query model (``core/reporting/query.py``).

``$filter`` (and the condition inside ``$apply=filter(…)``) is parsed by ``odata-query``
(gorilla-co's lexer and LALR parser, ``odata_query.grammar``), whose AST is translated in
``filter_parsing.py``; no hand-written expression parser. That library parses expressions
only, so the other options — lists of names and the shape of ``$expand``/``$apply`` — are split
by the small strict tokenizer of ``option_tokens.py`` (:func:`split_outside`: commas or slashes outside
parentheses and quotes), which refuses anything it does not recognise with a 400 naming it.
``$apply``'s transformations: ``apply_parsing.py``; the options as a whole, ``$orderby``,
``$expand`` and the numbers: here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from core.reporting.query import Expand, OrderItem, Path, Query, QueryRefused

from .apply_parsing import parse_apply
from .filter_parsing import parse_filter
from .option_tokens import NAME, name_list, one_path, split_call, split_outside

__all__ = ["SUPPORTED_OPTIONS", "ODataQueryParser", "parse_options"]

#: Longest text of one option.
MAX_OPTION_LENGTH = 20_000

SUPPORTED_OPTIONS = frozenset(
    {
        "$filter",
        "$select",
        "$orderby",
        "$top",
        "$skip",
        "$count",
        "$expand",
        "$apply",
        "$format",
        "$skiptoken",
    }
)
#: Known OData options Stint does not implement: 501 naming them, never ignored.
_NOT_IMPLEMENTED = frozenset({"$compute", "$levels", "$index", "$schemaversion", "$deltatoken"})


def _orderby(text: str) -> tuple[OrderItem, ...]:
    items = []
    for part in text.split(","):
        words = part.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1] not in ("asc", "desc")):
            raise QueryRefused(f"$orderby: cannot read '{part.strip()[:80]}' (Property [asc|desc])")
        items.append(OrderItem(one_path(words[0], "$orderby"), len(words) == 2 and words[1] == "desc"))
    return tuple(items)


def _expand(text: str) -> tuple[Expand, ...]:
    found = []
    for part in split_outside(text, ","):
        if "(" not in part:
            if not NAME.fullmatch(part):
                raise QueryRefused(f"$expand: '{part[:80]}' is not a navigation property")
            found.append(Expand(part))
            continue
        name, inner = split_call(part)
        select: tuple[str, ...] = ()
        for option in split_outside(inner, ";"):
            key, _, value = option.partition("=")
            if key.strip() != "$select":
                raise QueryRefused(
                    f"$expand: the nested option '{key.strip()[:40]}' is not supported (only $select)"
                )
            select = tuple(name_list(value, "$expand($select)"))
        found.append(Expand(name, select))
    return tuple(found)


def _integer(text: str, option: str) -> int:
    if not re.fullmatch(r"\d{1,9}", text.strip()):
        raise QueryRefused(f"{option} must be a non-negative integer")
    return int(text)


def parse_options(entity_set: str, options: Mapping[str, str]) -> Query:
    """The query the OData system query options ask for; unknown options → 400 naming them."""
    for name, value in options.items():
        if name == "$search":
            raise QueryRefused("$search is not supported: filter with contains(Property,'text')")
        if name in _NOT_IMPLEMENTED:
            raise QueryRefused(f"{name} is not supported", status=501, code="not_implemented")
        if name.startswith("$") and name not in SUPPORTED_OPTIONS:
            raise QueryRefused(f"the query option '{name[:40]}' is not supported")
        if len(value) > MAX_OPTION_LENGTH:
            raise QueryRefused(f"{name} is longer than {MAX_OPTION_LENGTH} characters")
    if options.get("$format", "json").split(";")[0].strip().lower() not in ("json", "application/json"):
        raise QueryRefused("$format: only json is supported")
    count = options.get("$count", "false").strip().lower()
    if count not in ("true", "false"):
        raise QueryRefused("$count must be true or false")
    select: tuple[Path, ...] = ()
    if options.get("$select", "").strip() not in ("", "*"):
        select = tuple(Path((n,)) for n in name_list(options["$select"], "$select"))
    return Query(
        entity_set=entity_set,
        filter=parse_filter(options["$filter"]) if "$filter" in options else None,
        select=select,
        orderby=_orderby(options["$orderby"]) if options.get("$orderby", "").strip() else (),
        top=_integer(options["$top"], "$top") if "$top" in options else None,
        skip=_integer(options["$skip"], "$skip") if "$skip" in options else 0,
        count=count == "true",
        expand=_expand(options["$expand"]) if options.get("$expand", "").strip() else (),
        apply=parse_apply(options["$apply"]) if options.get("$apply", "").strip() else (),
    )


class ODataQueryParser:
    """:class:`core.reporting.QueryParser` by :func:`parse_options`."""

    def parse(self, entity_set: str, options: Mapping[str, str]) -> Query:
        return parse_options(entity_set, options)
