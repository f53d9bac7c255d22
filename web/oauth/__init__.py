"""Stint's OAuth 2.0 authorisation server: Authlib's, wired to Litestar and to Stint's use cases.

Authlib (``authlib.oauth2``) does the protocol: parsing and checking requests, client
authentication, PKCE (RFC 7636), the device grant (RFC 8628), revocation (RFC 7009) and the
error bodies. Everything it stores or looks up goes through ``core.services.oauth`` (with
``oauth_device`` and ``oauth_grants``) and ``core.services.tokens``; the rules (S256 only,
exact redirect URIs, codes good once for 60 s, which client serves which tenant) are
``core.identity.oauth``'s.

Tokens are the sign-in's (``core.services.tokens``): an app's grant is a refresh-token family
naming its client and consented scopes; its access tokens are the usual JWTs with ``sid`` (the
family), ``scope`` and ``cid`` (``plugins/identity/tokens.py``), so revoking the family —
Unpair, a reused refresh token, /oauth/revoke — ends them on their next request everywhere.

The parts: :mod:`~web.oauth.bridge` (a Litestar request in, Authlib's answer out, each protocol
step in a worker thread), :mod:`~web.oauth.models` (the clients, codes and grants as Authlib
asks about them), :mod:`~web.oauth.grants` (authorization code with PKCE, refresh token, device
code), :mod:`~web.oauth.endpoints` (device authorization, revocation) and
:mod:`~web.oauth.server` (the server that registers them, the tokens it issues, RFC 8414's
metadata). The routes are ``web/api/oauth.py`` and ``web/pages/oauth.py``.
"""

from __future__ import annotations

import logging

# Authlib logs issued tokens at DEBUG ("Issue token %r to %r"): secrets never reach Stint's
# logs, whatever level an operator turns on (tests/integration/test_oauth.py greps them).
logging.getLogger("authlib").setLevel(logging.INFO)
