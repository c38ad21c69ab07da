"""/stats in Telegram: staff get a summary and a chart; everyone else gets nothing of it."""

from __future__ import annotations

import datetime as dt
import struct

from bot.callbacks import Action, CallbackCodec
from tests.botenv import BotEnv
from tests.conftest import STAFF_ID
from tests.test_stats import in_progress, outcome


def seed(env: BotEnv) -> None:
    assert env.storage is not None
    db = env.storage.db
    db["outcomes"].insert_all(
        outcome(9, day="2026-11-27", outcome_id="iep_evaluation", booked=1)
        + outcome(2, day="2026-11-25", outcome_id="iep_review", source="flyer")
        + outcome(6, day="2026-11-20", outcome_id=None, stopped_at="effort", lang="es")
        + outcome(40, day="2026-10-29", outcome_id="plan_504_may_fit")  # 31 days ago
    )
    db["sessions"].insert_all(in_progress(1, day="2026-11-28"))


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


async def test_staff_pick_a_period_and_get_a_summary_and_a_chart(env: BotEnv) -> None:
    seed(env)
    staff = env.client(chat_id=STAFF_ID, user_id=STAFF_ID)
    await staff.send("/stats")
    assert "Screening statistics" in staff.last_text
    assert staff.buttons == ["7 days", "30 days", "90 days", "All time"]

    await staff.press("30 days")
    summary = next(m for m in reversed(staff.messages) if not m.is_photo)
    text = summary.text
    assert "Last 30 days (2026-10-30 to 2026-11-28)" in text
    assert "Screenings started: 18" in text  # 9 + 2 + 6 logged, 1 in progress
    assert "Finished: 11 (completion rate 61%)" in text
    assert "Abandoned: 6" in text
    assert "Still in progress: <5" in text
    assert "Book presses: 9" in text
    assert "direct: 16 started, 9 finished" in text
    assert "other: <5 started, <5 finished" in text
    assert "flyer" not in text
    assert "Counts under 5 show as <5" in text

    photos = env.api.calls_to("sendPhoto")
    assert len(photos) == 1 and photos[0].params["chat_id"] == STAFF_ID
    assert png_size(photos[0].files["photo"].content) == (1080, 1350)
    assert staff.messages[-1].is_photo
    assert "2026-10-30 to 2026-11-28" in staff.messages[-1].text


async def test_all_time_counts_everything_and_seven_days_only_the_last_week(env: BotEnv) -> None:
    seed(env)
    staff = env.client(chat_id=STAFF_ID, user_id=STAFF_ID)
    await staff.send("/stats")
    await staff.press("All time")
    assert "All time, up to 2026-11-28" in staff.messages[-2].text
    assert "Screenings started: 58" in staff.messages[-2].text
    await staff.send("/stats")
    await staff.press("7 days")
    assert "Last 7 days (2026-11-22 to 2026-11-28)" in staff.messages[-2].text
    assert "Screenings started: 12" in staff.messages[-2].text  # 9 + 2 + 1 in progress


async def test_the_period_ends_today_in_the_practice_time_zone(env: BotEnv) -> None:
    # 03:00 UTC on 29 Nov is the evening of 28 Nov in Chicago: the week still ends on the 28th.
    env.clock.now = dt.datetime(2026, 11, 29, 3, 0, tzinfo=dt.UTC).timestamp()
    seed(env)
    assert env.storage is not None
    env.storage.db["outcomes"].insert_all(outcome(5, day="2026-11-29", outcome_id="iep_review"))
    staff = env.client(chat_id=STAFF_ID, user_id=STAFF_ID)
    await staff.send("/stats")
    await staff.press("7 days")
    assert "Last 7 days (2026-11-22 to 2026-11-28)" in staff.messages[-2].text
    assert "Screenings started: 12" in staff.messages[-2].text


async def test_an_empty_period_says_so_without_a_chart(env: BotEnv) -> None:
    staff = env.client(chat_id=STAFF_ID, user_id=STAFF_ID)
    await staff.send("/stats")
    await staff.press("7 days")
    assert "No screenings in this period." in staff.last_text
    assert env.api.calls_to("sendPhoto") == []


async def test_spanish_staff_read_spanish(env: BotEnv) -> None:
    seed(env)
    staff = env.client(chat_id=STAFF_ID, user_id=STAFF_ID, language_code="es")
    await staff.send("/stats")
    assert staff.buttons == ["7 días", "30 días", "90 días", "Todo"]
    await staff.press("30 días")
    assert "Evaluaciones iniciadas: 18" in staff.messages[-2].text


async def test_parents_get_the_unknown_command_reply_for_stats(env: BotEnv) -> None:
    seed(env)
    parent = env.client()
    await parent.send("/nonsense")
    unknown_text, unknown_buttons = parent.last_text, parent.buttons
    await parent.send("/stats")
    assert (parent.last_text, parent.buttons) == (unknown_text, unknown_buttons)
    assert "statistics" not in parent.last_text.lower()
    assert env.api.calls_to("sendPhoto") == []


async def test_parents_pressing_a_validly_signed_stats_button_learn_nothing(
    env: BotEnv,
) -> None:
    seed(env)
    parent = env.client()
    await parent.send("/nonsense")
    unknown_text = parent.last_text
    sent_before = len(parent.messages)
    codec = CallbackCodec(env.settings.pseudonym_key)
    await parent.press_data(codec.encode(Action("S", ("7",))))
    assert parent.last_text == unknown_text
    assert len(parent.messages) == sent_before + 1
    assert "Screenings started" not in " ".join(m.text for m in parent.messages)
    assert env.api.calls_to("sendPhoto") == []


async def test_a_forged_stats_button_is_treated_as_stale_for_staff(env: BotEnv) -> None:
    staff = env.client(chat_id=STAFF_ID, user_id=STAFF_ID)
    await staff.send("/stats")
    await staff.press_data("1|S|7|forgedtag")
    assert env.api.calls_to("sendPhoto") == []
    assert "Screenings started" not in " ".join(m.text for m in staff.messages)
