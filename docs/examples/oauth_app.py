"""A third-party app for Stint, end to end: authorization code + PKCE (S256), then an API call,
a refresh, and giving the grant back. Run it against a Stint you can sign in to:

    pip install authlib httpx2   # Authlib's httpx client runs on httpx2 since Authlib 1.8
    python docs/examples/oauth_app.py https://stint.example app_0123…  # the client id

Register the app first (Settings · Apps, or ``POST /api/v1/apps``) as a *public* app with the
redirect URI ``http://127.0.0.1:8765/callback`` and the scope ``tracking``. The script prints
the authorisation link (and opens it in a browser when it can), waits on 127.0.0.1:8765 for
Stint to send the browser back, and exchanges the code with its PKCE verifier.
"""

from __future__ import annotations

import http.server
import sys
import webbrowser

from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client

REDIRECT = "http://127.0.0.1:8765/callback"


def wait_for_redirect() -> str:
    """The URL Stint sent the browser back to (it carries ``code`` and ``state``)."""
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append("http://127.0.0.1:8765" + self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.end_headers()
            self.wfile.write(b"Done: you can close this tab and go back to the app.")

        def log_message(self, *args: object) -> None:  # keep the code out of the terminal
            pass

    with http.server.HTTPServer(("127.0.0.1", 8765), Handler) as server:
        while not seen:
            server.handle_request()
    return seen[0]


def main(base: str, client_id: str) -> None:
    base = base.rstrip("/")
    app = OAuth2Client(client_id=client_id, scope="tracking", redirect_uri=REDIRECT,
                       code_challenge_method="S256", token_endpoint_auth_method="none")
    verifier = generate_token(48)
    url, _state = app.create_authorization_url(f"{base}/oauth/authorize", code_verifier=verifier)
    print("Open this link, sign in and approve:\n ", url)
    webbrowser.open(url)
    back = wait_for_redirect()
    # Authlib checks that ``state`` came back unchanged before it sends the code.
    tokens = app.fetch_token(f"{base}/oauth/token", authorization_response=back, code_verifier=verifier)
    print("granted scopes:", tokens["scope"])

    me = app.get(f"{base}/api/v1/me")
    print("signed in as:", me.json()["email"])

    # Refresh tokens rotate: keep the new one, the old one is spent (using it again ends the grant).
    tokens = app.refresh_token(f"{base}/oauth/token", refresh_token=tokens["refresh_token"])
    print("refreshed; access token expires in", tokens["expires_in"], "s")

    app.revoke_token(f"{base}/oauth/revoke", token=tokens["refresh_token"])
    print("grant given back: the app no longer shows on Settings · Apps")


if __name__ == "__main__":
    main(*sys.argv[1:3])
