"""Totals with descendants: a work item's tracked time plus that of every item below it, for
``workItems``' ``TrackedLengthWithDescendants`` (issue #18: "tracked totals on the item itself
and with descendants").

O(items): each item's depth is found once (memoised, iteratively), then items are folded into
their parents deepest first. An item on a parent cycle (which the mirror refuses) keeps its own
totals and passes nothing up the cycle.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["with_descendants"]


def _depths(parents: Mapping[int, int | None]) -> dict[int, int]:
    depth: dict[int, int] = {}
    on_cycle: set[int] = set()
    for start in parents:
        path: list[int] = []
        seen: set[int] = set()
        node: int | None = start
        while node is not None and node not in depth and node in parents:
            if node in seen:
                on_cycle.update(path[path.index(node):])
                break
            seen.add(node)
            path.append(node)
            node = parents.get(node)
        base = depth.get(node, -1) if node is not None and node not in on_cycle else -1
        for item in reversed(path):
            if item in on_cycle:
                depth[item] = 0
                base = 0
            else:
                base += 1
                depth[item] = base
    for item in on_cycle:
        depth[item] = -1  # marks: do not pass totals up
    return depth


def with_descendants(
    parents: Mapping[int, int | None], own: Mapping[int, tuple[int, int]]
) -> dict[int, tuple[int, int]]:
    """Item → (tracked, billable) of it and all its descendants, for every item of the tree."""
    depth = _depths(parents)
    total = {item: own.get(item, (0, 0)) for item in parents}
    for item in sorted(total, key=lambda i: depth.get(i, 0), reverse=True):
        parent = parents.get(item)
        if parent is None or parent not in total or depth.get(item, 0) < 0 or depth.get(parent, 0) < 0:
            continue
        tracked, billable = total[item]
        up_tracked, up_billable = total[parent]
        total[parent] = (up_tracked + tracked, up_billable + billable)
    return total
