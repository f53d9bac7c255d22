"""``/docs`` in a real browser with every request off this machine blocked (issue #22).

Swagger UI's files come from the installed package through Stint's own ``/docs/assets/``; a
CDN script, font or validator call would be caught by the route below and fail the test.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import expect

LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


def test_docs_lists_the_operations_with_every_outside_request_blocked(new_page: Any) -> None:
    """The reference renders from Stint alone: operations with their ids listed, nothing fetched
    from elsewhere, nothing refused by the Content-Security-Policy."""
    page = new_page()
    outside: list[str] = []
    refused: list[str] = []

    def only_loopback(route: Any) -> None:
        if urlsplit(route.request.url).hostname in LOOPBACK or route.request.url.startswith("data:"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_loopback)
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    # The first /docs builds the whole OpenAPI document (done on first use, not at start-up:
    # server/app.py); on a CI machine running the suite with several workers that took over
    # the context's 10 s. What is tested here is the page, not how fast that first build is.
    response = page.goto("/docs", timeout=60_000)
    assert response is not None and response.status == 200
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Stint")
    # Swagger UI names each operation's block after its tag and operationId.
    create = page.locator("#operations-worklogs-createWorklog")
    expect(create).to_be_visible()
    expect(create).to_contain_text("/api/v1/worklogs")
    expect(page.locator("#operations-subscription-quoteSubscriptionChange")).to_be_visible()
    assert page.locator(".opblock").count() >= 90
    # Opening one shows its description and the problem answers it documents.
    create.locator(".opblock-summary").click()
    expect(create).to_contain_text("Logs time by hand")
    expect(create.locator(".responses-table")).to_contain_text("423")
    assert outside == []
    assert refused == []
