"""docs/settings.md and .env.example are generated from plugins/settings.py and kept in step."""

from __future__ import annotations

import re
from pathlib import Path

from plugins import settings as settings_module
from plugins.settings_docs import ENV_EXAMPLE, SETTINGS_MD, documented, env_example, settings_markdown

ROOT = Path(__file__).resolve().parents[2]


def test_the_settings_page_is_what_the_code_generates() -> None:
    """Fails when a setting is added, removed or reworded without `stint settings docs`."""
    assert (ROOT / SETTINGS_MD).read_text(encoding="utf-8") == settings_markdown(), (
        "docs/settings.md is out of date: run `stint settings docs`"
    )


def test_the_env_example_is_what_the_code_generates() -> None:
    assert (ROOT / ENV_EXAMPLE).read_text(encoding="utf-8") == env_example(), (
        ".env.example is out of date: run `stint settings docs`"
    )


def test_every_variable_load_settings_reads_is_documented_with_its_meaning() -> None:
    read = set(re.findall(r'"(STINT_[A-Z0-9_]+)"', Path(settings_module.__file__).read_text()))
    items = documented()
    assert {item.variable for item in items} == read
    assert all(len(item.text) > 20 for item in items)
    page = settings_markdown()
    assert all(f"`{variable}`" in page for variable in read)


def test_the_env_example_holds_no_secret_values() -> None:
    """Secrets are listed empty; every line is a comment, so copying it changes nothing."""
    text = env_example()
    assert all(line == "" or line.startswith("#") for line in text.splitlines())
    for item in documented():
        if item.secret:
            assert f"# {item.variable}=\n" in text


def test_fields_declared_under_one_comment_share_it_and_a_blank_line_ends_the_group() -> None:
    from plugins.settings_docs import _comments

    source = """
    #: Who issues the invoices.
    seller_name: str = "Stint"
    seller_email: str = ""

    alone: int = 1
    """
    assert _comments(source) == {"seller_name": "Who issues the invoices.",
                                 "seller_email": "Who issues the invoices."}
