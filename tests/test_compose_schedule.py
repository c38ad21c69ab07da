"""Staff schedule a broadcast for later, and quiet hours hold it until the morning."""

from __future__ import annotations

from flows.compose import AWAITING_TIME
from tests.staff import Scene, at, compose_to_preview, reach, texts_of


async def test_schedule_a_broadcast(scene: Scene) -> None:
    staff = scene.staff
    await reach(scene, "time")
    assert "When should it go? Send a date and time in America/Chicago" in staff.last_text
    for typed, answer in [
        ("2020-01-01 10:00", "That time has already passed."),
        ("someday", "I could not read that time. Please write it like 2026-11-29 09:30"),
        ("2026-02-30 10:00", "That date does not exist."),
    ]:
        await staff.send(typed)
        assert staff.last_text.startswith(answer)
    assert scene.drafts[0]["state"] == AWAITING_TIME
    await staff.send("2026-12-01 09:30")
    summary = staff.last_text
    assert "When: Tue 1 Dec 2026, 09:30." in summary
    assert staff.buttons[:3] == [
        "✅ Confirm (sends Tue 09:30)",
        "🕒 Change the time",
        "⚡ Send as soon as allowed",
    ]
    await staff.press("✅ Confirm (sends Tue 09:30)")
    [row] = scene.broadcasts
    assert row["not_before"] == at(2026, 12, 1, 9, 30)
    assert (
        "is scheduled for Tue 1 Dec 2026, 09:30 (5 parents right now)"
        in texts_of(staff.messages)[-2]
    )


async def test_a_schedule_can_be_dropped_again(scene: Scene) -> None:
    await reach(scene, "time")
    await scene.staff.send("tomorrow 9:00")
    await scene.staff.press("⚡ Send as soon as allowed")
    assert "When: right after you confirm." in scene.staff.last_text
    await scene.staff.press("Confirm")
    assert scene.broadcasts[0]["not_before"] is None


async def test_confirmed_in_quiet_hours_it_waits_for_the_morning(scene: Scene) -> None:
    scene.clock.now = at(2026, 11, 28, 21, 0)  # Saturday 21:00 in Chicago
    await compose_to_preview(scene)
    assert (
        "When: it is quiet hours now (20:00–08:00), so it will wait until Sun 29 Nov 2026, 08:00."
        in scene.staff.last_text
    )
    assert scene.staff.buttons[:2] == ["✅ Confirm (sends Sun 08:00)", "⚡ Send now anyway"]
    await scene.staff.press("✅ Confirm (sends Sun 08:00)")
    assert scene.broadcasts[0]["not_before"] == at(2026, 11, 29, 8, 0)


async def test_send_now_anyway_ignores_quiet_hours(scene: Scene) -> None:
    scene.clock.now = at(2026, 11, 28, 21, 0)
    await compose_to_preview(scene)
    await scene.staff.press("⚡ Send now anyway")
    [row] = scene.broadcasts
    assert row["not_before"] is None
    assert "is queued for 5 parents" in texts_of(scene.staff.messages)[-2]


async def test_quiet_hours_are_judged_at_confirm_not_at_preview(scene: Scene) -> None:
    scene.clock.now = at(2026, 11, 28, 19, 58)
    await compose_to_preview(scene)
    assert "right after you confirm" in scene.staff.last_text
    scene.clock.advance(seconds=180)  # 20:01: quiet hours began while staff read the preview
    await scene.staff.press("Confirm")
    assert scene.broadcasts[0]["not_before"] == at(2026, 11, 29, 8, 0)


async def test_quiet_hours_across_the_fall_back_night(scene: Scene) -> None:
    """Sat 31 Oct 2026, 21:00 CDT: the morning is 08:00 CST, twelve real hours later."""
    scene.clock.now = at(2026, 10, 31, 21, 0)
    await compose_to_preview(scene)
    assert "wait until Sun 1 Nov 2026, 08:00" in scene.staff.last_text
    await scene.staff.press("Confirm")
    assert scene.broadcasts[0]["not_before"] - scene.clock.now == 12 * 3600


async def test_a_time_scheduled_inside_quiet_hours_moves_to_the_morning(scene: Scene) -> None:
    await reach(scene, "time")
    await scene.staff.send("2026-12-01 22:00")
    assert (
        "you chose Tue 1 Dec 2026, 22:00, which is inside quiet hours (20:00–08:00), "
        "so it will go at Wed 2 Dec 2026, 08:00." in scene.staff.last_text
    )
    assert "⚡ Send at Tue 22:00 anyway" in scene.staff.buttons
    await scene.staff.press("✅ Confirm (sends Wed 08:00)")
    assert scene.broadcasts[0]["not_before"] == at(2026, 12, 2, 8, 0)


async def test_a_time_scheduled_inside_quiet_hours_can_be_kept(scene: Scene) -> None:
    await reach(scene, "time")
    await scene.staff.send("2026-12-01 22:00")
    await scene.staff.press("⚡ Send at Tue 22:00 anyway")
    assert scene.broadcasts[0]["not_before"] == at(2026, 12, 1, 22, 0)


async def test_a_time_skipped_by_spring_forward_is_refused(scene: Scene) -> None:
    scene.clock.now = at(2027, 3, 1, 9, 0)
    await reach(scene, "time")
    await scene.staff.send("2027-03-14 02:30")
    assert scene.staff.last_text.startswith("That time does not exist on that day")
