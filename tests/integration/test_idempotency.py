"""Idempotency keys on the tenant API (Stripe's model), on SQLite and PostgreSQL.

A retry with the same key gets the first answer without the work being done again; the
same key with another request is refused; keys are per user of a tenant; answers given
before the operation ran, and server failures, are not kept, so a retry does the work.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from core.clock import FixedClock
from tests.conftest import make_settings
from tests.integration.test_activation_online import StintProcess, free_port, plain_client, start_stint
from tests.integration.tracking_support import Org, make_org, run, stint_of
from tests.support.api import PASSWORD, api_client, bearer, signup, token

MONDAY = "2026-01-05T09:00:00Z"
WORKLOG = {"started_at": MONDAY, "length_s": 3600, "comment": "review"}


@pytest.fixture
def org(database_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[Org]:
    settings = make_settings(database_url, tmp_path, STINT_ACCESS_TOKEN_MINUTES="1440")
    with api_client(settings, clock) as client:
        yield make_org(client)


def keyed(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


def signed_in_again(org: Org) -> dict[str, str]:
    """A new access token for the admin (the clock moved past the old one's expiry)."""
    return bearer(token(org.client, org.slug, f"admin@{org.slug}.test"))


def worklog_ids(org: Org, headers: dict[str, str]) -> list[str]:
    response = org.client.get("/api/v1/worklogs", params={"limit": 200}, headers=headers)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def stored_keys(org: Org) -> int:
    from plugins.storage.idempotency_tables import IdempotencyKeyRow

    async def count() -> int:
        return int(await IdempotencyKeyRow.count())

    return int(run(org.client, count))


def test_a_retry_with_the_same_key_gets_the_first_answer_and_adds_no_second_worklog(org: Org) -> None:
    """Same key, same body: the same status and body, marked replayed, and one worklog."""
    key = str(uuid.uuid4())
    first = org.client.post("/api/v1/worklogs", json=WORKLOG, headers=keyed(org.admin, key))
    again = org.client.post("/api/v1/worklogs", json=WORKLOG, headers=keyed(org.admin, key))

    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    assert (again.status_code, again.content) == (first.status_code, first.content)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["content-type"] == first.headers["content-type"]
    assert again.headers["x-request-id"] != first.headers["x-request-id"]
    assert again.headers["cache-control"] == "no-store"
    assert worklog_ids(org, org.admin) == [first.json()["id"]]


def test_requests_without_a_key_are_each_performed(org: Org) -> None:
    """The header is optional: two unkeyed posts are two worklogs."""
    for _ in range(2):
        assert org.client.post("/api/v1/worklogs", json=WORKLOG, headers=org.admin).status_code == 201
    assert len(worklog_ids(org, org.admin)) == 2
    assert stored_keys(org) == 0


def test_refuses_the_same_key_with_another_body_or_another_path(org: Org) -> None:
    """422 idempotency_key_reused, and the refused requests change nothing."""
    key = str(uuid.uuid4())
    first = org.client.post("/api/v1/worklogs", json=WORKLOG, headers=keyed(org.admin, key))
    assert first.status_code == 201, first.text

    other_body = org.client.post("/api/v1/worklogs", json={**WORKLOG, "length_s": 60},
                                 headers=keyed(org.admin, key))
    other_path = org.client.patch(f"/api/v1/worklogs/{first.json()['id']}", json={"comment": "x"},
                                  headers=keyed(org.admin, key))

    for refused in (other_body, other_path):
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["code"] == "idempotency_key_reused"
    listed = org.client.get("/api/v1/worklogs", headers=org.admin).json()["items"]
    assert [(w["id"], w["length_s"], w["comment"]) for w in listed] == [(first.json()["id"], 3600, "review")]


@pytest.mark.parametrize("bad", ["x" * 256, "é-not-ascii", "tab\tinside"])
def test_refuses_a_key_that_is_not_1_to_255_printable_ascii_characters(org: Org, bad: str) -> None:
    """422 invalid_idempotency_key naming the header; nothing is done."""
    response = org.client.post(
        "/api/v1/worklogs", json=WORKLOG,
        headers={**org.admin, "Idempotency-Key": bad.encode("utf-8")},  # type: ignore[dict-item]
    )
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "invalid_idempotency_key"
    assert body["errors"][0]["field"] == "Idempotency-Key"
    assert worklog_ids(org, org.admin) == []


def test_an_empty_key_is_refused(org: Org) -> None:
    """An empty header is not "no key": it is a malformed one."""
    response = org.client.post("/api/v1/worklogs", json=WORKLOG, headers=keyed(org.admin, ""))
    assert response.status_code == 422 and response.json()["code"] == "invalid_idempotency_key"


def test_the_same_key_from_another_user_or_tenant_is_another_key(org: Org) -> None:
    """Keys are per user of a tenant: nobody else's identical key replays (or blocks) an answer."""
    key = "shared-key-1"
    colleague, _ = org.add_user("bea")
    other = make_org(org.client, "globex")

    answers = [
        org.client.post("/api/v1/worklogs", json=WORKLOG, headers=keyed(headers, key))
        for headers in (org.admin, colleague, other.admin)
    ]

    assert [a.status_code for a in answers] == [201, 201, 201]
    assert all("idempotent-replayed" not in a.headers for a in answers)
    assert len({a.json()["id"] for a in answers}) == 3
    assert worklog_ids(other, other.admin) == [answers[2].json()["id"]]
    assert answers[2].json()["id"] not in worklog_ids(org, org.admin)


def test_an_answer_given_before_the_operation_ran_is_not_kept_so_the_corrected_request_may_reuse_the_key(
    org: Org,
) -> None:
    """A body missing a field is 422 validation_error; the corrected body with the same key is performed."""
    key = str(uuid.uuid4())
    bad = org.client.post("/api/v1/worklogs", json={"started_at": MONDAY}, headers=keyed(org.admin, key))
    good = org.client.post("/api/v1/worklogs", json=WORKLOG, headers=keyed(org.admin, key))

    assert bad.status_code == 422 and bad.json()["code"] == "validation_error"
    assert good.status_code == 201, good.text
    assert "idempotent-replayed" not in good.headers


def test_an_access_refusal_is_not_kept(org: Org) -> None:
    """A Team user refused an administrator's route: the refusal is not kept for the key."""
    member, _ = org.add_user("carl")
    key = str(uuid.uuid4())
    refused = org.client.put("/api/v1/settings/default-role", json={"role": "team"},
                             headers=keyed(member, key))
    assert refused.status_code in (403, 404), refused.text

    assert stored_keys(org) == 0


def test_a_refusal_of_the_domain_is_kept_and_replayed(org: Org) -> None:
    """Stopping a timer that is not running is 409; the retry gets that 409 again, replayed."""
    key = str(uuid.uuid4())
    first = org.client.post("/api/v1/tracking/stop", headers=keyed(org.admin, key))
    again = org.client.post("/api/v1/tracking/stop", headers=keyed(org.admin, key))

    assert first.status_code == 409, first.text
    assert (again.status_code, again.json()) == (409, first.json())
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["content-type"].startswith("application/problem+json")


def test_a_timer_stop_retried_after_success_gets_the_worklog_not_a_conflict(
    org: Org, clock: FixedClock
) -> None:
    """The retry a lost answer calls for: the first stop's worklog, not "no timer is running"."""
    started = org.client.post("/api/v1/tracking/start", json={}, headers=org.admin)
    assert started.status_code in (200, 201), started.text
    clock.advance(minutes=30)
    key = str(uuid.uuid4())
    stopped = org.client.post("/api/v1/tracking/stop", headers=keyed(org.admin, key))
    retried = org.client.post("/api/v1/tracking/stop", headers=keyed(org.admin, key))

    assert stopped.status_code == 200, stopped.text
    assert (retried.status_code, retried.content) == (200, stopped.content)
    assert len(worklog_ids(org, org.admin)) == 1


def test_a_delete_retried_gets_its_204_again(org: Org) -> None:
    """DELETE with a key: the retry is the same empty 204, not a 404 for the worklog now gone."""
    made = org.client.post("/api/v1/worklogs", json=WORKLOG, headers=org.admin).json()
    key = str(uuid.uuid4())
    first = org.client.delete(f"/api/v1/worklogs/{made['id']}", headers=keyed(org.admin, key))
    again = org.client.delete(f"/api/v1/worklogs/{made['id']}", headers=keyed(org.admin, key))

    assert first.status_code == 204, first.text
    assert (again.status_code, again.content) == (204, b"")
    assert again.headers["idempotent-replayed"] == "true"


def test_creating_a_personal_access_token_ignores_the_key_and_stores_no_secret(org: Org) -> None:
    """The answer shows a secret once: it is never stored, so the key is ignored there."""
    key = str(uuid.uuid4())
    made = [
        org.client.post("/api/v1/me/tokens", json={"name": "ci", "expires_in_days": 30},
                        headers=keyed(org.admin, key))
        for _ in range(2)
    ]
    assert [m.status_code for m in made] == [201, 201]
    assert made[0].json()["token"] != made[1].json()["token"]
    assert stored_keys(org) == 0


def test_sign_in_ignores_the_key(org: Org) -> None:
    """No signed-in caller, no owner for a key: sign-in works as without one."""
    body = {"tenant": org.slug, "email": f"admin@{org.slug}.test", "password": "correct horse battery"}
    for _ in range(2):
        response = org.client.post("/api/v1/auth/token", json=body, headers={"Idempotency-Key": "same"})
        assert response.status_code == 200, response.text
        assert "idempotent-replayed" not in response.headers
    assert stored_keys(org) == 0


def test_a_key_is_forgotten_after_24_hours_and_then_starts_a_new_request(org: Org, clock: FixedClock) -> None:
    """After 24 h the same key (even with another body) is a first request again."""
    key = str(uuid.uuid4())
    first = org.client.post("/api/v1/worklogs", json=WORKLOG, headers=keyed(org.admin, key))
    clock.advance(hours=24, seconds=1)
    admin = signed_in_again(org)
    later = org.client.post("/api/v1/worklogs", json={**WORKLOG, "length_s": 60}, headers=keyed(admin, key))

    assert (first.status_code, later.status_code) == (201, 201)
    assert "idempotent-replayed" not in later.headers
    assert len(worklog_ids(org, admin)) == 2


def test_housekeeping_prunes_keys_older_than_24_hours(org: Org, clock: FixedClock) -> None:
    """The hourly housekeeping job forgets expired keys and counts them; fresh ones stay."""
    from plugins.jobs.registry import run_job

    org.client.post("/api/v1/worklogs", json=WORKLOG, headers=keyed(org.admin, "old"))
    clock.advance(hours=25)
    fresh = org.client.post("/api/v1/worklogs", json=WORKLOG, headers=keyed(signed_in_again(org), "fresh"))
    assert fresh.status_code == 201, fresh.text

    counts = run(org.client, run_job, stint_of(org.client), "housekeeping")

    assert counts["idempotency_keys_pruned"] == 1
    assert stored_keys(org) == 1


def test_the_schema_documents_the_header_on_covered_operations_only(org: Org) -> None:
    """OpenAPI: the header on tenant POST/PATCH/PUT/DELETE, not on GET, sign-in or PAT creation."""
    schema: dict[str, Any] = org.client.get("/schema/openapi.json").json()
    paths = schema["paths"]

    def headers_of(path: str, method: str) -> list[str]:
        params = paths[path][method].get("parameters", [])
        return [p["name"] for p in params if p["in"] == "header"]

    assert "Idempotency-Key" in headers_of("/api/v1/worklogs", "post")
    assert "Idempotency-Key" in headers_of("/api/v1/worklogs/{worklog_id}", "delete")
    assert "Idempotency-Key" not in headers_of("/api/v1/worklogs", "get")
    assert "Idempotency-Key" not in headers_of("/api/v1/auth/token", "post")
    assert "Idempotency-Key" not in headers_of("/api/v1/me/tokens", "post")
    assert not any("Idempotency-Key" in headers_of(p, m) for p in paths if p.startswith("/api/v1/operator")
                   for m in paths[p])
    post = paths["/api/v1/worklogs"]["post"]
    assert "idempotency_key_reused" in post["responses"]["422"]["description"]
    assert "Idempotent-Replayed" in post["responses"]["201"]["headers"]


def test_a_multipart_import_sent_again_with_a_new_boundary_is_replayed_not_imported_twice(org: Org) -> None:
    """The client builds the form again (a new random boundary): still the same request."""
    csv = ("User,Timestamp,Duration (hours),Billable duration,Activity type,Comment,Work item\r\n"
           "admin@acme.test,2026-01-05T09:00:00Z,1.5,,,,\r\n")
    key = str(uuid.uuid4())
    answers = [
        org.client.post("/api/v1/worklogs/import", headers=keyed(org.admin, key),
                        files={"file": ("w.csv", csv.encode(), "text/csv")})
        for _ in range(2)
    ]

    assert [a.status_code for a in answers] == [201, 201], answers[0].text
    assert answers[1].headers["idempotent-replayed"] == "true"
    assert answers[1].content == answers[0].content
    assert len(worklog_ids(org, org.admin)) == 1


def test_a_body_over_the_limit_is_refused_413_and_keeps_no_key(org: Org) -> None:
    """The middleware reads no further than the app would: too large is the app's 413, unkeyed."""
    response = org.client.post(
        "/api/v1/worklogs", content=b"x" * (5 * 1024 * 1024 + 1),
        headers={**keyed(org.admin, str(uuid.uuid4())), "Content-Type": "application/json"},
    )
    assert response.status_code == 413, response.text
    assert stored_keys(org) == 0


def test_an_import_larger_than_the_app_body_limit_is_replayed_not_imported_twice(org: Org) -> None:
    """The import route takes bodies past the app's 5 MiB: the middleware reads as far as the
    route allows, so a retried big import is still one import."""
    comment = "c" * 2_000
    rows = "".join(
        f"admin@acme.test,2026-01-05T{9 + n // 3600:02d}:{n // 60 % 60:02d}:{n % 60:02d}Z,"
        f"0.001,,,{comment},\r\n"
        for n in range(2_700)
    )
    body = ("User,Timestamp,Duration (hours),Billable duration,Activity type,Comment,Work item\r\n"
            + rows).encode()
    assert len(body) > 5 * 1024 * 1024
    key = str(uuid.uuid4())

    answers = [
        org.client.post("/api/v1/worklogs/import", content=body,
                        headers={**keyed(org.admin, key), "Content-Type": "text/csv"})
        for _ in range(2)
    ]

    assert [a.status_code for a in answers] == [201, 201], answers[0].text[:300]
    assert answers[1].headers.get("idempotent-replayed") == "true"
    assert answers[0].json() == {"imported": 2_700}

    async def count() -> int:
        async with stint_of(org.client).uow() as work:
            tenant = await work.directory.tenant_by_slug(org.slug)
            return await work.tenant(tenant.id).tracking().count_worklogs()

    assert run(org.client, count) == 2_700

def test_a_server_failure_keeps_no_answer_so_the_retry_does_the_work(
    database_url: str, tmp_path: Path, clock: FixedClock
) -> None:
    """Online activation against a licence service that is down: 503, nothing kept; the retry
    with the same key is performed again (not replayed) and fails the same honest way."""
    settings = make_settings(database_url, tmp_path, STINT_ACCESS_TOKEN_MINUTES="1440",
                             STINT_LICENCE_SERVICE_URL=f"http://127.0.0.1:{free_port()}")
    with api_client(settings, clock) as client:
        signup(client, "onsite", deployment="onprem")
        admin = bearer(token(client, "onsite", "admin@onsite.test"))
        key = str(uuid.uuid4())
        answers = [
            client.post("/api/v1/subscription/activate", json={"subscription_id": "f" * 32},
                        headers=keyed(admin, key))
            for _ in range(2)
        ]
        assert [a.status_code for a in answers] == [503, 503], answers[0].text
        assert answers[0].json()["code"] == "licence_service_unreachable"
        assert all("idempotent-replayed" not in a.headers for a in answers)
        assert stored_keys(Org(client, "onsite", admin, "")) == 0


# A live ``stint serve``: a connection cut after the commit, concurrent retries ----------------


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[StintProcess]:
    process = start_stint(tmp_path / "serve", database_url=database_url)
    try:
        yield process
    finally:
        process.stop()


def live_admin(server: StintProcess, slug: str = "acme") -> dict[str, str]:
    with plain_client(server.url) as c:
        c.post("/api/v1/signup", json={
            "tenant": slug, "name": slug.title(), "deployment": "cloud",
            "admin": {"email": f"admin@{slug}.test", "password": PASSWORD, "name": "Admin"},
        }).raise_for_status()
        signed_in = c.post("/api/v1/auth/token",
                           json={"tenant": slug, "email": f"admin@{slug}.test", "password": PASSWORD})
        signed_in.raise_for_status()
    return bearer(signed_in.json()["access_token"])


def _read_message(sock: socket.socket) -> bytes:
    """One HTTP/1.1 message with a Content-Length body, read whole."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"the peer closed after {data!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lengths = [line.split(b":", 1)[1] for line in head.split(b"\r\n")[1:]
               if line.lower().startswith(b"content-length:")]
    length = int(lengths[0]) if lengths else 0
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the peer closed mid-body")
        body += chunk
    return head + b"\r\n\r\n" + body


class AnswerDroppingProxy:
    """A one-shot TCP proxy: forwards one request to the server, reads the whole answer, and
    closes the client's connection without passing on a byte of it. The server has done
    the work and sent its answer; the client sees its connection die."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self.answer = b""
        self._thread = threading.Thread(target=self._serve_one, daemon=True)
        self._thread.start()

    def _serve_one(self) -> None:
        with self._listener:
            client, _ = self._listener.accept()
            with client, socket.create_connection(self._upstream, timeout=30) as upstream:
                upstream.sendall(_read_message(client))
                self.answer = _read_message(upstream)

    def dropped_answer(self) -> tuple[int, bytes]:
        """The status and body the client never saw."""
        self._thread.join(timeout=30)
        head, _, body = self.answer.partition(b"\r\n\r\n")
        return int(head.split(b" ", 2)[1]), body


def test_a_post_whose_answer_was_lost_after_the_commit_is_retried_to_the_same_answer_and_one_worklog(
    server: StintProcess,
) -> None:
    """Done when (issue 15, item 3): the connection dies after the server committed POST /worklogs;
    the client, having seen only an error, retries with the same key and gets the answer it
    lost, and the tenant has one worklog."""
    admin = live_admin(server)
    key = str(uuid.uuid4())
    proxy = AnswerDroppingProxy(server.url)

    with pytest.raises(httpx.TransportError), plain_client(proxy.url) as through_proxy:
        through_proxy.post("/api/v1/worklogs", json=WORKLOG, headers=keyed(admin, key))
    lost_status, lost_body = proxy.dropped_answer()

    with plain_client(server.url) as c:
        retried = c.post("/api/v1/worklogs", json=WORKLOG, headers=keyed(admin, key))
        listed = c.get("/api/v1/worklogs", headers=admin).json()["items"]

    assert lost_status == 201, lost_body
    assert (retried.status_code, retried.content) == (lost_status, lost_body)
    assert retried.headers["idempotent-replayed"] == "true"
    assert [w["id"] for w in listed] == [retried.json()["id"]]


async def test_concurrent_retries_of_one_keyed_post_wait_for_the_first_and_make_one_worklog(
    server: StintProcess,
) -> None:
    """Eight identical keyed posts at once: one does the work, seven get its answer replayed."""
    admin = live_admin(server)
    key = str(uuid.uuid4())

    async with httpx.AsyncClient(base_url=server.url, timeout=60, trust_env=False) as c:
        answers = await asyncio.gather(*(
            c.post("/api/v1/worklogs", json=WORKLOG, headers=keyed(admin, key)) for _ in range(8)
        ))
        listed = (await c.get("/api/v1/worklogs", headers=admin)).json()["items"]

    assert [a.status_code for a in answers] == [201] * 8, answers[0].text
    assert len({a.content for a in answers}) == 1
    assert sorted(a.headers.get("idempotent-replayed", "") for a in answers) == [""] + ["true"] * 7
    assert [w["id"] for w in listed] == [answers[0].json()["id"]]
