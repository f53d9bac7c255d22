"""OAuth clients, authorization codes and device codes (``core.identity.ports.OAuthStore``).

Codes are kept as SHA-256 hashes only, like every other secret. Taking a code reads it under
the write lock (SQLite's IMMEDIATE transaction, a row lock on PostgreSQL), so two requests
with one code cannot both find it unused.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from piccolo.engine.base import Engine

from core.identity.oauth import AuthorizationCode, ClientKind, DeviceCode, OAuthClient
from core.identity.scopes import scope_text, scopes_of_text

from .oauth_tables import OAuthClientRow, OAuthCodeRow, OAuthDeviceCodeRow

__all__ = ["PiccoloOAuthStore"]


def _client(row: dict[str, Any]) -> OAuthClient:
    return OAuthClient(
        id=row["id"], name=row["name"], kind=ClientKind(row["kind"]),
        redirect_uris=tuple(uri for uri in row["redirect_uris"].split("\n") if uri),
        allowed_scopes=scopes_of_text(row["allowed_scopes"]) or frozenset(),
        tenant_id=row["tenant_id"], secret_hash=row["secret_hash"], device_grant=bool(row["device_grant"]),
        disabled=bool(row["disabled"]), created_at=row["created_at"], created_by=row["created_by"],
    )


def _code(row: dict[str, Any]) -> AuthorizationCode:
    return AuthorizationCode(**{**{n: row[n] for n in AuthorizationCode.__slots__},
                                "scopes": scopes_of_text(row["scopes"]) or frozenset()})


def _device(row: dict[str, Any]) -> DeviceCode:
    fields = {n: row[n] for n in DeviceCode.__slots__}
    fields["scopes"] = scopes_of_text(row["scopes"]) or frozenset()
    fields["approved"] = None if row["approved"] is None else bool(row["approved"])
    return DeviceCode(**fields)


class PiccoloOAuthStore:
    def __init__(self, engine: Engine[Any]) -> None:
        self._engine = engine

    def _locked(self, query: Any) -> Any:
        return query.lock_rows("UPDATE") if self._engine.engine_type == "postgres" else query

    # Clients ---------------------------------------------------------------------------

    async def add_client(self, client: OAuthClient) -> None:
        await OAuthClientRow.insert(OAuthClientRow(
            id=client.id, name=client.name, kind=client.kind.value,
            redirect_uris="\n".join(client.redirect_uris),
            allowed_scopes=scope_text(client.allowed_scopes) or "", tenant_id=client.tenant_id,
            secret_hash=client.secret_hash, device_grant=client.device_grant, disabled=client.disabled,
            created_at=client.created_at, created_by=client.created_by,
        ))

    async def client(self, client_id: str) -> OAuthClient | None:
        row = await OAuthClientRow.select().where(OAuthClientRow.id == client_id).first()
        return _client(row) if row else None

    async def tenant_clients(self, tenant_id: str) -> list[OAuthClient]:
        rows = await (OAuthClientRow.select().where(OAuthClientRow.tenant_id == tenant_id)
                      .order_by(OAuthClientRow.created_at).order_by(OAuthClientRow.id).limit(200))
        return [_client(row) for row in rows]

    async def set_client_disabled(self, tenant_id: str, client_id: str, disabled: bool) -> bool:
        mine = (OAuthClientRow.tenant_id == tenant_id) & (OAuthClientRow.id == client_id)
        if not await OAuthClientRow.exists().where(mine):
            return False
        await OAuthClientRow.update({OAuthClientRow.disabled: disabled}).where(mine)
        return True

    # Authorization codes ------------------------------------------------------------------

    async def add_code(self, code: AuthorizationCode) -> None:
        await OAuthCodeRow.insert(OAuthCodeRow(**{
            **{n: getattr(code, n) for n in AuthorizationCode.__slots__},
            "scopes": scope_text(code.scopes) or "",
        }))

    async def take_code(self, code_hash: str, at: datetime) -> AuthorizationCode | None:
        row = await self._locked(OAuthCodeRow.select().where(OAuthCodeRow.code_hash == code_hash)).first()
        if row is None:
            return None
        if row["used_at"] is None:
            await OAuthCodeRow.update({OAuthCodeRow.used_at: at}).where(OAuthCodeRow.code_hash == code_hash)
        return _code(row)

    async def bind_code(self, code_hash: str, family_id: str) -> None:
        await OAuthCodeRow.update({OAuthCodeRow.family_id: family_id}).where(
            OAuthCodeRow.code_hash == code_hash
        )

    # Device codes -------------------------------------------------------------------------

    async def add_device(self, code: DeviceCode) -> None:
        await OAuthDeviceCodeRow.insert(OAuthDeviceCodeRow(**{
            **{n: getattr(code, n) for n in DeviceCode.__slots__}, "scopes": scope_text(code.scopes) or "",
        }))

    async def device(self, device_code_hash: str) -> DeviceCode | None:
        row = await self._locked(
            OAuthDeviceCodeRow.select().where(OAuthDeviceCodeRow.device_code_hash == device_code_hash)
        ).first()
        return _device(row) if row else None

    async def device_by_user_code(self, user_code: str) -> DeviceCode | None:
        row = await OAuthDeviceCodeRow.select().where(OAuthDeviceCodeRow.user_code == user_code).first()
        return _device(row) if row else None

    async def polled(self, device_code_hash: str, at: datetime) -> None:
        await OAuthDeviceCodeRow.update({OAuthDeviceCodeRow.last_polled_at: at}).where(
            OAuthDeviceCodeRow.device_code_hash == device_code_hash
        )

    async def decide_device(
        self, user_code: str, tenant_id: str, user_id: str, approved: bool, at: datetime
    ) -> bool:
        live = (
            (OAuthDeviceCodeRow.user_code == user_code)
            & OAuthDeviceCodeRow.approved.is_null()
            & (OAuthDeviceCodeRow.expires_at > at)
        )
        if not await OAuthDeviceCodeRow.exists().where(live):
            return False
        await OAuthDeviceCodeRow.update({
            OAuthDeviceCodeRow.tenant_id: tenant_id, OAuthDeviceCodeRow.user_id: user_id,
            OAuthDeviceCodeRow.approved: approved,
        }).where(live)
        return True

    async def take_device(self, device_code_hash: str, at: datetime) -> bool:
        unused = (
            (OAuthDeviceCodeRow.device_code_hash == device_code_hash) & OAuthDeviceCodeRow.used_at.is_null()
        )
        if not await OAuthDeviceCodeRow.exists().where(unused):
            return False
        await OAuthDeviceCodeRow.update({OAuthDeviceCodeRow.used_at: at}).where(unused)
        return True
