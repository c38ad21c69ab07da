"""Ready-made tips: staff send or schedule one from /tips; the weekly tip.

The list itself (its size, its states, its buttons) is in test_tips_list.py.
"""

from __future__ import annotations

import json

from bot.callbacks import Action
from bot.config import Settings
from bot.content import Content
from bot.tg.jobs import post_weekly_tip
from tests.clock import FakeClock
from tests.conftest import STAFF_ID
from tests.staff import Scene, at, make_scene, texts_of

# --- /tips --------------------------------------------------------------------------------------


async def test_send_a_tip_now_each_parent_in_their_language(scene: Scene, content: Content) -> None:
    staff = scene.staff
    first = content.pack("en").tips[0]
    texts = {code: pack.tips[0].text for code, pack in content.languages.items()}
    await staff.send("/tips")
    mark = staff.mark()
    await staff.press("1")
    preview_en, preview_es, summary = staff.new_since(mark)
    # Each language's own tip, exactly as its parents get it.
    assert preview_en.source == scene.recipient_text(texts, "en")
    assert preview_es.source == scene.recipient_text(texts, "es")
    assert preview_en.text.startswith("Asking for an evaluation\n")
    assert preview_es.text.startswith("Cómo pedir una evaluación\n")
    assert summary.text.startswith(
        "Preview ☝️ Above: what parents will receive. English: 3 parents. Español: 2 parents."
    )
    assert "Ready-made tip: Asking for an evaluation." in summary.text
    assert "⚠️" not in summary.text
    assert summary.buttons == [
        "✅ Confirm and send",
        "🕒 Schedule for later",
        "👥 Change the audience",
        "✖ Cancel",
    ]
    assert scene.broadcasts == []
    await staff.press("Confirm")
    [row] = scene.broadcasts
    assert (row["tip_id"], row["origin"], row["audience"]) == (first.id, "tip", "all")
    assert json.loads(row["texts"]) == texts
    await staff.send("/tips")
    assert "\n1. Asking for an evaluation · 📣 sending now\n" in staff.last_text


async def test_schedule_a_tip(scene: Scene, content: Content) -> None:
    second = content.pack("en").tips[1]
    await scene.staff.send("/tips")
    await scene.staff.press("2")
    await scene.staff.press("🕒 Schedule for later")
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
    await scene.staff.press("1")
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
    assert "🗓 Weekly tip: every Tue at 10:00. Next: Tue 1 Dec 2026, 10:00." in text
    assert "\n1. Asking for an evaluation · not sent yet · next weekly tip\n" in text
