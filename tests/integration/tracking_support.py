"""Shared set-up for the time-tracking API tests: a tenant, its users, their tokens."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from litestar.testing import TestClient

from core.ids import new_id
from core.tenancy import Person, User
from tests.support.api import PASSWORD, bearer, signup, token
from tests.support.work_items import mirror_work_items


@dataclass
class Org:
    client: TestClient[Any]
    slug: str
    admin: dict[str, str]
    admin_id: str

    def add_user(
        self, name: str, *, role: str = "team", approval_manager: bool = False
    ) -> tuple[dict[str, str], str]:
        """A new user of the tenant, made through storage: (auth headers, user id)."""
        email = f"{name}@{self.slug}.test"
        stint = stint_of(self.client)

        async def create() -> str:
            now = stint.clock.now()
            async with stint.uow(write=True) as work:
                tenant = await work.directory.tenant_by_slug(self.slug)
                person = Person(id=new_id(), email=email, name=name.title())
                await work.directory.add_person(person, now)
                user = User(id=new_id(), tenant_id=tenant.id, person_id=person.id, email=email,
                            name=person.name, role=role, collection_admin=False,
                            approval_manager=approval_manager, last_used_at=None)
                await work.tenant(tenant.id).users().add(user, stint.hasher.hash(PASSWORD), now)
                await work.commit()
            return user.id

        user_id = run(self.client, create)
        return bearer(token(self.client, self.slug, email)), user_id


    def work_items(self, *ids: int | str) -> None:
        """Put items ``ids`` in the tenant's mirror (worklogs and timers name only those)."""
        mirror_work_items(self.client, self.slug, *ids)


def make_org(client: TestClient[Any], slug: str = "acme") -> Org:
    signup(client, slug)
    headers = bearer(token(client, slug, f"admin@{slug}.test"))
    me = client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200, me.text
    return Org(client, slug, headers, me.json()["id"])


def run(client: TestClient[Any], fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run an async job function on the app's own event loop (where its database pool lives)."""
    return client.blocking_portal.call(functools.partial(fn, *args, **kwargs))


def stint_of(client: TestClient[Any]) -> Any:
    return client.app.state.stint
