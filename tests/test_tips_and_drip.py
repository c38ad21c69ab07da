"""Ready-made tips: /tips lists them and staff send or schedule one; the weekly tip."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from bot.callbacks import Action
from bot.config import Settings
from bot.content import Content, visible_text
from bot.tg.jobs import post_weekly_tip
from tests.clock import FakeClock
from tests.conftest import STAFF_ID
from tests.staff import Scene, at, make_scene, texts_of

# --- /tips --------------------------------------------------------------------------------------


async def test_tips_are_listed_in_every_language_on_pages_that_fit(
    scene: Scene, content: Content
) -> None:
    staff = scene.staff
    await staff.send("/tips")
    listing = staff.last
    pages = int(listing.text.split("page 1 of ")[1].split(".")[0])
    assert pages > 1
    seen = [listing.text]
    for _ in range(pages - 1):
        await staff.press("Next ▶")
        assert staff.last.message_id == listing.message_id  # paged in place
        seen.append(staff.last.text)
    assert "Next ▶" not in staff.buttons
    assert all(len(page) <= 4096 for page in seen)
    everything = "\n".join(seen)
    for code, pack in content.languages.items():
        for tip in pack.tips:
            assert visible_text(tip.text).strip() in everything, (code, tip.id)
    count = len(content.pack("en").tips)
    for number in range(1, count + 1):
        assert sum(f"\n{number}. " in f"\n{page}" for page in seen) == 1
    assert "Weekly tip: off." in listing.text


async def test_send_a_tip_now_each_parent_in_their_language(scene: Scene, content: Content) -> None:
    staff = scene.staff
    first = content.pack("en").tips[0]
    texts = {code: pack.tips[0].text for code, pack in content.languages.items()}
    await staff.send("/tips")
    mark = staff.mark()
    await staff.press("📤 Send 1")
    preview_en, preview_es, summary = staff.new_since(mark)
    assert preview_en.source == scene.recipient_text(texts, "en")
    assert preview_es.source == scene.recipient_text(texts, "es")
    assert "Ready-made tip: Asking for an evaluation." in summary.text
    assert "✏️ Change the text" not in summary.buttons
    assert scene.broadcasts == []
    await staff.press("Confirm")
    [row] = scene.broadcasts
    assert (row["tip_id"], row["origin"], row["audience"]) == (first.id, "tip", "all")
    assert json.loads(row["texts"]) == texts
    await staff.send("/tips")
    assert "1. Asking for an evaluation\n✓ already sent" in staff.last_text


async def test_schedule_a_tip(scene: Scene, content: Content) -> None:
    second = content.pack("en").tips[1]
    await scene.staff.send("/tips")
    await scene.staff.press("🕒 Schedule 2")
    assert scene.staff.last_text.startswith("When should it go?")
    await scene.staff.send("2026-12-03 10:00")
    assert "When: Thu 3 Dec 2026, 10:00." in scene.staff.last_text
    await scene.staff.press("Confirm")
    [row] = scene.broadcasts
    assert (row["tip_id"], row["not_before"]) == (second.id, at(2026, 12, 3, 10, 0))


async def test_an_unknown_tip_is_refused(scene: Scene) -> None:
    await scene.staff.send("/tips")
    await scene.staff.press_data(scene.encode(Action("Y", ("n", "no_such_tip"))))
    assert any(
        t.startswith("That tip is no longer in the content.")
        for t in texts_of(scene.staff.messages)
    )
    assert scene.staff.last_text.startswith("Ready-made tips")
    assert scene.broadcasts == [] and scene.drafts == []


# --- the weekly tip -------------------------------------------------------------------------------


@pytest.fixture
async def drip_scene(
    settings: Settings, content: Content, clock: FakeClock
) -> AsyncIterator[Scene]:
    found = await make_scene(settings, content, clock, drip_weekday=1, drip_hour=10)
    yield found
    await found.env.stop()


async def test_the_weekly_tip_sends_the_next_unsent_tip_once_per_week(
    drip_scene: Scene, content: Content
) -> None:
    scene, tips = drip_scene, content.pack("en").tips
    scene.clock.now = at(2026, 12, 1, 9, 59)  # Tuesday, before the hour
    assert await post_weekly_tip(scene.env.app) is None
    scene.clock.now = at(2026, 12, 1, 10, 5)
    run = await post_weekly_tip(scene.env.app)
    assert run is not None and (run.week, run.tip_id) == ("2026-W49", tips[0].id)
    [row] = scene.broadcasts
    assert (row["origin"], row["tip_id"], row["created_by"], row["audience"]) == (
        "drip",
        tips[0].id,
        None,
        "all",
    )
    assert row["not_before"] is None
    told = texts_of(scene.staff.messages)
    assert (
        f"🗓 Weekly tip queued for everyone (5 parents): Asking for an evaluation. "
        f"Broadcast #{row['id']}." in told
    )
    assert row["status_message_id"] == scene.staff.last.message_id
    # Again the same day, and after a restart: nothing more.
    scene.clock.advance(hours=1)
    assert await post_weekly_tip(scene.env.app) is None
    await scene.env.restart()
    assert await post_weekly_tip(scene.env.app) is None
    assert len(scene.broadcasts) == 1
    # Next Tuesday: the next tip.
    scene.clock.now = at(2026, 12, 8, 10, 0)
    run = await post_weekly_tip(scene.env.app)
    assert run is not None and run.tip_id == tips[1].id


async def test_the_weekly_tip_note_is_in_the_staff_members_language(drip_scene: Scene) -> None:
    staff = drip_scene.env.client(
        chat_id=STAFF_ID, user_id=STAFF_ID, first_name="Ana", language_code="es"
    )
    await staff.send("/tips")
    drip_scene.clock.now = at(2026, 12, 1, 10, 0)
    await post_weekly_tip(drip_scene.env.app)
    assert texts_of(staff.messages)[-2].startswith(
        "🗓 Consejo semanal en cola para todos (5 padres)"
    )


async def test_the_weekly_tip_skips_tips_sent_by_hand(drip_scene: Scene, content: Content) -> None:
    scene, tips = drip_scene, content.pack("en").tips
    await scene.staff.send("/tips")
    await scene.staff.press("📤 Send 1")
    await scene.staff.press("Confirm")
    scene.clock.now = at(2026, 12, 1, 10, 0)
    run = await post_weekly_tip(scene.env.app)
    assert run is not None and run.tip_id == tips[1].id


async def test_the_weekly_tip_is_not_sent_a_day_late(drip_scene: Scene) -> None:
    drip_scene.clock.now = at(2026, 12, 2, 10, 0)  # Wednesday
    assert await post_weekly_tip(drip_scene.env.app) is None
    assert drip_scene.broadcasts == []


async def test_when_every_tip_was_sent_staff_are_told_once(
    drip_scene: Scene, content: Content
) -> None:
    scene = drip_scene
    for tip in content.pack("en").tips:
        scene.env.app.services.broadcasts.queue(
            audience="all", texts={"en": tip.text}, tip_id=tip.id, created_by=None, origin="cli"
        )
    before = len(scene.broadcasts)
    scene.clock.now = at(2026, 12, 1, 10, 0)
    run = await post_weekly_tip(scene.env.app)
    assert run is not None and run.broadcast_id is None
    assert scene.staff.last_text.startswith("🗓 This week's tip was skipped")
    assert await post_weekly_tip(scene.env.app) is None
    assert len(scene.broadcasts) == before


async def test_the_weekly_tip_respects_quiet_hours(
    settings: Settings, content: Content, clock: FakeClock
) -> None:
    scene = await make_scene(settings, content, clock, drip_weekday=1, drip_hour=21)
    try:
        scene.clock.now = at(2026, 12, 1, 21, 0)
        await post_weekly_tip(scene.env.app)
        assert scene.broadcasts[0]["not_before"] == at(2026, 12, 2, 8, 0)
    finally:
        await scene.env.stop()


async def test_tips_list_shows_the_weekly_tip(drip_scene: Scene) -> None:
    await drip_scene.staff.send("/tips")
    text = drip_scene.staff.last_text
    assert (
        "Weekly tip: every Tue at 10:00, the next tip not yet sent. Next: Tue 1 Dec 2026, 10:00."
        in text
    )
    assert "1. Asking for an evaluation\nnot sent yet · next weekly tip" in text
