"""Test-wide settings: Hypothesis profiles, and the environment set before any app import.

Profiles: ``ci`` is deterministic (derandomized, fixed example count, no deadline),
selected by ``.ci/run`` through ``HYPOTHESIS_PROFILE=ci``; ``dev`` (the default) is
the same size but random; ``deep`` is for long local runs.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=100,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile("deep", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
