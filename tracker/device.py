"""Pairing through the device authorization grant (RFC 8628).

The tracker asks for a code, the user approves it on Stint's ``/device`` page in any
browser, and meanwhile the tracker polls the token endpoint: every ``interval`` seconds,
five seconds slower after each ``slow_down`` (§3.5), until the tokens come or the code is
denied or runs out.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from tracker.session import CLIENT_ID, NotPaired, TrackerError, Unreachable, problem_text, tokens_from
from tracker.store import Tokens

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


class LoginFailed(NotPaired):
    pass


def login(
    http: httpx.Client, server: str, show: Callable[[dict[str, Any]], None],
    sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.time,
) -> Tokens:
    """Pair with ``server``: ``show`` is handed the device authorization answer (to print the
    URL and code); returns the tokens once the user approved."""
    try:
        started = http.post("/oauth/device_authorization", data={"client_id": CLIENT_ID})
    except httpx.TransportError as error:
        raise Unreachable(f"cannot reach {server}: {error}") from None
    if started.status_code != 200:
        raise TrackerError(f"the server would not start pairing: {problem_text(started)}")
    device = started.json()
    show(device)
    interval = float(device.get("interval") or 5)  # §3.2: 5 seconds when the server says nothing
    deadline = clock() + float(device.get("expires_in") or 600)
    while True:
        sleep(interval)
        try:
            polled = http.post("/oauth/token", data={
                "grant_type": DEVICE_GRANT, "device_code": device["device_code"], "client_id": CLIENT_ID,
            })
        except httpx.TimeoutException:
            # §3.5: a timed-out request counts as slow_down; the code may still be approved.
            interval += 5
            continue
        except httpx.TransportError as failure:
            raise Unreachable(f"cannot reach {server}: {failure}") from None
        if polled.status_code == 200:
            return tokens_from(server, polled.json(), clock())
        code = _error(polled)
        if code == "authorization_pending":
            pass
        elif code == "slow_down":
            interval += 5
        elif code == "access_denied":
            raise LoginFailed("pairing was denied on the Stint page")
        elif code == "expired_token":
            raise LoginFailed("the code expired before it was approved; run `stint-tracker login` again")
        else:
            raise LoginFailed(f"pairing failed: {problem_text(polled)}")
        if clock() >= deadline:
            raise LoginFailed("the code expired before it was approved; run `stint-tracker login` again")


def _error(answer: httpx.Response) -> str:
    try:
        body = answer.json()
    except ValueError:
        return ""
    return str(body.get("error", "")) if isinstance(body, dict) else ""
