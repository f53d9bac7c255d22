"""On-premises activation (SPEC §7): activation files and their claims, entitlements from
the licence service, and the ports both need. The pure rules are :mod:`core.activation.claims`
(files) and :mod:`core.activation.entitlements` (what an entitlement means locally)."""
