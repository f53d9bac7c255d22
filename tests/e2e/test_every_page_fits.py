"""Every page, as each role, on a phone (390 px) and a laptop (1366 px): no sideways scroll
of the page, and axe-core finds nothing serious or critical (issue #21).

The pages are found from the app's own routes (every GET page without a path parameter), so
a page added later is checked without a change here. The data is the demo's (``stint demo``
on the test server): pages show real tables, not empty states. axe-core comes from npm,
installed once into the tools cache (``STINT_TOOLS_CACHE``, default ``~/.cache/stint``), and
is injected from that file — never from a CDN.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, Server, htmx_settled, operator_code
from tests.support import services

AXE = "axe-core@4.14.1"
WIDTHS = {"phone": 390, "laptop": 1366}
#: Pages that are not pages a person reads (downloads, redirects, sign-out, the API's docs assets).
NOT_PAGES = re.compile(r"/archive$|/signout|/export$|\.(csv|xlsx|pdf|zip)$")


def _unavailable(why: str) -> None:
    if services.required():
        pytest.fail(f"axe-core unavailable ({why}) and STINT_REQUIRE_SERVICES=1")
    pytest.skip(f"axe-core unavailable ({why}); install node and npm, or reach the npm registry")


@pytest.fixture(scope="module")
def axe_source() -> str:
    cache = Path(os.environ.get("STINT_TOOLS_CACHE", Path.home() / ".cache" / "stint")) / "axe"
    script = cache / "node_modules" / "axe-core" / "axe.min.js"
    if not script.exists():
        npm = shutil.which("npm")
        if npm is None:
            _unavailable("npm is not installed")
        cache.mkdir(parents=True, exist_ok=True)
        done = subprocess.run([str(npm), "install", "--no-audit", "--no-fund", "--prefix", str(cache), AXE],
                              capture_output=True, text=True, timeout=600)
        if done.returncode != 0 or not script.exists():
            _unavailable(f"npm install {AXE} failed: {done.stderr.strip()[-500:]}")
    return script.read_text()


def _page_paths() -> list[str]:
    """The GET routes of the pages and the console without path parameters."""
    from server.app import create_app
    from tests.conftest import make_settings

    app = create_app(make_settings("sqlite:///:memory:", Path("/tmp")))
    found = set()
    for route in app.routes:
        path = route.path
        if "{" in path or path.startswith(("/api", "/static", "/health", "/metrics", "/webhooks", "/docs",
                                           "/schema", "/oauth", "/.well-known")):
            continue
        methods = getattr(route, "methods", set())
        if "GET" in methods and not NOT_PAGES.search(path):
            found.add(path.rstrip("/") or "/")
    return sorted(found)


@pytest.fixture(scope="module")
def demo(server: Server) -> dict[str, str]:
    """``stint demo`` on the test server's database: the demo logins' password and the demo
    operator's second-factor secret."""
    stint = Path(sys.executable).parent / "stint"
    done = subprocess.run([str(stint), "demo"], env=server.env, cwd=server.home, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    secret = re.search(r"second factor secret ([A-Z2-7]+)", done.stdout)
    password = re.search(r"admin@demo\.test +password=(\S+)", done.stdout)
    assert secret and password, done.stdout
    return {"password": password.group(1), "secret": secret.group(1)}


@pytest.fixture(scope="module")
def chromium(server: Server) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _sign_in(page: Any, email: str, password: str) -> None:
    page.goto("/")
    page.get_by_label("Organisation or server").fill("demo-cloud")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("networkidle")


def _operator_sign_in(page: Any, password: str, secret: str) -> None:
    page.goto("/admin")
    page.get_by_label("E-mail").fill("operator@demo.test")
    page.get_by_label("Password").fill(password)
    page.get_by_label(re.compile("code", re.I)).fill(operator_code(secret))
    page.get_by_role("button", name=re.compile("sign in", re.I)).click()
    page.wait_for_load_state("networkidle")


#: The outermost elements that stick out of the window (a failure says where to look).
_STICKING_OUT = """() => {
  const out = e => e && e.getBoundingClientRect().right > window.innerWidth + 1;
  const name = e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '');
  return [...document.querySelectorAll('body *')].filter(e => out(e) && !out(e.parentElement))
    .slice(0, 3).map(name);
}"""


def _findings(page: Any, axe: str, where: str) -> list[str]:
    problems = []
    wide = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    if wide[0] > wide[1]:
        # Name the outermost elements that stick out, so the failure says where to look.
        culprits = page.evaluate(_STICKING_OUT)
        problems.append(f"{where}: the page is {wide[0]} px wide in a {wide[1]} px window "
                        f"({', '.join(culprits)})")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=axe)
    result = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    for violation in result:
        if violation["impact"] in ("serious", "critical"):
            targets = ", ".join(str(node["target"]) for node in violation["nodes"][:3])
            problems.append(f"{where}: {violation['impact']} {violation['id']} ({violation['help']}) "
                            f"at {targets}")
    return problems


