"""The resolution rule (SPEC §12) against a naive reference walk written here, separately."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from core.budgets import Assignment, Assignments, Resolution, Resolver, WorkTree


def naive_item(item: int, tree: WorkTree, assigned: Assignments) -> Resolution:
    """The rule as the spec says it, one step at a time, no memo."""
    if item in assigned.work_items:
        return Resolution(assigned.work_items[item], Assignment.DIRECT)
    ancestor = tree.parents.get(item)
    while ancestor is not None:
        if ancestor in assigned.work_items:
            return Resolution(assigned.work_items[ancestor], Assignment.PARENT)
        ancestor = tree.parents.get(ancestor)
    iteration = tree.iterations.get(item)
    if iteration is not None and iteration in assigned.iterations:
        return Resolution(assigned.iterations[iteration], Assignment.ITERATION)
    return Resolution(None, Assignment.NONE)


def naive_worklog(worklog: str, item: int | None, tree: WorkTree, assigned: Assignments) -> Resolution:
    if worklog in assigned.worklogs:
        return Resolution(assigned.worklogs[worklog], Assignment.DIRECT)
    if item is None:
        return Resolution(None, Assignment.NONE)
    of_item = naive_item(item, tree, assigned)
    if of_item.assignment in (Assignment.DIRECT, Assignment.PARENT):
        return Resolution(of_item.budget_id, Assignment.PARENT)
    return of_item


@st.composite
def forests(draw: st.DrawFn) -> WorkTree:
    """Any forest: item k's parent is an earlier item or none, under shuffled ids."""
    size = draw(st.integers(0, 40))
    ids = draw(st.permutations(list(range(1, size + 1))))
    parents: dict[int, int | None] = {}
    iterations: dict[int, int | None] = {}
    for position, item in enumerate(ids):
        parent_at = draw(st.none() | st.integers(0, position - 1)) if position else None
        parents[item] = None if parent_at is None else ids[parent_at]
        iterations[item] = draw(st.none() | st.integers(1, 4))
    return WorkTree(parents, iterations)


BUDGETS = st.sampled_from(["A", "B", "C"])
# (kind, target, budget or None to unassign): applied in order, last one per target wins.
Operation = tuple[str, int | str, str | None]


def operations(tree: WorkTree, worklogs: list[str]) -> st.SearchStrategy[list[Operation]]:
    targets: list[st.SearchStrategy[tuple[str, int | str]]] = [
        st.tuples(st.just("iteration"), st.integers(1, 4))
    ]
    if tree.parents:
        targets.append(st.tuples(st.just("work_item"), st.sampled_from(sorted(tree.parents))))
    if worklogs:
        targets.append(st.tuples(st.just("worklog"), st.sampled_from(worklogs)))
    op = st.tuples(st.one_of(targets), st.none() | BUDGETS).map(lambda t: (t[0][0], t[0][1], t[1]))
    return st.lists(op, max_size=30)


def apply(ops: list[Operation]) -> Assignments:
    maps: dict[str, dict[int | str, str]] = {"iteration": {}, "work_item": {}, "worklog": {}}
    for kind, target, budget in ops:
        if budget is None:
            maps[kind].pop(target, None)
        else:
            maps[kind][target] = budget
    return Assignments(
        iterations={int(k): v for k, v in maps["iteration"].items()},
        work_items={int(k): v for k, v in maps["work_item"].items()},
        worklogs={str(k): v for k, v in maps["worklog"].items()},
    )


@given(st.data())
def test_any_forest_and_any_assignment_order_resolve_as_the_naive_walk(data: st.DataObject) -> None:
    tree = data.draw(forests())
    items = sorted(tree.parents)
    worklogs = {f"w{n}": data.draw(st.none() | st.sampled_from(items)) if items else None for n in range(8)}
    ops = data.draw(operations(tree, sorted(worklogs)))
    assigned = apply(ops)
    # The same final assignments reached in another order: whatever order the direct
    # assignments were made (each target keeps its last one), the outcome is one.
    reordered = apply(data.draw(st.permutations([op for op in _final(ops)])))
    assert reordered == assigned

    resolver = Resolver(tree, assigned)
    # Resolve in an arbitrary order, so the memo is filled from anywhere in the tree.
    for item in data.draw(st.permutations(items)):
        assert resolver.work_item(item) == naive_item(item, tree, assigned)
    for worklog, on_item in worklogs.items():
        assert resolver.worklog(worklog, on_item) == naive_worklog(worklog, on_item, tree, assigned)
    assert Resolver(tree, assigned).all_work_items() == {i: naive_item(i, tree, assigned) for i in items}


