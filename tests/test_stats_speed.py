"""Folding small groups stays linear: counted in operations, not timed (the machine is shared)."""

from __future__ import annotations

from typing import Any, ClassVar

from bot.stats.aggregate import Suppressor


class Counted:
    """One tally of every comparison of a group name and every read of a row's cell."""

    operations: ClassVar[int] = 0


class Name(str):
    """A group name that counts its equality tests (list membership, sorting ties)."""

    __hash__ = str.__hash__

    def __eq__(self, other: object) -> bool:
        Counted.operations += 1
        return str.__eq__(self, other)


class Cells(tuple[int, ...]):
    """A breakdown row that counts each cell read by position."""

    def __getitem__(self, index: Any) -> Any:
        Counted.operations += 1
        return super().__getitem__(index)


def test_folding_thousands_of_deep_links_costs_operations_in_proportion() -> None:
    # A real small source hides 3 finished screenings among 300 campaign links where nobody
    # finished (a hidden 0 each), so the links fold one by one before the leak is closed;
    # 300 one-off links go to "other" at once. Checking each group against the kept list,
    # or re-reading every kept row for each fold, costs the square of the groups: ~10^5.
    groups = {
        Name("direct"): Cells((100, 7)),
        Name("pta"): Cells((50, 3)),
        **{Name(f"campaign{i:03}"): Cells((10, 0)) for i in range(300)},
        **{Name(f"link{i:03}"): Cells((1, 1)) for i in range(300)},
    }
    Counted.operations = 0
    folded = Suppressor(5).fold(groups)
    assert folded == [("direct", (100, 7)), ("other", (300 * 10 + 50 + 300, 3 + 300))]
    # Sorting the kept rows is n log n; everything else touches each row a few times.
    assert Counted.operations < 30 * len(groups), Counted.operations
