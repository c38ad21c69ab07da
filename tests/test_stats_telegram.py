"""/stats in Telegram: staff get a summary and a chart; everyone else gets nothing of it."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from bot.callbacks import Action, CallbackCodec
from bot.stats.chart import HEIGHT_PX, WIDTH_PX
from tests.botenv import BotEnv
from tests.conftest import STAFF_ID
from tests.fakebot import ChatClient, SentMessage
from tests.stats_helpers import in_progress, outcome, png_size

PERIOD_BUTTONS = ["7 days", "30 days", "90 days", "All time"]


def seed(env: BotEnv) -> None:
    """The clock says 2026-11-28 15:00 UTC (09:00 in Chicago)."""
    assert env.storage is not None
    env.storage.db["outcomes"].insert_all(
        outcome(9, day="2026-11-27", outcome_id="iep_evaluation", booked=1)
        + outcome(2, day="2026-11-25", outcome_id="iep_review", source="flyer")
        + outcome(6, day="2026-11-20", outcome_id=None, stopped_at="effort", lang="es")
        + outcome(40, day="2026-10-29", outcome_id="plan_504_may_fit")  # 31 days ago
    )
    env.storage.db["sessions"].insert_all(in_progress(1, day="2026-11-28"))


def staff_client(env: BotEnv, **kwargs: str) -> ChatClient:
    return env.client(chat_id=STAFF_ID, user_id=STAFF_ID, first_name="Dana", **kwargs)


async def pick(client: ChatClient, period: str) -> list[SentMessage]:
    """/stats, press a period, return the messages that press produced."""
    await client.send("/stats")
    mark = client.mark()
    await client.press(period)
    return client.new_since(mark)


async def test_staff_pick_a_period_and_get_a_summary_and_a_chart(env: BotEnv) -> None:
    seed(env)
    staff = staff_client(env)
    await staff.send("/stats")
    assert "Screening statistics" in staff.last_text
    assert staff.buttons == PERIOD_BUTTONS

    summary, chart = await pick(staff, "30 days")
    assert staff.callback_answers[-1] == (None, False, None)  # answered: no spinner
    text = summary.text
    assert not summary.is_photo and summary.buttons == []
    assert "Last 30 days (2026-10-30 to 2026-11-28)" in text
    assert "Screenings started: 18" in text  # 9 + 2 + 6 logged, 1 in progress
    assert "Finished: 11 (completion rate 61%)" in text
    assert "Abandoned: 6" in text
    assert "Still in progress: <5" in text
    assert "Book presses: 9 (9 after a result, <5 from the menu)" in text
    assert "• Effort to keep up: 6" in text  # the question's short name, not its id
    # iep_review (2) and the flyer (2) would stand out: folded, with what they could be
    # subtracted from, into "other".
    assert "• other: 11" in text
    assert "iep_review" not in text and "The IEP may need a review" not in text
    assert "flyer" not in text
    assert "• English: 12 started, 11 finished" in text
    assert "• Español: 6 started, <5 finished" in text
    assert "Counts under 5 show as <5" in text

    assert chart.is_photo and chart.text == "Last 30 days (2026-10-30 to 2026-11-28)"
    assert png_size(chart.photo or b"") == (WIDTH_PX, HEIGHT_PX)
    assert chart.buttons == PERIOD_BUTTONS  # another period is one tap away
    photos = env.api.calls_to("sendPhoto")
    assert len(photos) == 1 and photos[0].params["chat_id"] == STAFF_ID
    actions = env.api.calls_to("sendChatAction")
    assert [call.params["action"] for call in actions] == ["upload_photo"]


async def test_all_time_counts_everything_and_seven_days_only_the_last_week(env: BotEnv) -> None:
    seed(env)
    staff = staff_client(env)
    summary, _ = await pick(staff, "All time")
    assert "All time, up to 2026-11-28" in summary.text
    assert "Screenings started: 58" in summary.text
    summary, _ = await pick(staff, "7 days")
    assert "Last 7 days (2026-11-22 to 2026-11-28)" in summary.text
    assert "Screenings started: 12" in summary.text  # 9 + 2 + 1 in progress
    # The buttons under the chart work as well as those under /stats.
    mark = staff.mark()
    await staff.press("90 days")
    assert "Last 90 days (2026-08-31 to 2026-11-28)" in staff.new_since(mark)[0].text


async def test_the_period_ends_now_in_the_practice_time_zone(env: BotEnv) -> None:
    # 03:00 UTC on 29 Nov is 21:00 on 28 Nov in Chicago: "today" is the 28th, and a
    # screening started this evening (UTC day 29th) is counted, not left for tomorrow.
    env.clock.now = dt.datetime(2026, 11, 29, 3, 0, tzinfo=dt.UTC).timestamp()
    seed(env)
    assert env.storage is not None
    env.storage.db["outcomes"].insert_all(
        outcome(5, day="2026-11-29", outcome_id="iep_review")
        + outcome(5, day="2026-11-21", outcome_id="iep_review")  # before the week
    )
    summary, _ = await pick(staff_client(env), "7 days")
    assert "Last 7 days (2026-11-22 to 2026-11-28)" in summary.text
    assert "Screenings started: 17" in summary.text  # 9 + 2 + 1 + the 5 of this evening


async def test_an_empty_period_says_so_without_a_chart(env: BotEnv) -> None:
    staff = staff_client(env)
    (reply,) = await pick(staff, "7 days")
    assert "No screenings in this period." in reply.text
    assert reply.buttons == PERIOD_BUTTONS
    assert env.api.calls_to("sendPhoto") == []


async def test_too_few_screenings_give_the_text_but_no_chart(env: BotEnv) -> None:
    assert env.storage is not None
    env.storage.db["outcomes"].insert_all(outcome(3, day="2026-11-27"))
    (reply,) = await pick(staff_client(env), "7 days")
    assert "Screenings started: <5" in reply.text
    assert "Too few screenings for a chart." in reply.text
    assert env.api.calls_to("sendPhoto") == []


async def test_spanish_staff_read_spanish(env: BotEnv) -> None:
    seed(env)
    staff = staff_client(env, language_code="es")
    await staff.send("/stats")
    assert staff.buttons == ["7 días", "30 días", "90 días", "Todo"]
    summary, chart = await pick(staff, "30 días")
    assert "Cuestionarios iniciados: 18" in summary.text
    assert "• Esfuerzo para seguir el ritmo: 6" in summary.text
    assert "• otros: 11" in summary.text
    assert chart.text == "Últimos 30 días (del 2026-10-30 al 2026-11-28)"


async def test_a_forged_stats_button_is_treated_as_stale_for_staff(env: BotEnv) -> None:
    seed(env)
    staff = staff_client(env)
    await staff.send("/stats")
    await staff.press_data("1|S|7|forged")
    assert staff.callback_answers[-1].text  # the usual "that button is old" toast
    assert env.api.calls_to("sendPhoto") == []
    assert "Screenings started" not in " ".join(m.text for m in staff.messages)


# --- anyone else ---------------------------------------------------------------------------------


async def unknown_command_reply(client: ChatClient) -> tuple[str, list[str]]:
    await client.send("/nonsense")
    return client.last_text, client.buttons


async def test_parents_get_the_unknown_command_reply_for_stats(env: BotEnv) -> None:
    seed(env)
    parent = env.client()
    expected = await unknown_command_reply(parent)
    mark = parent.mark()
    await parent.send("/stats")
    (reply,) = parent.new_since(mark)
    assert (reply.text, reply.buttons) == expected
    assert env.api.calls_to("sendPhoto") == env.api.calls_to("sendChatAction") == []


@pytest.mark.parametrize(
    "data",
    [
        "valid",  # a real, correctly signed stats button (copied from a staff chat)
        "1|S|7|forged",  # a made-up one
        "0|S|30|abcdef",  # an old version's
    ],
)
async def test_parents_pressing_any_stats_button_get_the_same_reply(env: BotEnv, data: str) -> None:
    seed(env)
    parent = env.client()
    expected = await unknown_command_reply(parent)
    if data == "valid":
        data = CallbackCodec(env.settings.pseudonym_key).encode(Action("S", ("7",)))
    mark = parent.mark()
    await parent.press_data(data)
    (reply,) = parent.new_since(mark)
    assert (reply.text, reply.buttons) == expected
    assert parent.callback_answers[-1] == (None, False, None)  # answered, and silently
    assert env.api.calls_to("sendPhoto") == env.api.calls_to("sendChatAction") == []


async def test_staff_lose_stats_when_removed_from_staff_ids(env: BotEnv) -> None:
    seed(env)
    await staff_client(env).send("/stats")
    env.settings = dataclasses.replace(env.settings, staff_ids=frozenset())
    await env.restart()
    former = staff_client(env)  # the same chat, talking to the restarted bot
    old_buttons = former.messages[-1].message_id
    expected = await unknown_command_reply(former)
    mark = former.mark()
    await former.press_on(old_buttons, "7 days")
    (reply,) = former.new_since(mark)
    assert (reply.text, reply.buttons) == expected
    assert env.api.calls_to("sendPhoto") == []


async def test_rows_from_the_first_screening_are_still_counted_and_named(env: BotEnv) -> None:
    # The second screening kept the six first outcome ids and retired three questions; rows
    # logged before it (with answers to school_said, progress, plan_working) still count.
    assert env.storage is not None
    env.storage.db["outcomes"].insert_all(
        outcome(6, day="2026-11-27", outcome_id="current_504_not_enough")
        + outcome(5, day="2026-11-27", outcome_id=None, stopped_at="school_said")
        + outcome(5, day="2026-11-27", outcome_id=None, stopped_at="learning")
    )
    staff = staff_client(env)
    summary, _chart = await pick(staff, "7 days")
    assert "The 504 plan may not be enough: 6" in summary.text
    assert "School said no (old): 5" in summary.text
    assert "How learning is going: 5" in summary.text
