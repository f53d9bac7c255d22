"""User-visible text in a Jinja HTML template that is not marked for translation.

A small scanner, not an HTML parser: it splits a template into Jinja tags, HTML tags and
the text between them, and reports text nodes with letters that stand outside
``{{ _("…") }}`` and ``{% trans %}…{% endtrans %}``, and the human-read attributes
(placeholder, aria-label, title, alt, hx-confirm) written as plain text. Script and style
bodies, ``<code>``/``<kbd>`` contents and HTML entities are not words to translate.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["ATTRIBUTES", "Bare", "bare_text", "tokens"]

ATTRIBUTES = ("placeholder", "aria-label", "title", "alt", "hx-confirm")

_JINJA = r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}"
_TOKEN = re.compile(
    rf"(?P<jinja>{_JINJA})"
    r"|(?P<comment><!--.*?-->|<![a-zA-Z][^>]*>)"
    r"|(?P<raw><(?P<rawname>script|style)\b.*?</(?P=rawname)\s*>)"
    # A tag; its name may be an expression (``<{{ heading }}>``).
    rf"|(?P<tag></?(?:[a-zA-Z]|\{{\{{.*?\}}\}})[^<>{{]*(?:(?:{_JINJA}|\{{)[^<>{{]*)*>)",
    re.DOTALL,
)
_ATTRIBUTE = re.compile(r'\b(' + "|".join(ATTRIBUTES) + r')="([^"]*)"')
_ENTITY = re.compile(r"&#?\w+;")
_LETTER = re.compile(r"[^\W\d_]")
#: Text that is the same in every language: the product's name, units and symbols.
ALLOWED = frozenset({"Stint", "h", "px", "ID", "OData", "API", "CSV", "XLSX", "PDF", "URL", "OK"})


@dataclass(frozen=True, slots=True)
class Bare:
    line: int
    text: str


def tokens(source: str) -> Iterator[tuple[str, str, int]]:
    """(kind, text, offset) with kind one of jinja, comment, raw, tag, text."""
    at = 0
    for match in _TOKEN.finditer(source):
        if match.start() > at:
            yield "text", source[at:match.start()], at
        kind = next(k for k in ("jinja", "comment", "raw", "tag") if match.group(k) is not None)
        yield kind, match.group(0), match.start()
        at = match.end()
    if at < len(source):
        yield "text", source[at:], at


def words(text: str) -> bool:
    stripped = _ENTITY.sub("", text).strip()
    return bool(_LETTER.search(stripped)) and stripped not in ALLOWED


def bare_text(source: str) -> list[Bare]:
    """Every unmarked user-visible text node and attribute of ``source``."""
    found: list[Bare] = []
    in_trans = False
    verbatim = False
    for kind, text, offset in tokens(source):
        line = source.count("\n", 0, offset) + 1
        if kind == "jinja":
            body = text[2:-2].strip().lstrip("-+").strip()
            if text.startswith("{%"):
                if re.match(r"trans\b", body):
                    in_trans = True
                elif re.match(r"endtrans\b", body):
                    in_trans = False
            continue
        if kind == "tag":
            verbatim = bool(re.match(r"<(code|kbd|pre)\b", text))
            for name, value in _ATTRIBUTE.findall(text):
                if "{{" not in value and "{%" not in value and words(value):
                    found.append(Bare(line, f'{name}="{value}"'))
            continue
        if kind == "text" and not in_trans and not verbatim and words(text):
            found.append(Bare(line, " ".join(text.split())))
    return found
