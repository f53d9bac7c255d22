"""Token scopes (core.identity.scopes): parsing, storing, granting."""

from __future__ import annotations

import pytest

from core.errors import ValidationFailed
from core.identity.scopes import ALL_SCOPES, Scope, grants, parse_scopes, scope_text, scopes_of_text


def test_the_known_scope_names_parse_and_repeats_collapse() -> None:
    assert parse_scopes(["reporting:read", "tracking", "tracking"]) == {Scope.REPORTING_READ, Scope.TRACKING}


@pytest.mark.parametrize("names", [["reporting:write"], ["Admin"], [], ["tracking", ""]])
def test_an_unknown_name_or_no_name_at_all_is_refused_naming_the_field(names: list[str]) -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse_scopes(names)
    assert refused.value.field == "scopes"


def test_an_unrestricted_token_is_granted_everything_and_a_scoped_one_only_its_scopes() -> None:
    assert all(grants(None, s) for s in Scope)
    held = frozenset({Scope.REPORTING_READ})
    assert [s for s in Scope if grants(held, s)] == [Scope.REPORTING_READ]
    # ``admin`` is not a master key: it grants only what it names.
    assert not grants(frozenset({Scope.ADMIN}), Scope.WORKLOGS_WRITE)


def test_scopes_are_stored_in_a_fixed_order_and_read_back_the_same() -> None:
    assert scope_text(frozenset({Scope.ADMIN, Scope.TRACKING})) == "tracking admin"
    assert scope_text(None) is None and scopes_of_text(None) is None
    assert scopes_of_text(scope_text(ALL_SCOPES)) == ALL_SCOPES


def test_a_stored_name_this_version_does_not_know_narrows_the_token_rather_than_failing() -> None:
    assert scopes_of_text("reporting:read billing:write") == {Scope.REPORTING_READ}
