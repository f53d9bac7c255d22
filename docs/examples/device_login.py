"""Pairing an app without a browser through the device grant (RFC 8628), with httpx only:

    python docs/examples/device_login.py https://stint.example

It asks Stint for a code as the first-party ``stint-tracker`` app (registered by
``stint db upgrade``), prints where to type it, polls until you approve on ``/device``, then
reads who you are with the access token.
"""

from __future__ import annotations

import sys
import time

import httpx


def main(base: str, client_id: str = "stint-tracker") -> None:
    base = base.rstrip("/")
    with httpx.Client(base_url=base, timeout=10) as http:
        started = http.post("/oauth/device_authorization", data={"client_id": client_id}).json()
        print(f"Go to {started['verification_uri']} and enter {started['user_code']}")
        interval = started["interval"]
        while True:
            time.sleep(interval)
            polled = http.post("/oauth/token", data={
                "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
                "device_code": started["device_code"], "client_id": client_id,
            })
            body = polled.json()
            if polled.status_code == 200:
                break
            if body["error"] == "slow_down":
                interval += 5  # RFC 8628 §3.5: wait five seconds longer from now on
            elif body["error"] != "authorization_pending":
                sys.exit(f"not paired: {body['error']}")  # access_denied, expired_token
        me = http.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
        print("paired as", me.json()["email"], "with scopes", body["scope"])
        # Keep body["refresh_token"] somewhere only this user can read (file mode 0600).


if __name__ == "__main__":
    main(*sys.argv[1:3])
