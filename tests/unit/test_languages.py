"""The catalogues and formats behind the two languages (issue #21).

- Completeness: every string marked in the templates and the Python sources (extracted with
  Babel's own extraction API, as ``make messages`` does through ``babel.cfg``) has a German
  translation in the compiled catalogue the app loads; a planted untranslated string fails it.
- Nothing unmarked: no tenant template shows text outside ``_()``/``{% trans %}``; a planted
  bare text node and a plain ``placeholder`` fail it.
- Formats: German dates, numbers, money and durations; English exactly as before.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from fractions import Fraction
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg

from core.texts import PLAIN
from plugins import i18n
from tests.support.template_text import bare_text

ROOT = Path(__file__).resolve().parents[2]
#: The Makefile's MSG_KEYWORDS: gettext's, the core's ``Texts.tr`` and the ``N_`` marker.
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "tr": None, "plural": (1, 2), "N_": None}


def marked_strings(root: Path) -> set[str | tuple[str, str]]:
    """Each marked message: a msgid, or (singular, plural) for a plural one."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    found: set[str | tuple[str, str]] = set()
    for _, _, message, _, _ in extract_from_dir(str(root), method_map, options_map, keywords=KEYWORDS):
        found.add(message if isinstance(message, str) else (message[0], message[1]))
    return found


def untranslated(messages: Iterable[str | tuple[str, str]], locale: str = "de") -> list[str]:
    """The msgids the locale's compiled catalogue (what the app reads) has no text for (a
    plural message needs both of German's forms)."""
    known = i18n.catalogue(locale)._catalog  # type: ignore[attr-defined]
    missing = []
    for message in messages:
        if isinstance(message, str):
            if not known.get(message):
                missing.append(message)
        elif not (known.get((message[0], 0)) and known.get((message[0], 1))):
            missing.append(message[0])
    return sorted(missing)


def test_every_marked_string_of_the_templates_and_sources_has_a_german_translation() -> None:
    messages = marked_strings(ROOT)
    # The extraction reaches every kind of source: page templates, mails, flash messages,
    # the PDF, the core's tr() and N_() labels.
    for sample in ("Submit week", "Unsubscribe from these mails", "Saved %(email)s.", "Amount due",
                   "Hello %(name)s,", "A payment failed",
                   ("Your Stint trial ends in %(num)s day", "Your Stint trial ends in %(num)s days")):
        assert sample in messages, sample
    assert untranslated(messages) == [], "run `make messages` and translate the new msgids in the .po"


def test_the_completeness_check_fails_on_a_planted_untranslated_string(tmp_path: Path) -> None:
    templates = tmp_path / "web" / "templates"
    templates.mkdir(parents=True)
    (templates / "planted.html").write_text(
        '<p>{{ _("Submit week") }} {{ _("A sentence nobody has translated yet") }}</p>\n', encoding="utf-8"
    )
    pages = tmp_path / "web" / "pages"
    pages.mkdir()
    planted = 'done = gettext("A flash nobody has translated yet")\n'
    (pages / "planted.py").write_text(planted, encoding="utf-8")
    assert untranslated(marked_strings(tmp_path)) == [
        "A flash nobody has translated yet", "A sentence nobody has translated yet",
    ]


def test_no_tenant_template_shows_text_outside_the_translation_markers() -> None:
    bare = {
        str(path.relative_to(ROOT)): found
        for path in sorted((ROOT / "web" / "templates").rglob("*.html"))
        if (found := bare_text(path.read_text(encoding="utf-8")))
    }
    assert bare == {}


def test_the_bare_text_check_finds_a_planted_unmarked_text_node_and_attribute() -> None:
    source = (
        '{% extends "layout.html" %}\n'
        '<h1>{{ _("Time") }}</h1>\n'
        '<p>Forgot to mark this</p>\n'
        '<input name="q" placeholder="Search here">\n'
        '<p>{% trans %}Marked as a block{% endtrans %} · {{ 1234 }} <code>/api/v1</code> Stint</p>\n'
        '<script>const words = "not for people";</script>\n'
    )
    found = bare_text(source)
    assert [(b.line, b.text) for b in found] == [(3, "Forgot to mark this"), (4, 'placeholder="Search here"')]


