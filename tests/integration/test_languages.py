"""Two languages through the app (issue #21, Done when 3): a German user's Time tab, mail and
invoice PDF are in German with German number, date and money formats; switching the profile
back to English brings the English pages back; the profile refuses an unknown locale or time
zone with a problem and stores nothing. On SQLite and PostgreSQL."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any, cast

import pytest
from pypdf import PdfReader

from core.clock import FixedClock
from plugins.jobs.registry import run_job
from tests.conftest import make_settings
from tests.integration.tracking_support import Org, make_org, run, stint_of
from tests.support.api import PASSWORD, api_client, bearer, token
from tests.support.mail import Inbox

PROFILE = "/api/v1/me/profile"


@pytest.fixture
def org(database_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[Org]:
    clock.set(datetime(2026, 1, 5, 8, 0, tzinfo=UTC))
    settings = make_settings(database_url, tmp_path, STINT_ACCESS_TOKEN_MINUTES="1440")
    with api_client(settings, clock) as client:
        yield make_org(client)


@pytest.fixture
def mailing_org(
    database_url: str, tmp_path: Path, clock: FixedClock, inbox: tuple[Inbox, int]
) -> Iterator[Org]:
    clock.set(datetime(2026, 1, 5, 8, 0, tzinfo=UTC))
    settings = make_settings(database_url, tmp_path, STINT_ACCESS_TOKEN_MINUTES="1440",
                             STINT_SMTP_URL=f"smtp://127.0.0.1:{inbox[1]}", STINT_BASE_URL="https://stint.test")
    with api_client(settings, clock) as client:
        yield make_org(client)


def sign_in(org: Org, email: str) -> None:
    client = org.client
    client.cookies.clear()
    client.get("/")
    response = client.post("/signin", data={
        "tenant": org.slug, "email": email, "password": PASSWORD, "next": "",
        "_csrf_token": client.cookies["csrftoken"],
    }, follow_redirects=False)
    assert response.status_code == 303, response.text


def form(org: Org, path: str, data: dict[str, str]) -> Any:
    return org.client.post(path, data={**data, "_csrf_token": org.client.cookies["csrftoken"]})


def test_the_profile_answers_its_fields_and_changes_only_what_a_put_names(org: Org) -> None:
    client = org.client
    assert client.get(PROFILE, headers=org.admin).json() == {
        "email": "admin@acme.test", "name": "Admin", "locale": "en", "time_zone": None,
        "tenant_time_zone": "UTC", "time_format": "hm", "week_starts_on": "monday",
    }
    changed = client.put(PROFILE, headers=org.admin, json={"locale": "de", "time_zone": "Europe/Berlin"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["locale"] == "de" and changed.json()["time_zone"] == "Europe/Berlin"
    assert changed.json()["time_format"] == "hm" and changed.json()["name"] == "Admin"
    # The time zone is the one the timer already used (the tracking preference).
    preferences = client.get("/api/v1/tracking/preferences", headers=org.admin).json()
    assert preferences["time_zone"] == "Europe/Berlin"
    back = client.put(PROFILE, headers=org.admin, json={"time_zone": "", "name": "Ada Admin"}).json()
    assert back["time_zone"] is None and back["name"] == "Ada Admin" and back["locale"] == "de"


@pytest.mark.parametrize("body", [
    {"locale": "fr"}, {"time_zone": "Mars/Olympus"}, {"time_format": "minutes"},
    {"week_starts_on": "someday"}, {"name": ""}, {"locale": "de", "time_zone": "Nowhere/Town"},
])
def test_an_unknown_locale_zone_or_format_is_a_422_problem_and_nothing_is_stored(
    org: Org, body: dict[str, str]
) -> None:
    client = org.client
    before = client.get(PROFILE, headers=org.admin).json()
    refused = client.put(PROFILE, headers=org.admin, json=body)
    assert refused.status_code in (400, 422), refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    # The detail stays English, whatever the caller reads pages in.
    assert refused.json()["detail"].isascii()
    assert client.get(PROFILE, headers=org.admin).json() == before


def test_a_german_user_sees_the_time_tab_in_german_with_german_formats_and_english_again_after_switching(
    org: Org, clock: FixedClock
) -> None:
    client = org.client
    clock.set(datetime(2026, 1, 5, 12, 0, tzinfo=UTC))
    made = client.post("/api/v1/worklogs", headers=org.admin, json={
        "started_at": "2026-01-05T09:00:00Z", "length_s": 5400, "comment": "Planung"})
    assert made.status_code == 201, made.text
    sign_in(org, "admin@acme.test")
    english = client.get("/time").text
    assert '<html lang="en">' in english and "Submit week" in english and ">1:30<" in english

    saved = form(org, "/settings/profile", {
        "name": "Admin", "locale": "de", "time_zone": "", "time_format": "decimal",
        "week_starts_on": "monday"})
    assert saved.status_code == 200, saved.text
    # The answer to the save already speaks German.
    assert '<html lang="de">' in saved.text and "Gespeichert." in saved.text

    page = client.get("/time").text
    assert '<html lang="de">' in page
    for words in ("Arbeitszeit", "Woche einreichen", "Zeiteinträge", "Arbeitselement", "Kommentar",
                  "Läuft nicht.", "Abmelden", "Profil"):
        assert words in page, words
    assert "Submit week" not in page and "Worklogs" not in page
    # The trial banner counts in German: "28 Tage", not the English plural's "28 Tags".
    assert re.search(r"Kostenlose Testphase: \d+ Tage übrig<", page), "no German trial countdown"
    assert "Tags übrig" not in page
    # 1 h 30 min in decimal hours, German decimal comma; weekdays in German.
    assert ">1,50<" in page
    assert "Mo. 05." in page
    assert 'class="week-status">offen<' in page
    # The week grid's cells are named in German for a screen reader too ("Mon 5 Jan, …: empty").
    assert 'aria-label="Mo. 05. Jan., kein Arbeitselement: 1:30 (1h 30m)"' in page
    assert 'aria-label="Di. 06. Jan., kein Arbeitselement: leer"' in page and ": empty" not in page
    # What the page's script says comes from the page, so it is German too.
    assert 'data-edit-label="Dauer eingeben"' in page
    assert 'data-confirm-clear="Die {count} Zeiteinträge in dieser Zelle löschen?"' in page
    reporting = client.get("/settings/reporting").text
    assert 'data-copied="Kopiert."' in reporting and "Strg+C" in reporting
    # The Times Explorer's columns, groupings and approval states, and the Approvals filter, are
    # named in German too (they were English: names kept in the page's Python code).
    explorer = client.get("/explorer/").text
    for words in (">Datum</th>", ">Benutzer</th>", "> Genehmigungsstatus</label>",
                  ">eingereicht</option>", ">Monat</option>"):
        assert words in explorer, words
    assert ">submitted<" not in explorer and ">Date<" not in explorer and ">Month<" not in explorer
    assert '<th scope="col">Monat</th>' in client.get("/explorer/?group_by=month").text
    approvals = client.get("/approvals").text
    assert ">eingereicht</option>" in approvals and "Wochen im Status eingereicht" in approvals
    assert ">submitted<" not in approvals
    # The Reports page's widget descriptions and chart legends (they were English sentences
    # built in the page code), with the range's dates in German.
    report = client.get("/reports/?from=2026-01-01&to=2026-01-31").text
    assert "Zeit nach Benutzer: erfasste Stunden, abrechenbar und nicht abrechenbar gestapelt, " \
           "01.01.2026 bis 31.01.2026." in report
    assert "Nicht abrechenbar</span>" in report
    assert "tracked hours, billable" not in report and "Non-billable" not in report
    # Time without a budget is "(keine)" in the Reports' time by budget and the Explorer's groups.
    assert ">(keine)</text>" in report and ">(none)<" not in report
    grouped = client.get("/explorer/?group_by=budget").text
    assert ">(keine)</th>" in grouped and "(none)" not in grouped
    month = client.get("/time/month?month=2026-01").text
    assert "Januar 2026" in month and ">Mo.<" in month

    # Dates and money on the Subscription page: 06.12.2026-style dates.
    subscription = client.get("/settings/subscription").text
    assert re.search(r"\b\d\d\.\d\d\.\d{4}\b", subscription), "no German date on the Subscription page"
    # The subscription's state in German too (it was the raw "trialing").
    assert '<dd class="status"><strong>Testphase</strong></dd>' in subscription

    switched = form(org, "/settings/profile", {
        "name": "Admin", "locale": "en", "time_zone": "", "time_format": "hm", "week_starts_on": "monday"})
    assert switched.status_code == 200 and "Saved." in switched.text
    again = client.get("/time").text
    assert '<html lang="en">' in again and "Submit week" in again and ">1:30<" in again
    assert "Woche einreichen" not in again


def test_a_signed_out_browser_that_prefers_german_gets_the_sign_in_page_in_german(org: Org) -> None:
    org.client.cookies.clear()
    page = org.client.get("/", headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.8"}).text
    assert '<html lang="de">' in page and "Anmelden" in page
    english = org.client.get("/", headers={"Accept-Language": "fr-FR,en;q=0.5"}).text
    assert '<html lang="en">' in english and "Sign in" in english


def test_a_german_users_timer_mail_is_german_with_a_german_date_and_unsubscribe_footer(
    mailing_org: Org, clock: FixedClock, inbox: tuple[Inbox, int]
) -> None:
    org = mailing_org
    mails, _ = inbox
    client = org.client
    headers, user_id = org.add_user("jonas")
    licensed = client.patch(f"/api/v1/users/{user_id}", headers=org.admin, json={"licensed": True})
    assert licensed.status_code == 200, licensed.text
    assert client.put(PROFILE, headers=headers, json={"locale": "de"}).status_code == 200
    # Monday 10:00: the timer outlasts his working day (09:00 + 8 h).
    clock.set(datetime(2026, 1, 5, 10, 0, tzinfo=UTC))
    assert client.post("/api/v1/tracking/start", headers=headers, json={}).status_code == 201
    clock.set(datetime(2026, 1, 5, 17, 30, tzinfo=UTC))
    stint = stint_of(client)
    assert run(client, run_job, stint, "running_timers")["queued"] == 1
    assert run(client, run_job, stint, "mail")["sent"] == 1

    [envelope] = mails.messages
    message = cast(EmailMessage, message_from_bytes(envelope.content, policy=default))
    assert message["Subject"] == "Ihr Stint-Timer läuft noch"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    body = text.get_content()
    assert "Hallo Jonas," in body
    assert "Ihr Stint-Timer läuft seit 05.01.2026 10:00 (UTC)" in body
    assert "Sie erhalten diese E-Mail wegen Ihrer Benachrichtigungseinstellung" in body
    markup = html.get_content()
    assert '<html lang="de">' in markup and "Diese E-Mails abbestellen" in markup


def test_a_german_administrator_downloads_the_invoice_pdf_in_german_with_german_money_and_dates(
    org: Org, clock: FixedClock
) -> None:
    client = org.client
    clock.set(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
    bought = client.post("/api/v1/subscription/purchase", headers=org.admin,
                         json={"plan": "team", "interval": "annual", "seats": 10})
    assert bought.status_code in (200, 201), bought.text
    clock.set(datetime(2026, 1, 26, 9, 0, tzinfo=UTC))
    admin = bearer(token(client, org.slug, "admin@acme.test"))
    grown = client.post("/api/v1/subscription/change", headers=admin, json={"seats": 50}).json()
    invoice_id = grown["invoice"]["id"]

    def pdf_text() -> str:
        response = client.get(f"/api/v1/invoices/{invoice_id}/pdf", headers=admin)
        assert response.status_code == 200, response.text
        pages = PdfReader(io.BytesIO(response.content)).pages
        return re.sub(r"\s+", " ", "\n".join(page.extract_text() for page in pages))

    english = pdf_text()
    assert "Invoice STINT-2026-000002" in english and "Amount due" in english and " USD" in english

    assert client.put(PROFILE, headers=admin, json={"locale": "de"}).status_code == 200
    german = pdf_text()
    for words in ("Rechnung STINT-2026-000002", "RECHNUNG AN", "Ausgestellt am 26.01.2026", "Fälliger Betrag",
                  "So wird diese Zeile berechnet (pro Tag):", "verbleibende Tage des 365-tägigen Zeitraums",
                  "Tageswert vorher: 10 Lizenzen × 144,00", "Seite 1 von 1"):
        assert words in german, words
    # Money the German way: decimal comma, thousands dot, the currency sign after the amount.
    assert re.search(r"\d{1,3}(\.\d{3})*,\d\d \$", german), german
    assert "Amount due" not in german


def test_the_profile_page_changes_the_password_only_with_the_current_one(org: Org) -> None:
    client = org.client
    sign_in(org, "admin@acme.test")
    page = client.get("/settings/profile")
    assert page.status_code == 200 and 'href="/settings/profile"' in page.text
    wrong = form(org, "/settings/profile/password",
                 {"current_password": "guess", "new_password": "a new phrase"})
    assert wrong.status_code == 422, wrong.text
    changed = form(org, "/settings/profile/password",
                   {"current_password": PASSWORD, "new_password": "a new passphrase"})
    assert changed.status_code == 200 and "Your password was changed." in changed.text
    assert token(client, org.slug, "admin@acme.test", password="a new passphrase")
    refused = client.post("/api/v1/auth/token",
                          json={"tenant": org.slug, "email": "admin@acme.test", "password": PASSWORD})
    assert refused.status_code == 401
