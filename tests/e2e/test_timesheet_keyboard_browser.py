"""The keyboard timesheet in a real browser (issue #17, "Done when" 4): a week of two work
items filled from the keyboard alone, checked through the API; the user's InProgress items
listed and marked before any time is on them; a row added with `n`; a locked week refusing
in the cell."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import Api, htmx_settled, sign_in

pytestmark = pytest.mark.browser

WEEK = "2026-W45"  # Monday 2 November 2026
DAYS = ["2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05", "2026-11-06"]


def make_item(api: Api, slug: str, title: str, *, assigned_to: str | None, state: str) -> str:
    admin = api.token(slug, f"admin@{slug}.test")
    body: dict[str, Any] = {"title": title, "type": "Task", "state": state}
    if assigned_to:
        body["assigned_to"] = {"user_id": assigned_to}
    made = api.http.post("/api/v1/work-items", json=body, headers={"Authorization": f"Bearer {admin}"})
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def cell(page: Any, row: str, day: str) -> Any:
    return page.locator(f'table.sheet tr[data-row="{row}"] td.cell[data-day="{day}"]')


def wait_focus(page: Any, row: str, day: str) -> None:
    """Until the grid is back from the server and the focus sits on that cell."""
    page.wait_for_function(
        """([row, day]) => {
            const el = document.activeElement;
            return !document.querySelector('table.sheet[aria-busy]') && el && el.matches('td.cell')
                && el.closest('tr').dataset.row === row && el.dataset.day === day;
        }""",
        arg=[row, day],
    )
    htmx_settled(page)


def worklogs(api: Api, slug: str, email: str) -> list[tuple[str, str, int]]:
    tia = api.token(slug, email)
    listed = api.http.get("/api/v1/worklogs", params={"from": DAYS[0], "to": "2026-11-08"},
                          headers={"Authorization": f"Bearer {tia}"})
    assert listed.status_code == 200, listed.text
    return sorted((w["work_item"], w["started_at"][:10], w["length_s"]) for w in listed.json()["items"])


def test_a_week_of_two_work_items_is_filled_from_the_keyboard_alone(api: Api, new_page: Any) -> None:
    slug, email = "keys", "tia@keys.test"
    api.signup(slug)
    tia = api.add_user(slug, email, "team")
    login = make_item(api, slug, "Login page", assigned_to=tia["id"], state="Active")
    search = make_item(api, slug, "Search box", assigned_to=tia["id"], state="Active")
    docs = make_item(api, slug, "Write the docs", assigned_to=None, state="New")
    page = new_page()
    sign_in(page, slug, email)
    page.goto(f"/time?week={WEEK}")

    # Both InProgress items are listed with no time on them yet, marked by more than colour.
    for item, title in ((login, "Login page"), (search, "Search box")):
        row = page.locator(f'table.sheet tr[data-row="{item}"]')
        expect(row).to_have_class("blue")
        expect(row.get_by_role("rowheader")).to_contain_text("in progress, assigned to you")
        expect(cell(page, item, DAYS[1])).to_have_attribute(
            "aria-label", f"Tue 3 Nov, #{item} {title}: empty (in progress, assigned to you)"
        )
    expect(page.locator("#sheet-legend")).to_contain_text("In progress and assigned to you")
    expect(page.get_by_role("grid")).to_be_visible()

    # The grid takes the keyboard's focus on its one tabbable cell (no click anywhere).
    page.locator('table.sheet td.cell[tabindex="0"]').focus()
    wait_focus(page, login, DAYS[0])
    first_row = ["1.5", "2", "0:45", "90m", "1h 15m"]
    for n, typed in enumerate(first_row):
        page.keyboard.type(typed)
        # Tab moves along the week; Enter on Friday goes down to the next item's Friday.
        if n < 4:
            page.keyboard.press("Tab")
            wait_focus(page, login, DAYS[n + 1])
        else:
            page.keyboard.press("Enter")
            wait_focus(page, search, DAYS[4])
    page.keyboard.press("Home")
    wait_focus(page, search, DAYS[0])
    second_row = ["3", "2,5", "1:00", "30m", "4h"]
    for n, typed in enumerate(second_row):
        page.keyboard.type(typed)
        page.keyboard.press("Tab")
        wait_focus(page, search, DAYS[n + 1] if n < 4 else "2026-11-07")

    expected = sorted(
        [(login, day, s) for day, s in zip(DAYS, [5400, 7200, 2700, 5400, 4500], strict=True)]
        + [(search, day, s) for day, s in zip(DAYS, [10800, 9000, 3600, 1800, 14400], strict=True)]
    )
    assert worklogs(api, slug, email) == expected
    expect(cell(page, login, DAYS[1])).to_have_attribute(
        "aria-label", f"Tue 3 Nov, #{login} Login page: 2:00 (2h) (in progress, assigned to you)"
    )

    # Escape gives up an edit: nothing is sent, the cell shows what it had.
    page.keyboard.press("ArrowLeft")
    wait_focus(page, search, DAYS[4])
    page.keyboard.type("7")
    page.keyboard.press("Escape")
    wait_focus(page, search, DAYS[4])
    expect(cell(page, search, DAYS[4])).to_have_text("4:00")

    # `n` adds a row by search; the new row gets the focus, a duration goes in, Delete clears it.
    page.keyboard.press("n")
    box = page.get_by_role("combobox", name="Add a row for work item")
    expect(box).to_be_focused()
    page.keyboard.type("docs")
    expect(page.get_by_role("option", name=f"#{docs} Write the docs")).to_be_visible()
    page.keyboard.press("Enter")
    wait_focus(page, docs, DAYS[0])
    expect(page).to_have_url(f"{page.url.split('/time')[0]}/time?week={WEEK}&mine=0&iteration=any&add={docs}")
    page.keyboard.type("45m")
    page.keyboard.press("Enter")
    htmx_settled(page)
    assert (docs, DAYS[0], 2700) in worklogs(api, slug, email)
    page.locator(f'table.sheet tr[data-row="{docs}"] td.cell[data-day="{DAYS[0]}"]').focus()
    page.keyboard.press("Delete")
    wait_focus(page, docs, DAYS[0])
    assert worklogs(api, slug, email) == expected

    # A locked week refuses in the cell, with the reason, and keeps what it holds.
    admin = api.token(slug, f"admin@{slug}.test")
    closed = api.http.post(f"/api/v1/weeks/{WEEK}/close", json={"user_id": tia["id"]},
                           headers={"Authorization": f"Bearer {admin}"})
    assert closed.status_code == 200, closed.text
    page.goto(f"/time?week={WEEK}")
    cell(page, login, DAYS[2]).focus()
    page.keyboard.type("5")
    page.keyboard.press("Enter")
    wait_focus(page, login, DAYS[2])
    refused = cell(page, login, DAYS[2])
    expect(refused).to_contain_text("week locked")
    expect(refused).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("alert")).to_contain_text("its worklogs cannot be changed")
    assert worklogs(api, slug, email) == expected


def test_the_grid_works_with_the_mouse_too(api: Api, new_page: Any) -> None:
    slug, email = "mouse", "max@mouse.test"
    api.signup(slug)
    max_ = api.add_user(slug, email, "team")
    mine = make_item(api, slug, "Mine", assigned_to=max_["id"], state="Active")
    other = make_item(api, slug, "Pair programming", assigned_to=None, state="Active")
    page = new_page()
    sign_in(page, slug, email)
    page.goto(f"/time?week={WEEK}")

    # A click opens the cell's editor; clicking away keeps what was typed.
    cell(page, mine, DAYS[2]).click()
    editor = cell(page, mine, DAYS[2]).locator("input")
    expect(editor).to_be_focused()
    editor.fill("2:30")
    page.locator("#week-heading").click()
    expect(cell(page, mine, DAYS[2])).to_have_attribute("data-value", "2:30")
    assert worklogs(api, slug, email) == [(mine, DAYS[2], 9000)]

    # "Add a row" by button, search, and a click on the option.
    page.get_by_role("button", name="Add a row").click()
    page.get_by_role("combobox", name="Add a row for work item").fill("pair")
    page.get_by_role("option", name=f"#{other} Pair programming").click()
    expect(page.locator(f'table.sheet tr[data-row="{other}"]')).to_be_visible()
    expect(page.locator(f'table.sheet tr[data-row="{other}"]')).not_to_have_class("blue")

    # The "My items" filter (a link: the added rows stay behind) keeps only the user's own items.
    page.get_by_role("button", name="My items").click()
    expect(page).to_have_url(f"{page.url.split('/time')[0]}/time?week={WEEK}&mine=1&iteration=any")
    htmx_settled(page)
    expect(page.locator(f'table.sheet tr[data-row="{mine}"]')).to_be_visible()
    expect(page.locator(f'table.sheet tr[data-row="{other}"]')).to_have_count(0)
    expect(page.get_by_role("button", name="My items")).to_have_attribute("aria-pressed", "true")
