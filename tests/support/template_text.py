"""User-visible text in a Jinja HTML template that is not marked for translation.

A small scanner, not an HTML parser: it splits a template into Jinja tags, HTML tags and
the text between them, and reports text nodes with letters that stand outside
``{{ _("…") }}`` and ``{% trans %}…{% endtrans %}``, and the human-read attributes
(placeholder, aria-label, title, alt, hx-confirm) written as plain text. Script and style
bodies, ``<code>``/``<kbd>`` contents and HTML entities are not words to translate.

Words hide in Jinja too: a string literal in an expression (``{{ 'Yes' if on else 'No' }}``,
``{% for value, label in [('admins', 'Administrators')] %}``) and the plain text around an
expression in one of those attributes (``aria-label="Save {{ t.name }}"``) are shown as
written, whatever the reader's language. A literal counts as words when it reads like them
(a capital then small letters, or two small words with a space between); keys, CSS classes
and formats (``'on'``, ``'submitted'``, ``'%Y-%m-%d'``) do not.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["ATTRIBUTES", "Bare", "bare_text", "tokens"]

#: ``data-label`` is shown by the style sheet (a phone's table cell), ``data-confirm-count`` by
#: the script (a confirmation): both are read as words too.
ATTRIBUTES = ("placeholder", "aria-label", "title", "alt", "hx-confirm", "data-label", "data-confirm-count")

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
ALLOWED = frozenset({"Stint", "h", "px", "ID", "OData", "API", "CSV", "XLSX", "PDF", "URL", "OK",
                     "Azure DevOps"})
#: A string literal in a Jinja tag, unless it is the message of ``_()`` or ``ngettext()``
#: (a marked literal is matched first and skipped).
_LITERAL = re.compile(r"""(?<![\w.])(?:_|n?gettext)\(\s*(['"])(?:(?!\1).)*\1"""
                      r"""(?:\s*,\s*(['"])(?:(?!\2).)*\2)?|(['"])((?:(?!\3).)*)\3""", re.DOTALL)
_READS = re.compile(r"^[A-Z][a-z]|[a-z]{2,} [(]?[a-z]{2,}|^\([a-z][a-z ]+\)$")
#: In an expression that is printed (``{{ … }}`` between tags), a literal that is the printed
#: value itself — first, or after ``else`` or ``or`` — is words however it is spelt ('never').
_PRINTED = re.compile(r"""(?:^\{\{-?|\belse|\bor)\s*(['"])([^'"]*[^\W\d_][^'"]*)\1""")


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


def _literals(tag: str) -> list[str]:
    """The unmarked string literals of a Jinja tag that read as words."""
    return [m.group(4) for m in _LITERAL.finditer(tag)
            if m.group(4) is not None and _READS.search(m.group(4)) and m.group(4) not in ALLOWED]


def bare_text(source: str) -> list[Bare]:
    """Every unmarked user-visible text node and attribute of ``source``."""
    found: list[Bare] = []
    in_trans = False
    verbatim = False
    for kind, text, offset in tokens(source):
        line = source.count("\n", 0, offset) + 1
        if kind == "jinja":
            body = text[2:-2].strip().lstrip("-+").strip()
            if not text.startswith("{#"):
                literals = _literals(text)
                if text.startswith("{{"):
                    literals += [m.group(2) for m in _PRINTED.finditer(text)
                                 if m.group(2) not in literals and m.group(2) not in ALLOWED]
                found.extend(Bare(line, f"'{literal}'") for literal in literals)
            if text.startswith("{%"):
                if re.match(r"trans\b", body):
                    in_trans = True
                elif re.match(r"endtrans\b", body):
                    in_trans = False
            continue
        if kind == "tag":
            verbatim = bool(re.match(r"<(code|kbd|pre)\b", text))
            for name, value in _ATTRIBUTE.findall(text):
                # The words around an expression are written as they are, like a plain value's.
                outside = re.sub(_JINJA, " ", value)
                if words(outside):
                    found.append(Bare(line, f'{name}="{value}"'))
                found.extend(Bare(line, f"'{literal}'") for literal in _literals(value))
            continue
        if kind == "text" and not in_trans and not verbatim and words(text):
            found.append(Bare(line, " ".join(text.split())))
    return found