def test_the_bare_text_check_finds_words_written_inside_jinja_expressions_and_around_them() -> None:
    """A German administrator read "Yes", "License" and "Deactivate" on User Management: the
    words sat in Jinja expressions, which the check did not look into."""
    source = (
        "<span class=\"flag {{ 'on' if on else 'off' }}\">{{ 'Yes' if on else 'No' }}</span>\n"
        "{% for value, label in [('admins', 'Administrators and approval managers')] %}{% endfor %}\n"
        '<button aria-label="Save {{ t.name }}">{{ _("Save") }}</button>\n'
        "<b>{{ seats if seats else 'unlimited (trial)' }}</b> {{ w.strftime('%Y-%m-%d %H:%M') }}\n"
        "{{ _('Marked') if on else ngettext('%(num)s d', '%(num)s ds', n) }} {% if s == 'on' %}{% endif %}\n"
        '<button aria-label="{{ _(\'Revoke\') }} {{ e.name }}">&times;</button>\n'
        "{{ n }} {{ _('day') }}{{ '' if n == 1 else 's' }} {{ used or 'never' }} <td data-label=\"Made\">\n"
    )
    assert [(b.line, b.text) for b in bare_text(source)] == [
        (1, "'Yes'"), (1, "'No'"), (2, "'Administrators and approval managers'"),
        (3, 'aria-label="Save {{ t.name }}"'), (4, "'unlimited (trial)'"),
        (7, "'s'"), (7, "'never'"), (7, 'data-label="Made"'),
    ]


def test_german_formats_dates_numbers_money_and_durations_the_german_way() -> None:
    assert i18n.money(123_456, "EUR", "de") == "1.234,56\xa0€"
    assert i18n.day(date(2026, 12, 6), "de") == "06.12.2026"
    assert i18n.moment(datetime(2026, 12, 6, 9, 5), "de") == "06.12.2026 09:05"
    assert i18n.number(Fraction(144_000, 365), 4, "de") == "3,9452"
    assert i18n.duration(5400, "decimal", "de") == "1,50"
    assert i18n.duration(5400, "hm", "de") == "1:30"
    assert i18n.weekday_day(date(2026, 12, 7), "de") == "Mo. 07. Dez."


def test_english_keeps_the_forms_stint_always_printed() -> None:
    assert i18n.money(123_456, "USD", "en") == "1,234.56 USD" == PLAIN.money(123_456, "USD")
    assert i18n.day(date(2026, 12, 6), "en") == "2026-12-06"
    assert i18n.duration(5400, "hm", "en") == "1:30"
    assert i18n.duration(5400, "decimal", "en") == "1.50"
    assert i18n.weekday_day(date(2026, 12, 7), "en") == "Mon 07 Dec"


def test_the_browser_language_picks_german_only_when_preferred_before_english() -> None:
    assert i18n.best_locale("de-AT,de;q=0.9,en;q=0.5") == "de"
    assert i18n.best_locale("fr-FR,en-GB;q=0.8,de;q=0.5") == "en"
    assert i18n.best_locale(None) == "en"
    assert i18n.texts_for("fr").locale == "en"


def test_every_menu_entry_has_a_name_of_its_own_in_german() -> None:
    """"Reports" and "Reporting" were both "Berichte" in the German menu: two entries of one name
    leading to different pages (the Reports page, and the feed for Excel and Power BI)."""
    layout = (ROOT / "web" / "templates" / "layout.html").read_text(encoding="utf-8")
    nav = layout[layout.index("<nav"):layout.index("</nav>")]
    labels = re.findall(r'<a href="[^"]+"[^>]*>\{\{ _\("([^"]+)"\) \}\}</a>', nav)
    assert len(labels) >= 15, labels
    german = [i18n.catalogue("de").gettext(label) for label in labels]
    assert sorted({name for name in german if german.count(name) > 1}) == []
