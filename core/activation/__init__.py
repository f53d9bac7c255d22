"""On-premises activation (SPEC §7): activation files and their claims, entitlements from
the licence service, and the ports both need. The pure rules are :mod:`core.activation.claims`
(files) and :mod:`core.activation.entitlements` (what an entitlement means locally); the
clock check of every access decision, :mod:`core.activation.trusted_time`, is re-exported
here, the face other contexts import."""

from core.activation.trusted_time import (
    DEFAULT_TOLERANCE,
    MARK_EVERY,
    ClockSetBack,
    TrustedTime,
    clock_set_back,
    mark_due,
)

__all__ = ["DEFAULT_TOLERANCE", "MARK_EVERY", "ClockSetBack", "TrustedTime", "clock_set_back", "mark_due"]
