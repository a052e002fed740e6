"""Delta debugging (ddmin): the fewest earlier tests after which a test still fails.

A test that fails only after certain others ran in the same process depends on something they
leave behind (a global, a cached object, a row, a file). :func:`ddmin` shrinks the tests that
ran before it to a subset, in the original order, after which it still fails and from which no
single test can be removed without it passing: the culprits. Pure: the caller supplies the
predicate (for ``suitekit flaky``, a serial pytest replay of ``subset + [test]``).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Final, Generic, TypeVar

__all__ = ["DEFAULT_MAX_CALLS", "Reduction", "ddmin"]

T = TypeVar("T", bound=Hashable)

DEFAULT_MAX_CALLS: Final = 40
"""How many times :func:`ddmin` may call the predicate unless told otherwise."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Reduction(Generic[T]):
    """What :func:`ddmin` found.

    Attributes:
        items: The smallest failing subset found, in the original order.
        calls: How many times the predicate ran (each distinct subset once).
        capped: Whether the call budget ran out first: ``items`` still fails, but may not be
            1-minimal.
    """

    items: tuple[T, ...]
    calls: int
    capped: bool


class _Capped(Exception):  # noqa: N818 - a control-flow signal, not an error
    """The call budget is spent."""


def _chunks(items: tuple[T, ...], count: int) -> list[tuple[T, ...]]:
    """``items`` cut into ``count`` contiguous runs of nearly equal length (longest first)."""
    size, extra = divmod(len(items), count)
    chunks, start = [], 0
    for index in range(count):
        end = start + size + (1 if index < extra else 0)
        chunks.append(items[start:end])
        start = end
    return chunks


def ddmin(
    items: Sequence[T],
    fails: Callable[[tuple[T, ...]], bool],
    *,
    max_calls: int = DEFAULT_MAX_CALLS,
) -> Reduction[T]:
    """Reduce ``items`` to a 1-minimal subset for which ``fails`` still holds.

    Zeller and Hildebrandt's ddmin: cut the current failing subset into ``n`` contiguous chunks
    (``n`` = 2 at first). If one chunk fails on its own, keep only it and start again with 2; else
    if leaving one chunk out still fails, keep that complement and go on with ``n - 1`` chunks;
    else double ``n``. When ``n`` reaches the subset's length every single item has been left
    out once without failing, so the subset is 1-minimal: removing any one item makes
    ``fails`` false. Subsets keep the order of ``items``, which matters when ``fails`` replays
    tests in order. A subset is never tested twice (results are cached) and after
    ``max_calls`` predicate calls the smallest failing subset so far is returned, marked
    ``capped``. Typically O(k log n) calls for k culprits among n items; O(n^2) at worst.

    Args:
        items: The candidates; ``fails(tuple(items))`` must be true (the caller has checked it),
            and ``fails(())`` false, or the result is not meaningful.
        fails: The predicate: whether the failure happens with exactly this subset.
        max_calls: The most predicate calls to make (at least 0).

    Returns:
        The reduced subset, the number of calls made, and whether the budget ran out.
    """
    current = tuple(items)
    seen: dict[tuple[T, ...], bool] = {current: True}
    calls = 0

    def test(subset: tuple[T, ...]) -> bool:
        nonlocal calls
        if subset not in seen:
            if calls >= max_calls:
                raise _Capped
            calls += 1
            seen[subset] = fails(subset)
        return seen[subset]

    count = 2
    try:
        while len(current) >= 2:  # noqa: PLR2004 - a single item cannot be split
            chunks = _chunks(current, min(count, len(current)))
            kept = next((chunk for chunk in chunks if test(chunk)), None)
            if kept is not None:
                current, count = kept, 2
                continue
            # With two chunks each complement is the other chunk: a cache hit, not a call.
            complements = (
                tuple(
                    item for other, chunk in enumerate(chunks) if other != index for item in chunk
                )
                for index in range(len(chunks))
            )
            kept = next((complement for complement in complements if test(complement)), None)
            if kept is not None:
                current, count = kept, max(count - 1, 2)
                continue
            if len(chunks) >= len(current):
                break  # every single item left out once: 1-minimal
            count = min(count * 2, len(current))
    except _Capped:
        return Reduction(items=current, calls=calls, capped=True)
    return Reduction(items=current, calls=calls, capped=False)