ROLES = {
    "administrator": "admin@demo.test",
    "product": "pm@demo.test",
    "team": "dev@demo.test",
    "none": "guest@demo.test",
}


#: Each page is loaded once, at the laptop's width as before, then laid out again on the phone.
#: Laptop first: the tables that scroll at 1366 px (the reports' widgets) are then marked by
#: the page load, so the load's marking stays under test; the phone's by the resize.
SIZES = [(name, {"width": WIDTHS[name], "height": 900}) for name in ("laptop", "phone")]

#: Resolves after the next frame has been rendered at the current window width: the resize steps
#: of a rendering update (the ``resize`` event stint.js listens to, to mark the tables that now
#: scroll or no longer do) run before its animation-frame callbacks.
_LAID_OUT = """(width) => new Promise((resolve, reject) => {
  if (window.innerWidth !== width) {
    reject(new Error(`window is ${window.innerWidth} px, not ${width}`));
    return;
  }
  requestAnimationFrame(() => requestAnimationFrame(resolve));
})"""


def _findings_at_each_size(page: Any, axe: str, where: str) -> list[str]:
    """The page's findings at each size in ``SIZES``, from one load: resizing the window lays
    the page out again (media queries, the resize listener) without fetching it again, which
    halves the page visits (and the sign-ins) of checking the two sizes one after the other."""
    problems: list[str] = []
    for width, viewport in SIZES:
        if page.viewport_size != viewport:
            page.set_viewport_size(viewport)
        page.evaluate(_LAID_OUT, viewport["width"])
        problems += _findings(page, axe, f"{width} {where}")
    return problems


def test_a_table_that_scrolls_once_the_window_is_widened_can_be_reached_by_keyboard(
    chromium: Any, server: Server, demo: dict[str, str], axe_source: str
) -> None:
    """Loaded on a phone, the reports' inner tables scroll and take the keyboard focus; widened
    to a laptop, their wrappers scroll instead and must take it over (stint.js looks at the
    innermost first), not be left unreachable beside a table that gave its focus up."""
    context = chromium.new_context(base_url=server.base, viewport=dict(SIZES)["phone"], bypass_csp=True)
    page = context.new_page()
    _sign_in(page, ROLES["administrator"], demo["password"])
    response = page.goto("/reports")
    assert response is not None and response.status == 200
    htmx_settled(page)
    page.set_viewport_size(dict(SIZES)["laptop"])
    page.evaluate(_LAID_OUT, WIDTHS["laptop"])
    page.add_script_tag(content=axe_source)
    found = page.evaluate("""async () => (await axe.run(document, {
        runOnly: {type: 'rule', values: ['scrollable-region-focusable']}})).violations""")
    scrolling = page.evaluate("""() => [...document.querySelectorAll('table, .table-scroll')]
        .filter(e => e.scrollWidth > e.clientWidth + 1).length""")
    context.close()
    assert scrolling > 0  # the page has tables that scroll at this width: the check means something
    assert found == [], [(v["id"], [n["target"] for n in v["nodes"][:3]]) for v in found]


