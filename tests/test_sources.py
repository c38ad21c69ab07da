"""Deep-link sources: only those the practice lists (content/sources.yaml) are kept; anything
else a parent types after /start is `other`, and free text from older versions is scrubbed."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bot.checks.content_check import check_content
from bot.content import Content, load_content
from bot.stats.aggregate import compute_stats
from bot.storage import SOURCES_SCRUBBED, Storage
from flows.spec import ContentError
from tests.botenv import BotEnv
from tests.parents import TO_IEP_EVALUATION, finish
from tests.stats_helpers import in_progress, outcome

_GROUP = "day, lang, source, status, outcome_id, stopped_at"


# --- the list ---------------------------------------------------------------------------------


def test_a_payload_is_kept_only_when_the_practice_lists_it(content: Content) -> None:
    assert "flyer" in content.sources and "clinic" in content.sources
    assert content.source_of(None) == content.source_of("") == "direct"
    assert content.source_of("flyer") == content.source_of("FLYER") == "flyer"
    for typed in ("spring_flyer-2026", "bad$source!", "Jayden 555-1234", "x" * 65, "other1"):
        assert content.source_of(typed) == "other", typed


def test_content_check_lists_every_bad_source(content_copy: Path) -> None:
    sources = content_copy / "sources.yaml"
    sources.write_text(
        "sources:\n  - flyer\n  - Flyer2\n  - direct\n  - flyer\n  - news letter\n"
        f"  - {'x' * 65}\n  - 2026\n  - clinic-north\n",
        encoding="utf-8",
    )
    with pytest.raises(ContentError) as first:
        load_content(content_copy)
    assert str(first.value).startswith(f"{sources}: sources[1]: 'Flyer2'")
    problems = check_content(content_copy)
    assert [p.split(": ")[1] for p in problems] == [
        "sources[1]",
        "sources[2]",
        "sources[3]",
        "sources[4]",
        "sources[5]",
        "sources[6]",
    ]
    assert "taken by the bot" in problems[1] and "listed twice" in problems[2]
    assert "lower-case letters, digits, _ or -" in problems[0]


def test_sources_must_be_a_list_and_no_file_lists_none(content_copy: Path) -> None:
    sources = content_copy / "sources.yaml"
    sources.write_text("sources: flyer\n", encoding="utf-8")
    assert check_content(content_copy) == [f"{sources}: sources: expected a list of words"]
    sources.write_text("sources: [flyer\n", encoding="utf-8")
    [syntax] = check_content(content_copy)
    assert syntax.startswith(f"{sources}: (syntax): ")
    sources.unlink()
    assert load_content(content_copy).source_of("flyer") == "other"  # no list: every link


# --- what the bot keeps -----------------------------------------------------------------------


async def test_listed_links_count_and_what_a_parent_types_is_kept_nowhere(env: BotEnv) -> None:
    for chat_id, payload in ((5001, "flyer"), (5002, "FLYER"), (5003, None)):
        parent = env.client(chat_id=chat_id, user_id=chat_id)
        await finish(parent, TO_IEP_EVALUATION, payload)
    eva = env.client(chat_id=5252, user_id=5252, first_name="Eva", username="eva_t")
    await finish(eva, TO_IEP_EVALUATION, "Jayden 555-1234")
    sources = sorted(row["source"] for row in env.rows("outcomes"))
    assert sources == ["direct", "flyer", "flyer", "other"]
    everything = env.dump()
    for typed in ("Jayden", "555-1234", "5551234"):
        assert typed not in everything, typed


# --- free text from before the list -----------------------------------------------------------


@pytest.fixture
def old_database(storage: Storage) -> Storage:
    """Sources as versions before content/sources.yaml kept them: whatever the link said."""
    storage.db["outcomes"].insert_all(
        outcome(3, source="Jayden_5551234")
        + outcome(1, source="Jayden_5551234", booked=1)
        + outcome(2, source="Jayden_5551234", outcome_id=None, stopped_at="plan")
        + outcome(4, source="flyer")
        + outcome(2, source="direct")
        + outcome(1, source="unknown")
        + outcome(1, source="terminal")
        + outcome(2, source="spring_fair-2026", lang="es")
    )
    storage.db["sessions"].insert_all(
        in_progress(1, source="Maria-5550000") + in_progress(2, source="school")
    )
    storage.db["chat_prefs"].insert_all(
        [
            {"chat_key": "a", "lang": "en", "source": "pta-night"},
            {"chat_key": "b", "lang": "es", "source": None},
            {"chat_key": "c", "lang": None, "source": "website"},
        ]
    )
    return storage


def test_the_scrub_makes_old_free_text_other_and_the_statistics_still_add_up(
    old_database: Storage, content: Content
) -> None:
    storage = old_database
    before = compute_stats(storage.db, since=None, until=None, min_cell=1)
    assert (
        storage.scrub_sources(content.known_sources) == 8 + 1 + 1
    )  # outcomes, sessions, chat_prefs
    after = compute_stats(storage.db, since=None, until=None, min_cell=1)
    assert dataclasses.replace(after, by_source={}) == dataclasses.replace(before, by_source={})
    assert after.by_source == {
        "other": (9, 6),  # 6 + 2 outcomes and one screening in progress
        "flyer": (4, 4),
        "direct": (2, 2),
        "school": (2, 0),
        "unknown": (1, 1),
        "terminal": (1, 1),
    }
    log = storage.db.execute(
        f"SELECT {_GROUP}, COUNT(*), SUM(booked) FROM outcomes GROUP BY {_GROUP} ORDER BY {_GROUP}"
    ).fetchall()
    rollup = storage.db.execute(
        f"SELECT {_GROUP}, n, booked FROM outcome_counts ORDER BY {_GROUP}"
    ).fetchall()
    assert rollup == log  # the triggers moved every row to its new group
    everything = "\n".join(storage.db.conn.iterdump())
    for typed in ("5551234", "5550000", "pta-night", "spring_fair"):
        assert typed not in everything, typed
    prefs = {r["chat_key"]: r["source"] for r in storage.db["chat_prefs"].rows}
    assert prefs == {"a": "other", "b": None, "c": "website"}


def test_the_scrub_runs_once(old_database: Storage, content: Content) -> None:
    storage = old_database
    assert storage.scrub_sources(content.known_sources) > 0
    assert storage.get_meta(SOURCES_SCRUBBED) == storage.today()
    # Later a source may leave the list: what was counted under it keeps its name.
    assert storage.scrub_sources(["direct"]) == 0
    assert storage.db.execute("SELECT count(*) FROM outcomes WHERE source = 'flyer'").fetchone()[0]