def _final(ops: list[Operation]) -> list[Operation]:
    """Each target's last operation: the assignments' state, as a set of facts."""
    last: dict[tuple[str, int | str], Operation] = {}
    for op in ops:
        last[(op[0], op[1])] = op
    return list(last.values())


TREE = WorkTree(
    parents={1: None, 2: 1, 3: 2, 4: 3, 9: None},  # epic 1 → feature 2 → story 3 → task 4; 9 alone
    iterations={1: 10, 2: 10, 3: 10, 4: 10, 9: 11},
)


def test_a_task_under_an_assigned_feature_inherits_it_from_the_parent() -> None:
    resolver = Resolver(TREE, Assignments(work_items={2: "A"}))
    assert resolver.work_item(2) == Resolution("A", Assignment.DIRECT)
    assert resolver.work_item(4) == Resolution("A", Assignment.PARENT)
    assert resolver.work_item(1) == Resolution(None, Assignment.NONE)
    assert resolver.worklog("w1", 4) == Resolution("A", Assignment.PARENT)


def test_a_worklog_on_a_directly_assigned_item_is_inherited_from_its_parent_the_item() -> None:
    resolver = Resolver(TREE, Assignments(work_items={4: "A"}))
    assert resolver.work_item(4) == Resolution("A", Assignment.DIRECT)
    assert resolver.worklog("w1", 4) == Resolution("A", Assignment.PARENT)


def test_a_single_worklog_assignment_wins_over_everything() -> None:
    resolver = Resolver(TREE, Assignments(iterations={10: "I"}, work_items={4: "A"}, worklogs={"w1": "B"}))
    assert resolver.worklog("w1", 4) == Resolution("B", Assignment.DIRECT)
    assert resolver.worklog("w2", 4) == Resolution("A", Assignment.PARENT)


def test_the_nearest_assigned_ancestor_wins_over_a_farther_one_and_over_the_iteration() -> None:
    resolver = Resolver(TREE, Assignments(iterations={10: "I"}, work_items={1: "E", 3: "S"}))
    assert resolver.work_item(4) == Resolution("S", Assignment.PARENT)
    assert resolver.work_item(2) == Resolution("E", Assignment.PARENT)


def test_only_the_items_own_iteration_counts_and_a_worklog_takes_it_as_inherited_from_iteration() -> None:
    tree = WorkTree(parents={1: None, 2: 1}, iterations={1: 10, 2: None})
    resolver = Resolver(tree, Assignments(iterations={10: "I"}))
    assert resolver.work_item(1) == Resolution("I", Assignment.ITERATION)
    assert resolver.work_item(2) == Resolution(None, Assignment.NONE)
    assert resolver.worklog("w", 1) == Resolution("I", Assignment.ITERATION)


def test_worklogs_without_a_work_item_or_on_an_unknown_one_have_no_budget() -> None:
    resolver = Resolver(TREE, Assignments(iterations={10: "I"}))
    assert resolver.worklog("w", None) == Resolution(None, Assignment.NONE)
    assert resolver.worklog("w", 12345) == Resolution(None, Assignment.NONE)


def test_a_cycle_that_slipped_into_the_tree_ends_the_walk_instead_of_looping() -> None:
    resolver = Resolver(WorkTree(parents={1: 2, 2: 1}), Assignments())
    assert resolver.work_item(1) == Resolution(None, Assignment.NONE)


def test_a_chain_deeper_than_the_recursion_limit_resolves() -> None:
    depth = 20_000
    tree = WorkTree(parents={n: (n - 1 if n > 1 else None) for n in range(1, depth + 1)})
    resolver = Resolver(tree, Assignments(work_items={1: "root"}))
    assert resolver.work_item(depth) == Resolution("root", Assignment.PARENT)
    assert len(resolver.all_work_items()) == depth
