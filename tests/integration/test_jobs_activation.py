"""The online-activation refresh as a scheduled job: a seat change on the licence service
reaches the on-premises server when the job runs (SPEC §7, §11)."""

from __future__ import annotations

from typing import Any

from plugins.jobs.registry import run_job
from tests.integration.test_activation_online import (  # noqa: F401  (fixtures)
    ONPREM,
    StintProcess,
    activate,
    buy_on_service,
    change_seats_on_service,
    no_proxy_variables,
    onprem_admin,
    onprem_clock,
    onprem_for,
    service,
)
from tests.support.api import run, signup, stint


def test_the_activation_refresh_job_brings_a_seat_change_to_the_server(
    service: StintProcess, onprem_for: Any  # noqa: F811
) -> None:
    """10 seats bought, 14 on the service: after the job the server has 14; run again, still 14."""
    customer = buy_on_service(service, "jobs-refresh")
    with onprem_for(service.url) as client:
        signup(client, ONPREM, deployment="onprem")
        assert activate(client, customer.subscription_id).status_code == 200
        change_seats_on_service(service, customer, 14)
        assert run(client, run_job, stint(client), "activation_refresh") == {"refreshed": 1, "failed": 0}
        assert run(client, run_job, stint(client), "activation_refresh") == {"refreshed": 1, "failed": 0}
        seats = client.get("/api/v1/subscription", headers=onprem_admin(client)).json()["seats"]
        assert seats == 14
