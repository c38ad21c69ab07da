"""Typed-text crisis detection: does a parent's message match one of the crisis patterns?

The patterns live in content/<lang>/crisis.yaml (key `words:`), written by staff. All
languages' patterns are used for every message. The syntax, the same one documented at the
top of each crisis.yaml:

    kill* himself        words in this order, with at most 2 other words between them
    cutting+herself      `+` joins words that must be side by side (nothing between)
    threaten* ... kill*  `...` lets up to 8 other words come between these two
    kill*                `*` ends a stem: kill, kills, killed, killing (3+ letters before it)
    himself|herself      `|` gives choices for one word (no spaces around it)
    self-harm            a hyphen is the same as `+`: "self harm" or "self-harm" typed

Matching ignores case, accents (daño = dano) and apostrophes (he'd = hed, don't = dont), and
looks at whole words: `cut*` matches "cutting" but never the middle of "haircut"; every slot
needs its own word (`kill* myself` does not match "this is killing me"). Punctuation only
separates words, so a pattern may match across a comma or a full stop.

Pure Python; never imports telegram. Patterns are parsed once; `matches` runs on every
typed message, so it looks up each word in precomputed tables instead of running the
patterns one by one.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

NEAR = 2  # words between two pattern words separated by a space
FAR = 8  # words between two pattern words separated by `...`
MIN_STEM = 3  # letters before a `*`
_CACHE_SIZE = 50_000  # words remembered with what they match; then the memory starts again

_WORD = re.compile(r"[^\W_]+")
# Combining marks (accents) left after NFKD: the common Unicode blocks of them.
_MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_APOSTROPHES = re.compile("['’‘ʼ`´＇]")


class CrisisPatternError(ValueError):
    """A crisis pattern that cannot be parsed; the message names the pattern and the problem."""

    def __init__(self, pattern: str, problem: str) -> None:
        super().__init__(f"crisis pattern {pattern!r}: {problem}")
        self.pattern = pattern
        self.problem = problem


@dataclass(frozen=True)
class Slot:
    """One word position: any of `words` exactly, or any word starting with one of `stems`."""

    words: frozenset[str]
    stems: tuple[str, ...]
    max_gap: int  # other words allowed between the previous slot and this one (0 for the first)


@dataclass(frozen=True)
class Pattern:
    source: str  # as staff wrote it
    slots: tuple[Slot, ...]


def fold(text: str) -> str:
    """Lower case, without accents or apostrophes: the form both text and patterns are read in."""
    text = _APOSTROPHES.sub("", text)
    if not text.isascii():
        # NFKD splits "ñ" into "n" and a mark, and turns full-width letters and "…" plain;
        # it can also make new apostrophes (from "＇"), so those are dropped once more.
        text = _APOSTROPHES.sub("", _MARKS.sub("", unicodedata.normalize("NFKD", text)))
    return text.casefold()


def words(text: str) -> list[str]:
    """The words of a message, folded; hyphens and punctuation separate words."""
    return _WORD.findall(fold(text))


def _slot(part: str, source: str, max_gap: int) -> Slot:
    exact: set[str] = set()
    stems: set[str] = set()
    for choice in part.split("|"):
        if not choice:
            raise CrisisPatternError(source, "an empty choice: put a word on both sides of '|'")
        body = choice[:-1] if choice.endswith("*") else choice
        if "*" in body:
            raise CrisisPatternError(source, f"in {choice!r}, '*' may only end a word")
        if not body:
            raise CrisisPatternError(source, "'*' needs the start of a word before it, like kill*")
        if not _WORD.fullmatch(body):
            raise CrisisPatternError(
                source, f"{choice!r} has a character that is not a letter or a digit"
            )
        if body != choice:
            if len(body) < MIN_STEM:
                raise CrisisPatternError(
                    source, f"{choice!r}: put at least {MIN_STEM} letters before '*'"
                )
            stems.add(body)
        else:
            exact.add(body)
    return Slot(words=frozenset(exact), stems=tuple(sorted(stems)), max_gap=max_gap)


def parse_pattern(text: str) -> Pattern:
    """Parse one staff-written pattern; raise CrisisPatternError saying what is wrong."""
    chunks = fold(text).split()
    if not chunks:
        raise CrisisPatternError(text, "the pattern is empty")
    slots: list[Slot] = []
    gap = 0
    for chunk in chunks:
        if chunk == "...":
            if not slots:
                raise CrisisPatternError(text, "'...' must come between two words, not first")
            if gap == FAR:
                raise CrisisPatternError(text, "two '...' in a row")
            gap = FAR
            continue
        for i, part in enumerate(chunk.replace("-", "+").split("+")):
            if not part:
                raise CrisisPatternError(
                    text, "'+' and '-' must join two words, like cutting+herself"
                )
            slots.append(_slot(part, text, 0 if i > 0 or not slots else gap))
        gap = NEAR
    if gap == FAR:
        raise CrisisPatternError(text, "'...' must come between two words, not last")
    return Pattern(source=text, slots=tuple(slots))


_Compiled = tuple[tuple[frozenset[int], int], ...]  # per slot: its word ids and its max gap


class CrisisMatcher:
    """Every crisis pattern, compiled into lookup tables; `matches` tells if a message hits one."""

    def __init__(self, patterns: Iterable[str]) -> None:
        self.patterns: tuple[Pattern, ...] = tuple(parse_pattern(p) for p in patterns)
        self._exact: dict[str, int] = {}  # word -> id
        self._stems: dict[str, int] = {}  # stem -> id
        self._compiled: list[_Compiled] = []
        for pattern in self.patterns:
            self._compiled.append(
                tuple(
                    (
                        frozenset(
                            [self._id(self._exact, w) for w in slot.words]
                            + [self._id(self._stems, s) for s in slot.stems]
                        ),
                        slot.max_gap,
                    )
                    for slot in pattern.slots
                )
            )
        # Each pattern is looked at only when a word of its most distinctive slot is in the
        # message: the slot whose words the fewest other slots use ("kill*", not "the|a").
        uses = Counter(
            atom for compiled in self._compiled for atoms, _ in compiled for atom in atoms
        )
        self._by_key: dict[int, list[int]] = {}  # id -> patterns whose key slot has it
        for index, compiled in enumerate(self._compiled):
            key = min((atoms for atoms, _ in compiled), key=lambda a: sum(uses[i] for i in a))
            for atom in key:
                self._by_key.setdefault(atom, []).append(index)
        self._stem_lengths = tuple(sorted({len(s) for s in self._stems}))
        self._cache: dict[str, tuple[int, ...]] = {}  # word -> ids, most words match none

    def _id(self, table: dict[str, int], key: str) -> int:
        if key not in table:
            table[key] = len(self._exact) + len(self._stems)
        return table[key]

    def _atoms(self, word: str) -> tuple[int, ...]:
        """The ids a word matches: itself as an exact word, and every stem it starts with."""
        found = [self._exact[word]] if word in self._exact else []
        for length in self._stem_lengths:
            if length > len(word):
                break
            atom = self._stems.get(word[:length])
            if atom is not None:
                found.append(atom)
        return tuple(found)

    def matches(self, text: str) -> bool:
        """True if any pattern matches the message."""
        return self._first_match(text) is not None

    def _first_match(self, text: str) -> Pattern | None:
        hits: dict[int, list[int]] = {}  # id -> positions of the words it matches
        cache = self._cache
        for position, word in enumerate(words(text)):
            atoms = cache.get(word)
            if atoms is None:
                atoms = self._atoms(word)
                if len(cache) >= _CACHE_SIZE:
                    cache.clear()
                cache[word] = atoms
            for atom in atoms:
                hits.setdefault(atom, []).append(position)
        if not hits:
            return None
        present = hits.keys()
        candidates = sorted({i for atom in hits for i in self._by_key.get(atom, ())})
        for index in candidates:
            compiled = self._compiled[index]
            if all(not atoms.isdisjoint(present) for atoms, _ in compiled) and _found(
                compiled, hits
            ):
                return self.patterns[index]
        return None


def _found(slots: _Compiled, hits: dict[int, list[int]]) -> bool:
    """Is there a chain of word positions, one per slot, each within its gap of the last?"""
    reach: list[int] = []
    for n, (atoms, gap) in enumerate(slots):
        positions = sorted({p for atom in atoms for p in hits.get(atom, ())})
        if n == 0:
            reach = positions
        else:
            reach = [p for p in positions if any(r < p <= r + gap + 1 for r in reach)]
        if not reach:
            return False
    return True
