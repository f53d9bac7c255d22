"""``stint-tracker``: Stint's terminal timer, an app like any other.

It talks to Stint only through the public HTTP API (OAuth 2.0 device grant, ``/api/v1``), so
it imports nothing of ``core``, ``plugins``, ``web``, ``admin`` or ``server`` (an
import-linter contract holds it to that): what it can do, a third-party app can do too.

- ``store``  — the tokens on disk (mode 0600) and the lock that keeps two processes from
  spending one refresh token twice;
- ``session`` — an httpx client that adds the bearer token and refreshes it when it runs out;
- ``device`` — pairing through the device grant (RFC 8628);
- ``events`` — the server-sent event stream, reconnecting when it drops;
- ``cli``    — the commands, what they print, and the exit codes.
"""
