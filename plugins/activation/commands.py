"""What ``stint activation issue|verify`` do; ``server/cli/`` parses arguments and calls these."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from core.activation.claims import (
    ActivationRefused,
    ActivationState,
    RefusalReason,
    accept,
    describe,
)
from core.clock import SystemClock
from core.errors import ValidationFailed
from plugins.activation.devkey import (
    dev_public_key,
    signing_key_from_setting,
    trusted_keys_from_settings,
)
from plugins.activation.files import decode_file, issue_file
from plugins.activation.signing import key_id

__all__ = ["issue_command", "verify_command"]


def issue_command(
    tenant: str,
    server_id: str,
    plan: str,
    seats: int,
    expires: date,
    out: Path | str,
    signing_key_setting: str | None,
    data_dir: Path | str,
    *,
    period_start: date | None = None,
    now: datetime | None = None,
) -> str:
    """Write a signed activation file to ``out`` and return a summary; bad input raises."""
    signing_key, is_dev = signing_key_from_setting(signing_key_setting, data_dir)
    text = issue_file(
        tenant=tenant,
        server_id=server_id,
        plan_id=plan,
        seats=seats,
        expires_on=expires,
        signing_key=signing_key,
        now=now or SystemClock().now(),
        period_start=period_start,
    )
    public = signing_key.public_key()
    claims = decode_file(text, {key_id(public): public})
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n", encoding="ascii")
    lines = [f"Wrote activation file {path}:", describe(claims)]
    if is_dev:
        lines.append(
            "WARNING: signed with the development key (STINT_ACTIVATION_SIGNING_KEY is not "
            "set). Only servers with STINT_ACTIVATION_TRUST_DEV_KEY=1 accept it; never send "
            "it to a customer."
        )
    return "\n".join(lines)


def verify_command(
    path: Path | str,
    server_id: str | None,
    public_keys_setting: str | None,
    now: datetime | None = None,
    *,
    trust_dev_key: bool = False,
    data_dir: Path | str | None = None,
) -> tuple[bool, str]:
    """Check a file as a server with no installed file would; ``(ok, what it grants | why not)``.

    Without ``server_id`` every rule but the server match is checked.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return False, f"Cannot read activation file {path}: {error}"
    try:
        trusted = trusted_keys_from_settings(
            public_keys_setting, trust_dev_key=trust_dev_key, data_dir=data_dir
        )
        claims = decode_file(text, trusted)
        checked_server = server_id if server_id is not None else claims.server_id
        accept(claims, ActivationState(), checked_server, now or SystemClock().now())
    except ActivationRefused as refusal:
        return False, f"Refused ({refusal.reason}): {refusal.detail}{_dev_hint(refusal, data_dir)}"
    except ValidationFailed as error:
        return False, f"Cannot verify: {error.detail}"
    note = " (matches --server-id)" if server_id is not None else " (not checked: no --server-id)"
    return True, f"Activation file {path} is valid. It grants:\n{describe(claims, note)}"


def _dev_hint(refusal: ActivationRefused, data_dir: Path | str | None) -> str:
    """Say so when an untrusted key is this installation's own development key."""
    if refusal.reason is not RefusalReason.WRONG_KEY or data_dir is None:
        return ""
    try:
        dev = dev_public_key(data_dir)
    except ValidationFailed:
        return ""
    if dev is None or key_id(dev) != refusal.extra.get("key_id"):
        return ""
    return (
        " It was signed with this installation's development key, which is trusted only "
        "when STINT_ACTIVATION_TRUST_DEV_KEY=1."
    )
