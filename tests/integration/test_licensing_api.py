"""Licensing through the HTTP API (SPEC §2, §3, §5, §6): plans, purchase, seats, roles, access."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from core.clock import FixedClock
from core.licensing.administrators import is_tenant_administrator
from tests.conftest import make_settings
from tests.support.api import (
    add_user,
    api_client,
    bearer,
    operator_token,
    run,
    signup,
    stint,
    token,
)


@pytest.fixture
def client(database_url: str, tmp_path: Path, clock: FixedClock) -> Any:
    with api_client(make_settings(database_url, tmp_path), clock) as c:
        yield c


def admin(client: Any, slug: str, deployment: str = "cloud") -> str:
    signup(client, slug, deployment=deployment)
    return token(client, slug, f"admin@{slug}.test")


def buy(client: Any, tok: str, plan: str = "team", interval: str = "annual", seats: int = 10) -> Any:
    return client.post(
        "/api/v1/subscription/purchase",
        json={"plan": plan, "interval": interval, "seats": seats},
        headers=bearer(tok),
    )


def test_a_new_tenant_is_trialing_and_its_admin_sees_the_banner_countdown(
    client: Any, clock: FixedClock
) -> None:
    """28 days left on day one; 27.5 days left still shows 28 (rounded up)."""
    tok = admin(client, "acme")
    access = client.get("/api/v1/me/access", headers=bearer(tok)).json()
    assert access["allowed"] is True
    assert access["banner"] == {"visible": True, "days_left": 28}
    clock.advance(hours=12)
    tok = token(client, "acme", "admin@acme.test")
    assert client.get("/api/v1/me/access", headers=bearer(tok)).json()["banner"]["days_left"] == 28


def test_a_regular_user_never_sees_the_banner_nor_the_subscription_page(client: Any) -> None:
    """Only collection admins see the banner and open the Subscription page (SPEC §6)."""
    tok = admin(client, "acme")
    add_user(client, tok, "dev@acme.test")
    dev = token(client, "acme", "dev@acme.test")
    access = client.get("/api/v1/me/access", headers=bearer(dev)).json()
    assert access["allowed"] is True and access["banner"] == {"visible": False, "days_left": None}
    refused = client.get("/api/v1/subscription", headers=bearer(dev))
    assert refused.status_code == 403 and refused.json()["code"] == "not_permitted"


def test_during_a_trial_every_user_who_uses_the_product_is_licensed(client: Any) -> None:
    """First use takes a seat automatically; a trial has no seat limit."""
    tok = admin(client, "acme")
    for n in range(5):
        add_user(client, tok, f"u{n}@acme.test")
        me = client.get("/api/v1/me", headers=bearer(token(client, "acme", f"u{n}@acme.test")))
        assert me.json()["licensed"] is True
    users = client.get("/api/v1/users", headers=bearer(tok)).json()
    assert users["seats"] is None and users["seats_taken"] == 5


def test_role_none_in_the_cloud_finds_no_time_tab_and_no_api(client: Any) -> None:
    """Cloud role None: 404 everywhere, exactly like a route that does not exist."""
    tok = admin(client, "acme")
    add_user(client, tok, "guest@acme.test", role="none")
    guest = token(client, "acme", "guest@acme.test")
    response = client.get("/api/v1/me", headers=bearer(guest))
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    access = client.get("/api/v1/me/access", headers=bearer(guest)).json()
    assert access["allowed"] is False and access["reason"] == "role_none" and access["hidden"] is True


def test_role_none_on_premises_meets_a_locked_door(client: Any) -> None:
    """On-premises role None: 403 role_none with "This door is locked."."""
    tok = admin(client, "acme", deployment="onprem")
    add_user(client, tok, "guest@acme.test", role="none")
    guest = token(client, "acme", "guest@acme.test")
    response = client.get("/api/v1/me", headers=bearer(guest))
    assert response.status_code == 403
    assert response.json()["code"] == "role_none" and response.json()["detail"] == "This door is locked."
    assert client.get("/api/v1/me/access", headers=bearer(guest)).json()["hidden"] is False


def test_the_default_role_applies_to_users_without_one(client: Any) -> None:
    """Changing the default role to None locks out every user who has no role of their own."""
    tok = admin(client, "acme", deployment="onprem")
    add_user(client, tok, "plain@acme.test", role=None)
    plain = token(client, "acme", "plain@acme.test")
    assert client.get("/api/v1/me", headers=bearer(plain)).json()["role"] == "team"
    assert (
        client.put("/api/v1/settings/default-role", json={"role": "none"}, headers=bearer(tok)).status_code
        == 200
    )
    assert client.get("/api/v1/me", headers=bearer(plain)).json()["code"] == "role_none"
    assert client.get("/api/v1/me", headers=bearer(tok)).status_code == 200  # has a role of its own


@pytest.mark.parametrize(
    ("deployment", "plan", "seats", "code"),
    [
        ("onprem", "free", 1, "plan_not_available"),
        ("cloud", "start", 20, "seat_limit"),
        ("cloud", "legacy_services", 5, "plan_not_available"),
        ("onprem", "legacy_server", 5, "plan_not_available"),
        ("cloud", "ultimate", 19, "seat_limit"),
        ("cloud", "no-such-plan", 5, "plan_not_available"),
    ],
)
def test_purchases_outside_a_plans_rules_are_refused_with_their_code(
    client: Any, deployment: str, plan: str, seats: int, code: str
) -> None:
    """Free on-premises, Start with 20, legacy plans and unknown plans are refused; nothing changes."""
    tok = admin(client, "acme", deployment=deployment)
    response = buy(client, tok, plan=plan, seats=seats)
    assert response.status_code in (409, 422) and response.json()["code"] == code
    assert client.get("/api/v1/subscription", headers=bearer(tok)).json()["status"] == "trialing"


def test_buying_starts_the_period_today_and_invoices_seats_times_price(client: Any) -> None:
    """Team annual, 10 seats on 2026-01-01: period to 2027-01-01, invoice 1,440.00, banner gone."""
    tok = admin(client, "acme")
    response = buy(client, tok)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["subscription"]["status"] == "active"
    assert (body["subscription"]["period_start"], body["subscription"]["period_end"]) == (
        "2026-01-01",
        "2027-01-01",
    )
    assert body["invoice"]["total"] == {"amount": 144000, "currency": "USD"}
    assert body["invoice"]["lines"][0]["description"] == "Team annual: 10 seats × 144.00"
    assert client.get("/api/v1/me/access", headers=bearer(tok)).json()["banner"]["visible"] is False


def test_twenty_concurrent_licence_requests_against_five_free_seats_license_exactly_five(client: Any) -> None:
    """Licensed users never exceed paid seats, whatever the concurrency (SPEC §5)."""
    tok = admin(client, "acme")
    client.get("/api/v1/me", headers=bearer(tok))  # the admin uses the product: one seat
    assert buy(client, tok, seats=6).status_code == 200
    ids = [add_user(client, tok, f"u{n}@acme.test")["id"] for n in range(20)]

    def license_one(user_id: str) -> Any:
        return client.patch(f"/api/v1/users/{user_id}", json={"licensed": True}, headers=bearer(tok))

    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(license_one, ids))

    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(200) == 5, [r.text for r in responses if r.status_code != 200][:3]
    assert all(r.json()["code"] == "seat_limit" for r in responses if r.status_code != 200)
    users = client.get("/api/v1/users", headers=bearer(tok)).json()
    assert users["seats_taken"] == 6 == users["seats"]


def test_with_no_seat_free_a_new_user_is_told_no_licence_is_available(client: Any) -> None:
    """A user beyond the paid seats gets 403 no_seat; the refusal is audited for the admins."""
    tok = admin(client, "acme")
    client.get("/api/v1/me", headers=bearer(tok))
    assert buy(client, tok, seats=1).status_code == 200
    add_user(client, tok, "late@acme.test")
    response = client.get("/api/v1/me", headers=bearer(token(client, "acme", "late@acme.test")))
    assert response.status_code == 403 and response.json()["code"] == "no_seat"


def test_unlicensing_frees_the_seat_at_once_for_someone_else(client: Any) -> None:
    """An admin unlicenses one person; the next person takes that seat on first use."""
    tok = admin(client, "acme")
    client.get("/api/v1/me", headers=bearer(tok))
    assert buy(client, tok, seats=2).status_code == 200
    first = add_user(client, tok, "first@acme.test")
    add_user(client, tok, "second@acme.test")
    assert (
        client.get("/api/v1/me", headers=bearer(token(client, "acme", "first@acme.test"))).status_code == 200
    )
    second = token(client, "acme", "second@acme.test")
    assert client.get("/api/v1/me", headers=bearer(second)).json()["code"] == "no_seat"
    released = client.patch(f"/api/v1/users/{first['id']}", json={"licensed": False}, headers=bearer(tok))
    assert released.json()["licensed"] is False
    assert client.get("/api/v1/me", headers=bearer(second)).status_code == 200


def test_lowering_seats_below_licensed_users_is_refused_until_enough_are_unlicensed(client: Any) -> None:
    """3 licensed users, a change to 2 seats: 409 seat_limit naming how many to unlicense."""
    tok = admin(client, "acme")
    client.get("/api/v1/me", headers=bearer(tok))
    assert buy(client, tok, seats=5).status_code == 200
    for n in range(2):
        add_user(client, tok, f"u{n}@acme.test")
        client.get("/api/v1/me", headers=bearer(token(client, "acme", f"u{n}@acme.test")))
    response = client.post("/api/v1/subscription/change", json={"seats": 2}, headers=bearer(tok))
    assert response.status_code == 409 and response.json()["code"] == "seat_limit"
    assert "unlicense 1 user first" in response.json()["detail"]


def test_an_ultimate_person_using_two_tenants_of_the_enterprise_holds_one_seat(client: Any) -> None:
    """Ultimate covers every tenant of the enterprise with one seat pool (SPEC §1, §5)."""
    from core.services.signup import signup as signup_service
    from tests.support.api import PASSWORD, run, stint

    tok = admin(client, "acme")
    s = stint(client)
    enterprise_id = run(client, _enterprise_of, s, "acme")
    run(
        client,
        signup_service,
        s.uow,
        s.hasher,
        s.clock,
        slug="acme-onprem",
        name="Acme On-Prem",
        deployment="onprem",
        admin_email="admin@acme.test",
        admin_password=PASSWORD,
        admin_name="Admin",
        trial_days=28,
        enterprise_id=enterprise_id,
    )
    assert buy(client, tok, plan="ultimate", seats=20).status_code == 200
    client.get("/api/v1/me", headers=bearer(tok))
    other = token(client, "acme-onprem", "admin@acme.test")
    assert client.get("/api/v1/me", headers=bearer(other)).json()["licensed"] is True
    assert client.get("/api/v1/subscription", headers=bearer(other)).json()["plan"] == "ultimate"
    assert client.get("/api/v1/users", headers=bearer(tok)).json()["seats_taken"] == 1


async def _enterprise_of(s: Any, slug: str) -> str:
    async with s.uow() as work:
        tenant = await work.directory.tenant_by_slug(slug)
    return str(tenant.enterprise_id)


def test_a_trial_an_operator_ended_blocks_everything_but_the_admins_subscription_page(
    client: Any, clock: FixedClock
) -> None:
    """402 expired everywhere; the collection admin still views and buys; buying restores at once."""
    tok = admin(client, "acme")
    add_user(client, tok, "dev@acme.test")
    dev = token(client, "acme", "dev@acme.test")
    ops = operator_token(client)
    ended = client.post(
        "/api/v1/operator/tenants/acme/trial", json={"ends_on": "2026-01-01"}, headers=bearer(ops)
    )
    assert ended.status_code == 200 and ended.json()["status"] == "expired"

    for who in (tok, dev):
        response = client.get("/api/v1/me", headers=bearer(who))
        assert response.status_code == 402 and response.json()["code"] == "trial_expired"
    assert client.get("/api/v1/users", headers=bearer(tok)).status_code == 402
    assert client.get("/api/v1/subscription", headers=bearer(dev)).status_code == 402
    assert client.get("/api/v1/subscription", headers=bearer(tok)).json()["status"] == "expired"

    assert buy(client, tok, seats=5).status_code == 200
    assert client.get("/api/v1/me", headers=bearer(dev)).status_code == 200


def test_an_operator_extends_a_trial_and_the_countdown_follows(client: Any) -> None:
    """Extending to 2026-02-15 shows 45 days left on 2026-01-01 at 09:00."""
    tok = admin(client, "acme")
    ops = operator_token(client)
    response = client.post(
        "/api/v1/operator/tenants/acme/trial", json={"ends_on": "2026-02-15"}, headers=bearer(ops)
    )
    assert response.json() == {"tenant": "acme", "status": "trialing", "trial_ends_on": "2026-02-15"}
    assert client.get("/api/v1/me/access", headers=bearer(tok)).json()["banner"]["days_left"] == 45
    assert (
        client.post(
            "/api/v1/operator/tenants/nope/trial", json={"ends_on": "2026-02-15"}, headers=bearer(ops)
        ).status_code
        == 404
    )


def test_cancel_keeps_access_to_period_end_and_resume_undoes_it(client: Any, clock: FixedClock) -> None:
    """Cancelled: still active until the period ends; resumed before then, it renews again."""
    tok = admin(client, "acme")
    buy(client, tok, interval="monthly", seats=3)
    cancelled = client.post("/api/v1/subscription/cancel", headers=bearer(tok)).json()
    assert cancelled["status"] == "cancelled" and cancelled["period_end"] == "2026-02-01"
    clock.advance(days=20)
    tok = token(client, "acme", "admin@acme.test")
    assert client.get("/api/v1/me", headers=bearer(tok)).status_code == 200
    assert client.post("/api/v1/subscription/resume", headers=bearer(tok)).json()["status"] == "active"


def test_the_operator_plans_catalogue_is_data_that_operators_edit(client: Any) -> None:
    """GET lists the six default plans; PUT changes a price; a bad plan is refused naming the field."""
    ops = operator_token(client)
    plans = client.get("/api/v1/operator/plans", headers=bearer(ops)).json()
    assert [p["id"] for p in plans] == [
        "free",
        "start",
        "team",
        "ultimate",
        "legacy_services",
        "legacy_server",
    ]
    team = next(p for p in plans if p["id"] == "team")
    team["monthly_price_monthly_billing"] = 1600
    assert client.put("/api/v1/operator/plans", json=[team], headers=bearer(ops)).status_code == 200
    again = client.get("/api/v1/operator/plans", headers=bearer(ops)).json()
    assert next(p for p in again if p["id"] == "team")["monthly_price_monthly_billing"] == 1600
    broken = dict(team, min_users="many")
    response = client.put("/api/v1/operator/plans", json=[broken], headers=bearer(ops))
    assert response.status_code == 422 and "min_users" in response.json()["errors"][0]["field"]


def test_a_credit_payout_is_refused_with_a_clear_error(client: Any) -> None:
    """Credit is never paid out (SPEC §4)."""
    tok = admin(client, "acme")
    response = client.post("/api/v1/subscription/credit/payout", headers=bearer(tok))
    assert response.status_code == 409 and response.json()["code"] == "payout_refused"
    assert "never paid out" in response.json()["detail"]


def test_an_uninstalled_tenant_is_blocked_and_reinstalling_brings_it_back_unchanged(client: Any) -> None:
    """Uninstall keeps every row; the tenant answers tenant_uninstalled until reinstalled (SPEC §3)."""
    tok = admin(client, "acme")
    add_user(client, tok, "dev@acme.test")
    assert buy(client, tok, seats=4).status_code == 200
    before = client.get("/api/v1/users", headers=bearer(tok)).json()
    ops = operator_token(client)
    gone = client.post("/api/v1/operator/tenants/acme/uninstall", headers=bearer(ops))
    assert gone.json() == {"tenant": "acme", "installed": False}
    refused = client.get("/api/v1/me", headers=bearer(tok))
    assert refused.status_code == 403 and refused.json()["code"] == "tenant_uninstalled"
    back = client.post("/api/v1/operator/tenants/acme/reinstall", headers=bearer(ops))
    assert back.json() == {"tenant": "acme", "installed": True}
    assert client.get("/api/v1/users", headers=bearer(tok)).json() == before
    assert client.get("/api/v1/subscription", headers=bearer(tok)).json()["seats"] == 4


def test_a_refused_user_reaches_the_admins_once_a_day_however_often_they_retry(client: Any) -> None:
    """Five refused requests write one "seat.unavailable" audit entry, not five."""
    from plugins.storage.tables import AuditEvent
    from tests.support.api import run

    tok = admin(client, "acme")
    client.get("/api/v1/me", headers=bearer(tok))
    assert buy(client, tok, seats=1).status_code == 200
    add_user(client, tok, "late@acme.test")
    late = token(client, "acme", "late@acme.test")
    for _ in range(5):
        assert client.get("/api/v1/me", headers=bearer(late)).json()["code"] == "no_seat"

    async def count() -> int:
        return int(await AuditEvent.count().where(AuditEvent.action == "seat.unavailable"))

    assert run(client, count) == 1


def test_the_purchase_page_proposes_as_many_seats_as_users_of_the_last_30_days(
    client: Any, clock: FixedClock
) -> None:
    """Three users used the product this month, one only 40 days ago: the proposal is 3."""
    tok = admin(client, "acme")
    add_user(client, tok, "old@acme.test")
    client.get("/api/v1/me", headers=bearer(token(client, "acme", "old@acme.test")))
    clock.advance(days=40)
    from tests.support.api import run, stint

    s = stint(client)
    run(client, _extend_trial, s, "acme")
    for n in range(2):
        add_user(client, tok := token(client, "acme", "admin@acme.test"), f"u{n}@acme.test")
        client.get("/api/v1/me", headers=bearer(token(client, "acme", f"u{n}@acme.test")))
    tok = token(client, "acme", "admin@acme.test")
    client.get("/api/v1/me", headers=bearer(tok))
    assert client.get("/api/v1/subscription", headers=bearer(tok)).json()["proposed_seats"] == 3


async def _extend_trial(s: Any, slug: str) -> None:
    from datetime import timedelta

    from core.services.operators import set_trial_end

    await set_trial_end(
        s.uow, s.clock, operator="operator:test", slug=slug, ends_on=s.clock.now().date() + timedelta(days=10)
    )


def test_buying_again_while_a_subscription_runs_is_a_conflict_not_a_server_error(client: Any) -> None:
    """The refusal carries the subscription's status without clobbering the problem's own."""
    tok = admin(client, "acme")
    assert buy(client, tok, seats=3).status_code == 200
    again = buy(client, tok, seats=3)
    assert again.status_code == 409
    body = again.json()
    assert body["status"] == 409 and body["code"] == "conflict"
    assert body["context"] == {"status": "active"}


def test_operators_search_tenants_by_part_of_their_name_on_both_engines(client: Any) -> None:
    """``?q=`` finds tenants by a case-insensitive part of the slug; odd characters find nothing."""
    for slug in ("acme", "acme-labs", "globex"):
        signup(client, slug)
    ops = operator_token(client)
    found = client.get("/api/v1/operator/tenants", params={"q": "ACME"}, headers=bearer(ops))
    assert found.status_code == 200, found.text
    assert [t["slug"] for t in found.json()["items"]] == ["acme", "acme-labs"]
    odd = client.get("/api/v1/operator/tenants", params={"q": "%_'"}, headers=bearer(ops))
    assert odd.status_code == 200


def _change(client: Any, tok: str, user_id: str, **change: Any) -> Any:
    return client.patch(f"/api/v1/users/{user_id}", json=change, headers=bearer(tok))


def test_the_only_administrator_cannot_lock_the_tenant_out(client: Any) -> None:
    """Demoting the last collection admin with the Administrator role, in any way, is 409
    last_administrator and changes nothing; the admin routes stay open to them."""
    tok = admin(client, "acme")
    me = client.get("/api/v1/me", headers=bearer(tok)).json()["id"]
    demotions = ({"role": "none", "collection_admin": False}, {"role": "team"}, {"collection_admin": False})
    for change in demotions:
        refused = _change(client, tok, me, **change)
        assert refused.status_code == 409, (change, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["code"] == "last_administrator"
    users = client.get("/api/v1/users", headers=bearer(tok))
    assert users.status_code == 200
    (mine,) = users.json()["items"]
    assert (mine["role"], mine["collection_admin"]) == ("administrator", True)


def test_an_administrator_steps_down_once_another_one_exists(client: Any) -> None:
    """With a second collection admin who is an Administrator the first may step down; the
    second, now alone, may not."""
    tok = admin(client, "acme")
    me = client.get("/api/v1/me", headers=bearer(tok)).json()["id"]
    other = add_user(client, tok, "ada@acme.test", role="administrator")
    assert _change(client, tok, other["id"], collection_admin=True).status_code == 200
    assert _change(client, tok, me, role="team", collection_admin=False).status_code == 200
    ada = token(client, "acme", "ada@acme.test")
    assert _change(client, ada, other["id"], role="budget").json()["code"] == "last_administrator"


def test_a_default_role_change_that_demotes_the_last_administrator_is_refused(client: Any) -> None:
    """A collection admin without a role of their own is an Administrator only while that is the
    default; moving the default away from it is refused when no one else is one."""
    tok = admin(client, "acme")
    me = client.get("/api/v1/me", headers=bearer(tok)).json()["id"]
    plain = add_user(client, tok, "pat@acme.test", role=None)
    assert _change(client, tok, plain["id"], collection_admin=True).status_code == 200
    default_role = "/api/v1/settings/default-role"
    assert client.put(default_role, json={"role": "administrator"}, headers=bearer(tok)).status_code == 200
    assert _change(client, tok, me, role="team").status_code == 200  # pat still administers
    refused = client.put(default_role, json={"role": "team"}, headers=bearer(tok))
    assert refused.status_code == 409 and refused.json()["code"] == "last_administrator"
    pat = token(client, "acme", "pat@acme.test")
    assert client.get("/api/v1/users", headers=bearer(pat)).status_code == 200


def test_two_administrators_demoting_each_other_at_once_leave_one_of_them(client: Any) -> None:
    """Concurrent demotions are serialised: exactly one succeeds, whatever the timing."""
    tok = admin(client, "acme")
    me = client.get("/api/v1/me", headers=bearer(tok)).json()["id"]
    other = add_user(client, tok, "ada@acme.test", role="administrator")
    assert _change(client, tok, other["id"], collection_admin=True).status_code == 200
    ada = token(client, "acme", "ada@acme.test")
    demotions = [(ada, me), (tok, other["id"])] * 4

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(lambda pair: _change(client, pair[0], pair[1], role="team"), demotions))

    assert {r.status_code for r in responses} <= {200, 403, 409}, [r.text for r in responses]
    assert any(r.status_code == 200 for r in responses)
    assert len(run(client, _administrators, stint(client), "acme")) == 1


async def _administrators(s: Any, slug: str) -> list[str]:
    async with s.uow() as work:
        tenant = await work.directory.tenant_by_slug(slug)
        users = await work.tenant(tenant.id).users().list(limit=100)
    return [user.id for user in users if is_tenant_administrator(user, tenant.default_role)]
