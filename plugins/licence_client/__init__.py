"""The on-premises server's HTTP client to the licence service (SPEC §7, online activation)."""

from plugins.licence_client.http import ENTITLEMENTS_PATH, HttpLicenceClient, build_licence_client

__all__ = ["ENTITLEMENTS_PATH", "HttpLicenceClient", "build_licence_client"]
