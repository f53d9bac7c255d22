"""Field rules: which characters a name or a comment may hold."""

from __future__ import annotations

import sys
import unicodedata

import pytest

from core.errors import ValidationFailed
from core.tracking.fields import check_comment, check_name


def _unstorable(ch: str) -> bool:
    """The rule as Unicode states it: controls, surrogates, and the two XML non-characters."""
    return unicodedata.category(ch) in ("Cc", "Cs") or ch in "\ufffe\uffff"


def _refused(check: object, text: str) -> bool:
    try:
        check(text)  # type: ignore[operator]
    except ValidationFailed:
        return True
    return False


def test_names_refuse_exactly_the_characters_a_spreadsheet_cannot_store() -> None:
    """Every code point: a name holding it is refused if and only if it is Cc, Cs, U+FFFE or U+FFFF."""
    wrong = [
        hex(code) for code in range(sys.maxunicode + 1)
        if _refused(lambda t: check_name(t, "work_item"), f"a{chr(code)}b") != _unstorable(chr(code))
    ]
    assert wrong == []


def test_comments_refuse_the_same_characters_except_tab_and_line_feed() -> None:
    """Every code point: as for names, but a comment may hold a tab and a line break."""
    wrong = [
        hex(code) for code in range(sys.maxunicode + 1)
        if _refused(check_comment, f"a{chr(code)}b") != (_unstorable(chr(code)) and chr(code) not in "\t\n")
    ]
    assert wrong == []


@pytest.mark.parametrize("text", ["tab\there", "two\nlines"])
def test_a_comment_keeps_tabs_and_line_breaks(text: str) -> None:
    check_comment(text)
