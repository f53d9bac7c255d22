"""Deployment: where a tenant runs — a cloud organisation or an on-premises server."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Deployment"]


class Deployment(StrEnum):
    """A tenant's deployment; plans say which ones they can be bought for."""

    CLOUD = "cloud"
    ONPREM = "onprem"

    @property
    def display_name(self) -> str:
        return "in the cloud" if self is Deployment.CLOUD else "on-premises"