def test_every_page_fits_a_laptop_and_a_phone_screen_and_has_no_serious_accessibility_finding(
    chromium: Any, server: Server, demo: dict[str, str], axe_source: str
) -> None:
    paths = _page_paths()
    tenant_pages = [p for p in paths if not p.startswith("/admin") and p != "/signin"]
    console_pages = [p for p in paths if p.startswith("/admin")]
    problems: list[str] = []

    # The pages' CSP forbids inline scripts (as it should); axe is the test's own script.
    context = chromium.new_context(base_url=server.base, viewport=SIZES[0][1], bypass_csp=True)
    page = context.new_page()
    page.goto("/")
    problems += _findings_at_each_size(page, axe_source, "signed out /")
    for role, email in ROLES.items():
        page.set_viewport_size(SIZES[0][1])
        _sign_in(page, email, demo["password"])
        refusals: set[int] = set()
        for path in tenant_pages:
            page.set_viewport_size(SIZES[0][1])
            response = page.goto(path)
            if response is None or "text/html" not in response.headers.get("content-type", ""):
                continue
            if response.status >= 400:
                # A refusal is the same page wherever it is met: checked once per role and status.
                if response.status in refusals:
                    continue
                refusals.add(response.status)
            # goto waits for the load event; what htmx still fetches after it carries its
            # classes until swapped and settled (cheaper than waiting for half a second of
            # network silence on each of some 240 page visits).
            htmx_settled(page)
            problems += _findings_at_each_size(page, axe_source, f"{role} {path} ({response.status})")
        context.clear_cookies()
    context.close()

    context = chromium.new_context(base_url=server.base, viewport=SIZES[0][1], bypass_csp=True)
    page = context.new_page()
    _operator_sign_in(page, demo["password"], demo["secret"])
    for path in console_pages:
        page.set_viewport_size(SIZES[0][1])
        response = page.goto(path)
        if response is None or "text/html" not in response.headers.get("content-type", ""):
            continue
        htmx_settled(page)
        problems += _findings_at_each_size(page, axe_source, f"operator {path} ({response.status})")
    context.close()
    assert not problems, "\n".join(problems)


#: Text that is the demo's data, not the product's words: a work item's state and title as the
#: DevOps organisation names them (they equal messages the catalogue translates).
DEMO_DATA_WORDS = frozenset({"Active", "Recovery codes"})

#: The page's words: text nodes and the attributes read to people.
_WORDS = """() => {
  const out = [];
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    const text = n.textContent.trim();
    if (text && !['SCRIPT', 'STYLE'].includes(n.parentElement.tagName)) out.push(text);
  }
  for (const e of document.querySelectorAll('[placeholder], [aria-label], [title], [hx-confirm]'))
    for (const a of ['placeholder', 'aria-label', 'title', 'hx-confirm'])
      if (e.getAttribute(a)) out.push(e.getAttribute(a));
  return out;
}"""


def test_every_page_a_german_administrator_opens_fits_and_shows_no_english_message(
    chromium: Any, server: Server, demo: dict[str, str]
) -> None:
    """German words are longer: User Management was 1,446 px wide on a 1,366 px laptop in German
    (its column headers "Sammlungsadministrator", "Genehmigungsmanager"), which the English
    pass above never saw. And every English message the catalogue translates is German on the
    page: an English one left (a name kept in page code, a word written in a template
    expression) is a message that missed its translation."""
    from babel.support import Translations

    from plugins import i18n

    german = i18n.catalogue("de")
    assert isinstance(german, Translations)
    english = {msgid for msgid, text in german._catalog.items()  # type: ignore[attr-defined]
               if isinstance(msgid, str) and len(msgid) > 3 and text and text != msgid} - DEMO_DATA_WORDS
    http = httpx.Client(base_url=server.base, timeout=10)
    token = http.post("/api/v1/auth/token", json={"tenant": "demo-cloud", "email": ROLES["administrator"],
                                                  "password": demo["password"]}).json()["access_token"]
    profile = {"Authorization": f"Bearer {token}"}
    assert http.put("/api/v1/me/profile", headers=profile, json={"locale": "de"}).status_code == 200
    problems: list[str] = []
    context = chromium.new_context(base_url=server.base, viewport=SIZES[0][1])
    try:
        page = context.new_page()
        _sign_in(page, ROLES["administrator"], demo["password"])
        # /unsubscribe is a mail's link: it reads in the language its signed link names.
        tenant_pages = [p for p in _page_paths()
                        if not p.startswith("/admin") and p not in ("/signin", "/unsubscribe")]
        for path in tenant_pages:
            page.set_viewport_size(SIZES[0][1])
            response = page.goto(path)
            if response is None or "text/html" not in response.headers.get("content-type", ""):
                continue
            htmx_settled(page)
            assert page.evaluate("document.documentElement.lang") == "de", path
            left = sorted({words for words in page.evaluate(_WORDS) if words in english})
            if left:
                problems.append(f"{path}: English left on the German page: {left}")
            for width, viewport in SIZES:
                page.set_viewport_size(viewport)
                page.evaluate(_LAID_OUT, viewport["width"])
                wide = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
                if wide[0] > wide[1]:
                    problems.append(f"{width} {path}: the page is {wide[0]} px wide in a {wide[1]} px "
                                    f"window ({', '.join(page.evaluate(_STICKING_OUT))})")
    finally:
        context.close()
        http.put("/api/v1/me/profile", headers=profile, json={"locale": "en"})
        http.close()
    assert not problems, "\n".join(problems)
