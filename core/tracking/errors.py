"""Errors that only time tracking raises; the shared ones live in :mod:`core.errors`."""

from __future__ import annotations

from core.errors import StintError

__all__ = ["WorklogLimitReached"]


class WorklogLimitReached(StintError):
    """The plan allows no more worklogs (Free: per tenant, Start: per user)."""

    code = "worklog_limit"
