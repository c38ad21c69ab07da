"""/stats in Telegram: staff get a summary and a chart; everyone else gets nothing of it.

The counting and drawing run in the statistics worker; here (tests/botenv.py) its runner
runs them in this process (tests/stats_helpers.py InProcess), and each press waits for the
job it started (`settled`). tests/test_stats_off_queue.py runs the real worker process.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

import pytest

from bot.callbacks import Action, CallbackCodec
from bot.stats.chart import WIDTH_PX
from bot.stats.worker import StatsUnavailable
from tests.botenv import BotEnv
from tests.conftest import STAFF_ID
from tests.fakebot import ChatClient, SentMessage
from tests.parents import TO_IEP_EVALUATION, finish
from tests.stats_helpers import (
    PERIOD_BUTTONS,
    InProcess,
    after_period,
    in_progress,
    outcome,
    png_size,
    staff_client,
)


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


async def pick(client: ChatClient, period: str) -> list[SentMessage]:
    """/stats, press a period, return the messages that press produced once its job ended."""
    return await after_period(client, "/stats", period)


def reports(env: BotEnv) -> list[Any]:
    runner = env.app.stats_worker.runner
    assert isinstance(runner, InProcess)
    return runner.results


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
    # 9 of the 11 who saw a result tapped Book.
    assert "Book presses: 9 (9 after a result, 82% of results shown; <5 from the menu)" in text
    assert "• Effort to keep up: 6" in text  # the question's short name, not its id
    # iep_review (2) and the flyer (2) would stand out: folded, with what they could be
    # subtracted from, into "other", here the only row, so named "all together".
    assert "• all together: 11" in text
    assert "iep_review" not in text and "The IEP may need a review" not in text
    assert "flyer" not in text
    assert "• English: 12 started, 11 finished" in text
    assert "• Español: 6 started, <5 finished" in text
    assert "Counts under 5 show as <5" in text
    assert "A screening counts on the day it started (America/Chicago time)." in text

    assert chart.is_photo and chart.text == "Last 30 days (2026-10-30 to 2026-11-28)"
    assert png_size(chart.photo or b"")[0] == WIDTH_PX
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
    await env.app.stats_worker.settled()
    assert "Last 90 days (2026-08-31 to 2026-11-28)" in staff.new_since(mark)[0].text


async def test_an_evening_screening_counts_today_and_ends_the_chart_today(env: BotEnv) -> None:
    # 21:00 on 28 Nov in Chicago is 03:00 UTC on the 29th. A parent finishing a screening
    # now is counted on the 28th: the day the title ends on and the chart's last bar.
    env.clock.now = dt.datetime(2026, 11, 29, 3, 0, tzinfo=dt.UTC).timestamp()
    for i in range(5):
        await finish(env.client(chat_id=5000 + i, user_id=5000 + i), TO_IEP_EVALUATION)
    assert env.storage is not None
    assert {row["day"] for row in env.storage.db["outcomes"].rows} == {"2026-11-28"}
    env.storage.db["outcomes"].insert_all(outcome(5, day="2026-11-21"))  # before the week
    summary, chart = await pick(staff_client(env), "7 days")
    assert "Last 7 days (2026-11-22 to 2026-11-28)" in summary.text
    assert "Screenings started: 5" in summary.text
    assert chart.text == "Last 7 days (2026-11-22 to 2026-11-28)"
    (report,) = reports(env)
    assert report.data["period"] == {"since": "2026-11-22", "until": "2026-11-28"}
    assert report.data["timeline"]["buckets"][-1]["to"] == "2026-11-28"
    # All time: the 21st and tonight, and still nothing after today.
    await pick(staff_client(env), "All time")
    assert reports(env)[-1].data["timeline"]["buckets"][-1]["to"] == "2026-11-28"


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
    assert "• todos juntos: 11" in summary.text
    assert "el 82% de los resultados mostrados" in summary.text
    assert "Cada cuestionario cuenta el día en que empezó (hora de America/Chicago)." in (
        summary.text
    )
    assert chart.text == "Últimos 30 días (del 2026-10-30 al 2026-11-28)"
    assert chart.buttons == ["7 días", "30 días", "90 días", "Todo"]
    # The chart was drawn with the Spanish words.
    (request,) = requests_of(env)
    assert request.words["booking"] == "Pulsaron «Reservar» tras su resultado"
    assert request.words["period"] == "Últimos 30 días (del 2026-10-30 al 2026-11-28)"
    assert request.labels["effort"] == "Esfuerzo para seguir el ritmo"


def requests_of(env: BotEnv) -> list[Any]:
    """What the worker was asked (a runner that records it, around the test's one)."""
    return env.app.stats_worker.runner.requests  # type: ignore[attr-defined, no-any-return]


class Recording(InProcess):
    """InProcess, keeping each request too."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[Any] = []

    async def run(self, job: Callable[[Any], Any], request: Any) -> Any:
        self.requests.append(request)
        return await super().run(job, request)


@pytest.fixture(autouse=True)
def record_requests(env: BotEnv) -> None:
    env.app.stats_worker.runner = Recording()


async def test_two_presses_at_once_each_get_their_chart(env: BotEnv) -> None:
    seed(env)
    staff = staff_client(env)
    await staff.send("/stats")
    await staff.press("7 days")
    await staff.press("30 days")  # before the first chart came
    await env.app.stats_worker.settled()
    charts = [m.text for m in staff.messages if m.is_photo]
    assert sorted(charts) == [
        "Last 30 days (2026-10-30 to 2026-11-28)",
        "Last 7 days (2026-11-22 to 2026-11-28)",
    ]
    assert [a.text for a in staff.callback_answers] == [None, None]


class Failing:
    """A runner whose job fails: the worker died (StatsUnavailable) or a bug."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    async def run(self, job: Callable[[Any], Any], request: Any) -> Any:
        raise self.error

    def close(self) -> None:
        return None


@pytest.mark.parametrize(
    ("lang", "line", "buttons"),
    [
        ("en", "Sorry, the statistics could not be made just now.", PERIOD_BUTTONS),
        ("es", "Lo sentimos, no se pudieron preparar las estadísticas ahora.", None),
    ],
)
async def test_a_worker_that_died_gets_staff_a_kind_line_and_the_periods_again(
    env: BotEnv, caplog: pytest.LogCaptureFixture, lang: str, line: str, buttons: Any
) -> None:
    seed(env)
    env.app.stats_worker.runner = Failing(StatsUnavailable("the worker process stopped"))
    staff = staff_client(env, language_code=lang)
    with caplog.at_level(logging.INFO):
        (reply,) = await pick(staff, "30 days" if lang == "en" else "30 días")
    assert line in reply.text
    assert reply.buttons == (buttons or ["7 días", "30 días", "90 días", "Todo"])
    assert env.api.calls_to("sendPhoto") == []
    # The worker logs its one line when it dies; the handler adds none, and no error.
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_a_bug_while_counting_is_one_line_and_a_kind_reply(
    env: BotEnv, caplog: pytest.LogCaptureFixture
) -> None:
    seed(env)
    env.app.stats_worker.runner = Failing(ZeroDivisionError("division by zero"))
    with caplog.at_level(logging.INFO):
        reply, *_ = await pick(staff_client(env), "7 days")
        await asyncio.sleep(0)  # the error alert (bot/tg/alerts.py) goes out meanwhile
    assert "Sorry, the statistics could not be made just now." in reply.text
    # As for any bug in a handler, staff are alerted (here the staff member who asked).
    alert = staff_client(env).last_text
    assert "ZeroDivisionError" in alert and "tests/test_stats_telegram.py" in alert
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].startswith("statistics not made: ZeroDivisionError")
    assert env.app.health.last_error == "ZeroDivisionError"


async def test_a_forged_stats_button_is_treated_as_stale_for_staff(env: BotEnv) -> None:
    seed(env)
    staff = staff_client(env)
    await staff.send("/stats")
    await staff.press_data("1|S|7|forged")
    await env.app.stats_worker.settled()
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
    await env.app.stats_worker.settled()
    (reply,) = parent.new_since(mark)
    assert (reply.text, reply.buttons) == expected
    assert parent.callback_answers[-1] == (None, False, None)  # answered, and silently
    assert env.api.calls_to("sendPhoto") == env.api.calls_to("sendChatAction") == []
    assert env.app.stats_worker.runner.requests == []  # type: ignore[attr-defined]


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
    await env.app.stats_worker.settled()
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
