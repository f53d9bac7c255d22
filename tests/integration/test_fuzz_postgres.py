"""The per-operation schema fuzz of ``test_fuzz.py`` against PostgreSQL.

Some input only PostgreSQL refuses: text holding U+0000 (its text type cannot store it) gave
a 500 on about forty operations while the SQLite fuzz, which the rest of ``test_fuzz.py``
runs, passed (docs/api.md, "Errors"). The same generated cases, the same checks (no 500s,
answers that match the schema, errors as problem+json), on one PostgreSQL database cloned
from the migrated template. The stateful sequences stay on SQLite only: what they exercise
(links between operations) does not depend on the engine, and they are the slow part.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import make_settings
from tests.integration import test_fuzz as fuzz
from tests.support import databases
from tests.support.api import api_client, bearer, operator_token, signup, token

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Any]:
    name, url = databases.create_from_template(request.getfixturevalue("postgres_template"))
    settings = make_settings(
        url, tmp_path_factory.mktemp("fuzz-postgres"),
        # As test_fuzz.py: limits high enough that the fuzzer's own volume is never what it measures.
        STINT_RATE_LIMIT_API="100000000", STINT_RATE_LIMIT_CLIENT="1000000", STINT_RATE_LIMIT_LOGIN="100000",
    )
    try:
        with api_client(settings, fuzz._fuzz_clock()) as c:
            signup(c, "fuzz-tenant")
            c.headers.update(bearer(token(c, "fuzz-tenant", "admin@fuzz-tenant.test")))
            c.operator_headers = bearer(operator_token(c))
            yield c
    finally:
        databases.drop(name)


@fuzz.healthy.parametrize()
def test_the_api_on_postgresql_holds_its_schema_under_fuzzing(case: Any, client: Any) -> None:
    case.validate_response(fuzz._call(case, client), checks=fuzz.CHECKS)
