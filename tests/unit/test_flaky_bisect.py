"""ddmin: the fewest earlier tests after which a test still fails."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from suitekit.flaky import Reduction, ddmin


class Counting:
    """A predicate that records every subset it is asked about."""

    def __init__(self, fails: Callable[[tuple[int, ...]], bool]) -> None:
        self.fails = fails
        self.asked: list[tuple[int, ...]] = []

    def __call__(self, subset: tuple[int, ...]) -> bool:
        self.asked.append(subset)
        return self.fails(subset)


def needs_all(culprits: set[int]) -> Callable[[tuple[int, ...]], bool]:
    return lambda subset: culprits <= set(subset)


def one_minimal(result: tuple[int, ...], fails: Callable[[tuple[int, ...]], bool]) -> bool:
    return all(not fails(result[:i] + result[i + 1 :]) for i in range(len(result)))


def test_one_culprit_among_many_is_found_alone() -> None:
    prefix = tuple(range(20))
    predicate = Counting(needs_all({13}))

    found = ddmin(prefix, predicate)

    assert found == Reduction(items=(13,), calls=len(predicate.asked), capped=False)
    assert found.calls <= 12  # about 2 log2(20); a linear scan would take 20
    assert len(set(predicate.asked)) == len(predicate.asked)  # no subset asked twice
    assert prefix not in predicate.asked  # the caller has already seen the whole prefix fail


def test_two_culprits_keep_their_order() -> None:
    found = ddmin([5, 9, 1, 7, 3, 8], needs_all({7, 5}))

    assert found.items == (5, 7)
    assert not found.capped


def test_culprit_that_must_come_before_another_is_kept_in_order() -> None:
    def fails(subset: tuple[str, ...]) -> bool:
        return "set" in subset and "use" in subset and subset.index("set") < subset.index("use")

    found = ddmin(["a", "set", "b", "c", "use", "d"], fails)

    assert found.items == ("set", "use")


def test_any_one_of_several_culprits_is_enough() -> None:
    found = ddmin(list(range(16)), lambda subset: bool({3, 11} & set(subset)))

    assert found.items in ((3,), (11,))


def test_single_item_and_empty_prefix_need_no_calls() -> None:
    def never(subset: tuple[int, ...]) -> bool:
        raise AssertionError(subset)

    assert ddmin([4], never) == Reduction(items=(4,), calls=0, capped=False)
    assert ddmin([], never) == Reduction(items=(), calls=0, capped=False)


def test_the_call_budget_stops_the_search_with_the_smallest_failure_so_far() -> None:
    predicate = Counting(needs_all({2, 17, 30}))

    found = ddmin(range(40), predicate, max_calls=5)

    assert found.capped
    assert found.calls == 5 == len(predicate.asked)
    assert {2, 17, 30} <= set(found.items)  # still fails
    assert found.items in [tuple(range(40)), *(s for s in predicate.asked if predicate.fails(s))]


def test_a_zero_budget_returns_the_prefix_unreduced() -> None:
    assert ddmin([1, 2, 3], needs_all({2}), max_calls=0) == Reduction(
        items=(1, 2, 3), calls=0, capped=True
    )


def test_an_unreduced_result_when_no_part_fails_on_its_own() -> None:
    # Fails only with every item: nothing can go (the complements are all tested).
    found = ddmin([1, 2, 3, 4, 5], lambda subset: len(subset) == 5)

    assert found.items == (1, 2, 3, 4, 5)
    assert not found.capped


@given(
    prefix=st.lists(st.integers(0, 10_000), min_size=1, max_size=40, unique=True),
    data=st.data(),
)
def test_conjunctions_reduce_to_exactly_their_culprits(
    prefix: list[int], data: st.DataObject
) -> None:
    culprits = set(data.draw(st.lists(st.sampled_from(prefix), min_size=1, max_size=4)))
    predicate = Counting(needs_all(culprits))

    found = ddmin(prefix, predicate, max_calls=10_000)

    assert set(found.items) == culprits
    assert list(found.items) == [item for item in prefix if item in culprits]  # order kept
    assert found.calls == len(predicate.asked) == len(set(predicate.asked))
    assert not found.capped


@given(
    prefix=st.lists(st.integers(0, 50), min_size=1, max_size=25, unique=True),
    seed=st.integers(0, 2**32 - 1),
    budget=st.integers(0, 60),
)
def test_any_predicate_gives_a_failing_ordered_subset_within_budget(
    prefix: list[int], seed: int, budget: int
) -> None:
    # An arbitrary (not monotone) predicate: the whole prefix fails, the empty one passes (as
    # ddmin's caller has checked), anything else by hash.
    whole = tuple(prefix)

    def fails(subset: tuple[int, ...]) -> bool:
        return subset == whole or (bool(subset) and hash((seed, subset)) % 3 == 0)

    predicate = Counting(fails)
    found = ddmin(prefix, predicate, max_calls=budget)

    assert fails(found.items)
    assert found.calls == len(predicate.asked) <= budget
    positions = [prefix.index(item) for item in found.items]
    assert positions == sorted(positions)  # a subsequence of the prefix
    if not found.capped:
        assert one_minimal(found.items, fails)


@pytest.mark.parametrize("size", [2, 3, 7, 64])
def test_calls_grow_slowly_for_one_culprit(size: int) -> None:
    found = ddmin(range(size), needs_all({size - 1}))

    assert found.items == (size - 1,)
    assert found.calls <= 2 * size.bit_length()
