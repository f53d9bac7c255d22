"""Identifiers: one at a time or many at once, the same kind of id."""

from __future__ import annotations

import uuid

from core.ids import new_id, new_ids


def test_ids_made_at_once_are_random_version_4_uuids_in_hex_like_single_ones() -> None:
    many = new_ids(10_000)
    assert len(set(many)) == 10_000
    for text in [*many, new_id()]:
        parsed = uuid.UUID(hex=text)
        assert (parsed.hex, parsed.version, parsed.variant) == (text, 4, uuid.RFC_4122)


def test_no_ids_asked_for_none_made() -> None:
    assert new_ids(0) == []
