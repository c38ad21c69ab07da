"""The follow-through engine over the fake Bot API and the real Sender, on a clock the tests
move by hand: reminders and check-ins go once, in order, by day, within one bot-wide budget.

Restarts and kills between any two steps: tests/test_followup_restart.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections import Counter
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.delivery import Outgoing
from bot.followup.due import OFFSETS, ReminderKind, send_instant
from bot.followup.engine import FollowUpEngine, FollowUpEngineSettings
from bot.followup.store import FollowUps, Notice
from tests.botenv import BotEnv
from tests.clock import FakeClock
from tests.fakebot import FakeBotAPI

TZ = ZoneInfo("America/Chicago")  # TIMEZONE's default; QUIET_HOURS' default is 20:00-08:00
SEND_AT = dt.time(10)  # the local hour the tests' reminders are set for
DUE = dt.date(2026, 12, 21)  # a Monday; the fake clock starts on Saturday 28 November 2026
ORDER = [kind.value for kind in ReminderKind]  # two_weeks, three_days, due_day, day_after
PARENT, OTHER = 5_001, 5_002


# --- helpers (tests/test_followup_restart.py uses them too) -----------------------------------


def local(day: dt.date, at: dt.time) -> float:
    """The unix time when the practice's wall clock shows `at` on `day`."""
    return send_instant(day, TZ, at).timestamp()


def wall(timestamp: float) -> dt.datetime:
    """A unix time as the practice's wall clock shows it (naive, for readable asserts)."""
    return dt.datetime.fromtimestamp(timestamp, TZ).replace(tzinfo=None)


def key_of(env: BotEnv, chat_id: int) -> str:
    """The chat's keyed hash, as the bot stores it."""
    return env.app.services.pseudonymize(chat_id)


def set_deadline(
    env: BotEnv,
    chat_id: int,
    due: dt.date = DUE,
    *,
    kinds: Iterable[str] = ORDER,
    at: dt.time = SEND_AT,
) -> list[float]:
    """A parent's evaluation clock with its reminders at `at` local; their send times."""
    times = {
        kind: local(due + dt.timedelta(days=OFFSETS[ReminderKind(kind)]), at) for kind in kinds
    }
    FollowUps(store(env)).set_deadline(
        key_of(env, chat_id),
        chat_id,
        "en",
        received=due - dt.timedelta(days=60),
        state=None,
        rule_id="federal",
        due=due,
        reminders=[(kind, int(when)) for kind, when in times.items()],
    )
    return sorted(times.values())


def offer_checkin(env: BotEnv, chat_id: int, send_at: float, session_id: str = "sess-a1b2") -> None:
    FollowUps(store(env)).offer_checkin(
        session_id,
        outcome_id="iep_evaluation",
        lang="en",
        chat_key=key_of(env, chat_id),
        chat_id=chat_id,
        send_at=int(send_at),
    )


def store(env: BotEnv) -> Any:
    assert env.storage is not None
    return env.storage


class Composer:
    """A stand-in for the parent-facing words: plain text naming the notice's step; it
    remembers when each notice was composed (right before its claim and send)."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.composed: list[tuple[float, Notice]] = []

    def __call__(self, notice: Notice) -> Outgoing | None:
        self.composed.append((self.clock(), notice))
        return Outgoing(notice.chat_id, f"{notice.kind}: {notice.step}")


def make_engine(
    env: BotEnv,
    *,
    compose: Any = None,
    workers: int = 1,
    batch: int = 50,
    idle_poll: float = 3600.0,
    tidy_every: float = 600.0,
    sender: Any = None,
) -> FollowUpEngine:
    """The real engine and the real Sender (bot/tg/sender.py) on the test clock: time only
    moves when something sleeps. One worker unless said: sends in a fixed order."""
    # The broadcast tests' sender (tests/botenv.py), pacing on the fake clock.
    sender = sender or env.engine(backoff=1.0).sender
    return FollowUpEngine(
        FollowUps(store(env)),
        sender,
        compose=compose or Composer(env.clock),
        settings=env.settings,
        engine_settings=FollowUpEngineSettings(
            workers=workers, batch=batch, idle_poll=idle_poll, tidy_every=tidy_every
        ),
        clock=env.clock,
        sleep=sender.sleep,
    )


def texts(api: FakeBotAPI, chat_id: int) -> list[str]:
    """What the parent's phone shows, oldest first."""
    return [m.text for m in api.chats.get(chat_id, [])]


async def run_until(engine: FollowUpEngine, clock: FakeClock, until: float) -> None:
    """Let the engine's own loop run (its sleeps move the fake clock) until `until`."""
    task = asyncio.create_task(engine.run())
    try:
        for _ in range(100_000):
            if clock() >= until or task.done():
                break
            await asyncio.sleep(0)
        else:
            raise AssertionError(f"the engine never reached {wall(until)} (at {wall(clock())})")
        if task.done():
            task.result()  # its error, if it died
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def statuses(env: BotEnv, table: str) -> dict[str, str]:
    column = "kind" if table == "reminders" else "session_id"
    return {row[column]: row["status"] for row in env.rows(table)}


# --- each once, in order, at its time ---------------------------------------------------------


async def test_each_reminder_goes_once_in_order_and_the_check_in_at_its_time(env: BotEnv) -> None:
    times = set_deadline(env, PARENT)
    checkin_at = local(dt.date(2026, 12, 10), dt.time(15, 30))
    offer_checkin(env, OTHER, checkin_at)
    engine = make_engine(env)
    await run_until(engine, env.clock, local(dt.date(2026, 12, 23), dt.time(12)))
    assert texts(env.api, PARENT) == [f"reminder: {kind}" for kind in ORDER]
    assert texts(env.api, OTHER) == ["checkin: ask"]
    composed = engine.compose.composed  # type: ignore[attr-defined]
    # The engine slept until each was due, and sent it then: not a poll later, never early.
    when = [at for at, _ in composed]
    assert when == sorted([*times, checkin_at])
    assert [n.step for _, n in composed] == ["two_weeks", "ask", *ORDER[1:]]


async def test_a_due_notice_goes_at_once_and_only_once(env: BotEnv) -> None:
    set_deadline(env, PARENT, kinds=["due_day"])
    env.clock.now = local(DUE, dt.time(10, 5))
    engine = make_engine(env)
    assert await engine.work()
    assert not await engine.work()
    assert texts(env.api, PARENT) == ["reminder: due_day"]
    assert statuses(env, "reminders") == {"due_day": "sent"}


# --- quiet hours ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("due_at", "expected"),
    [
        # An ordinary night: 22:00 -> 08:00 the next morning.
        (dt.datetime(2026, 12, 1, 22, 0), dt.datetime(2026, 12, 2, 14, 0, tzinfo=dt.UTC)),
        # Clocks go back (1 November 2026): 08:00 CST is 14:00 UTC, not 13:00.
        (dt.datetime(2026, 10, 31, 22, 0), dt.datetime(2026, 11, 1, 14, 0, tzinfo=dt.UTC)),
        # Clocks go forward (14 March 2027): 08:00 CDT is 13:00 UTC, not 14:00.
        (dt.datetime(2027, 3, 13, 22, 0), dt.datetime(2027, 3, 14, 13, 0, tzinfo=dt.UTC)),
        # Due at 03:00 in the night itself: still 08:00.
        (dt.datetime(2027, 3, 14, 3, 0), dt.datetime(2027, 3, 14, 13, 0, tzinfo=dt.UTC)),
    ],
)
async def test_nothing_goes_in_quiet_hours_a_notice_due_at_night_goes_at_eight(
    env: BotEnv, due_at: dt.datetime, expected: dt.datetime
) -> None:
    send_at = local(due_at.date(), due_at.time())
    offer_checkin(env, OTHER, send_at)
    set_deadline(env, PARENT, due_at.date(), kinds=["due_day"], at=due_at.time())
    env.clock.now = send_at - 600
    engine = make_engine(env, idle_poll=600)
    await run_until(engine, env.clock, expected.timestamp() + 3600)
    composed = [at for at, _ in engine.compose.composed]  # type: ignore[attr-defined]
    assert composed == [expected.timestamp()] * 2
    assert texts(env.api, OTHER) == ["checkin: ask"]
    assert texts(env.api, PARENT) == ["reminder: due_day"]


async def test_quiet_hours_striking_mid_batch_leave_the_rest_pending(env: BotEnv) -> None:
    chats = list(range(6_000, 6_010))
    for chat_id in chats:
        set_deadline(env, chat_id, kinds=["due_day"], at=dt.time(19, 59))
    env.clock.now = local(DUE, dt.time(19, 59, 59))
    engine = make_engine(env, idle_poll=86400)
    # Each send takes a second of (fake) time here: 20:00 strikes after the first.
    env.api.sleep = engine.sleep
    env.api.slow("sendMessage", 1.0, times=10)
    await engine.work()
    sent = [c for c in chats if texts(env.api, c)]
    assert len(sent) == 1
    assert Counter(r["status"] for r in env.rows("reminders")) == {"sent": 1, "pending": 9}
    morning = local(DUE + dt.timedelta(days=1), dt.time(8))
    assert engine.pause() == pytest.approx(morning - env.clock())  # asleep until 08:00
    env.clock.now = morning
    await engine.work()
    assert all(texts(env.api, c) == ["reminder: due_day"] for c in chats)


# --- Telegram's answers -----------------------------------------------------------------------


async def test_a_429_waits_its_retry_after_and_nothing_is_lost(env: BotEnv) -> None:
    set_deadline(env, PARENT, kinds=["due_day"])
    env.clock.now = local(DUE, SEND_AT)
    engine = make_engine(env)
    # More 429s than the Sender retries: the notice is released (pending), not lost.
    env.api.fail("sendMessage", 429, retry_after=7, times=4)
    start = env.clock()
    assert not await engine.work()
    assert statuses(env, "reminders") == {"due_day": "pending"}
    assert env.clock() - start >= 3 * 7  # the Sender waited out each retry_after
    assert await engine.work()
    assert texts(env.api, PARENT) == ["reminder: due_day"]
    assert statuses(env, "reminders") == {"due_day": "sent"}


async def test_a_403_deletes_the_chats_deadline_reminders_and_check_in(env: BotEnv) -> None:
    blocked = 918_273_645
    set_deadline(env, blocked)
    offer_checkin(env, blocked, local(dt.date(2027, 1, 20), SEND_AT))
    set_deadline(env, OTHER)  # another parent, untouched
    env.api.block(blocked)
    env.clock.now = local(DUE - dt.timedelta(days=14), SEND_AT)
    engine = make_engine(env)
    assert await engine.work()
    assert texts(env.api, OTHER) == ["reminder: two_weeks"]
    assert {r["chat_id"] for r in env.rows("deadlines")} == {OTHER}
    assert {r["chat_key"] for r in env.rows("reminders")} == {key_of(env, OTHER)}
    assert env.rows("checkins") == []
    dump = env.dump()
    assert str(blocked) not in dump and key_of(env, blocked) not in dump


async def test_a_5xx_is_unknown_never_resent_and_the_next_reminder_still_goes(
    env: BotEnv,
) -> None:
    set_deadline(env, PARENT, kinds=["three_days", "due_day"])
    env.api.fail("sendMessage", 502, times=10)
    env.clock.now = local(DUE - dt.timedelta(days=3), SEND_AT)
    engine = make_engine(env)
    assert await engine.work()
    assert not await engine.work()
    assert statuses(env, "reminders") == {"three_days": "unknown", "due_day": "pending"}
    assert len(env.api.calls_to("sendMessage")) == 1  # tried once: it may have arrived
    env.api = FakeBotAPI()  # Telegram is fine again by the due day
    await env.restart()
    env.clock.now = local(DUE, SEND_AT)
    assert await make_engine(env).work()
    assert texts(env.api, PARENT) == ["reminder: due_day"]


async def test_a_400_is_failed_and_the_parent_s_other_notices_still_go(env: BotEnv) -> None:
    set_deadline(env, PARENT, kinds=["due_day"])
    offer_checkin(env, PARENT, local(DUE, SEND_AT))
    env.api.fail("sendMessage", 400, description="Bad Request: message is too long", times=1)
    env.clock.now = local(DUE, SEND_AT)
    assert await make_engine(env).work()
    assert len(env.api.calls_to("sendMessage")) == 2
    assert sorted([*statuses(env, "reminders").values(), *statuses(env, "checkins").values()]) == [
        "failed",
        "sent",
    ]


# --- after a long stop ------------------------------------------------------------------------


async def test_after_a_long_stop_only_the_latest_reminder_goes(env: BotEnv) -> None:
    set_deadline(env, PARENT)
    offer_checkin(env, PARENT, local(DUE - dt.timedelta(days=5), SEND_AT))
    set_deadline(env, OTHER)
    # The bot was down from before the two-week reminder until the due day's afternoon.
    env.clock.now = local(DUE, dt.time(15))
    engine = make_engine(env, workers=4)
    assert await engine.work()
    # The latest reminder goes, and the check-in (another kind of message) too.
    assert sorted(texts(env.api, PARENT)) == ["checkin: ask", "reminder: due_day"]
    assert texts(env.api, OTHER) == ["reminder: due_day"]
    assert statuses(env, "reminders") == {
        "two_weeks": "skipped",
        "three_days": "skipped",
        "due_day": "sent",
        "day_after": "pending",
    }
    env.clock.now = local(DUE + dt.timedelta(days=1), SEND_AT)
    await engine.work()
    assert texts(env.api, OTHER) == ["reminder: due_day", "reminder: day_after"]


async def test_a_batch_smaller_than_the_backlog_still_skips_the_stale_ones(env: BotEnv) -> None:
    chats = list(range(7_000, 7_030))
    for chat_id in chats:
        set_deadline(env, chat_id)
    env.clock.now = local(DUE, dt.time(15))
    # Oldest first, five at a time: every batch is all two-week reminders at first.
    assert await make_engine(env, batch=5, workers=2).work()
    assert all(texts(env.api, c) == ["reminder: due_day"] for c in chats)


# --- what compose says ------------------------------------------------------------------------


async def test_nothing_to_say_is_skipped_and_a_composing_error_fails_only_that_notice(
    env: BotEnv, caplog: pytest.LogCaptureFixture
) -> None:
    set_deadline(env, PARENT, kinds=["due_day"])
    set_deadline(env, OTHER, kinds=["due_day"])
    set_deadline(env, 5_003, kinds=["due_day"])
    env.clock.now = local(DUE, SEND_AT)
    plain = Composer(env.clock)

    def compose(notice: Notice) -> Outgoing | None:
        if notice.chat_id == OTHER:
            return None  # its words are gone from content
        if notice.chat_id == 5_003:
            raise KeyError("reminder.due_day.missing")
        return plain(notice)

    failures: list[BaseException] = []
    engine = make_engine(env, compose=compose)
    engine.on_failure = failures.append
    with caplog.at_level(logging.INFO):
        assert await engine.work()
    assert not await engine.work()  # neither is tried again
    assert texts(env.api, PARENT) == ["reminder: due_day"]
    assert OTHER not in env.api.chats and 5_003 not in env.api.chats
    by_chat = {r["chat_key"]: r["status"] for r in env.rows("reminders")}
    assert by_chat == {
        key_of(env, PARENT): "sent",
        key_of(env, OTHER): "skipped",
        key_of(env, 5_003): "failed",
    }
    assert [type(f) for f in failures] == [KeyError]
    assert "could not be composed: KeyError" in caplog.text


async def test_a_message_composed_for_another_chat_is_never_sent(env: BotEnv) -> None:
    set_deadline(env, PARENT, kinds=["due_day"])
    env.clock.now = local(DUE, SEND_AT)
    engine = make_engine(env, compose=lambda n: Outgoing(OTHER, "wrong chat"))
    await engine.work()
    assert env.api.calls_to("sendMessage") == []
    assert statuses(env, "reminders") == {"due_day": "failed"}


# --- letting go -------------------------------------------------------------------------------


async def test_after_the_day_after_reminder_the_deadline_and_its_chat_id_are_gone(
    env: BotEnv,
) -> None:
    set_deadline(env, PARENT, kinds=["due_day", "day_after"])
    engine = make_engine(env, tidy_every=600)
    env.clock.now = local(DUE, SEND_AT)
    await engine.work()
    env.clock.now = local(DUE + dt.timedelta(days=1), SEND_AT)
    await engine.work()
    assert texts(env.api, PARENT) == ["reminder: due_day", "reminder: day_after"]
    env.clock.advance(seconds=600)  # the next tidy
    await engine.work()
    assert env.rows("deadlines") == [] and env.rows("reminders") == []
    dump = env.dump()
    assert str(PARENT) not in dump and key_of(env, PARENT) not in dump
    assert (DUE - dt.timedelta(days=60)).isoformat() not in dump  # the day consent arrived


async def test_a_check_in_sent_and_not_answered_lets_go_of_the_chat_after_two_days(
    env: BotEnv,
) -> None:
    offer_checkin(env, PARENT, local(dt.date(2026, 12, 2), SEND_AT))
    engine = make_engine(env, tidy_every=600)
    env.clock.now = local(dt.date(2026, 12, 2), SEND_AT)
    await engine.work()
    assert texts(env.api, PARENT) == ["checkin: ask"]
    env.clock.advance(days=2, seconds=-60)
    await engine.work()
    [kept] = env.rows("checkins")
    assert kept["chat_id"] == PARENT  # still waiting for the parent's answer
    env.clock.advance(seconds=601)
    await engine.work()
    [gone] = env.rows("checkins")
    assert (gone["chat_id"], gone["chat_key"], gone["status"]) == (None, None, "expired")
    assert str(PARENT) not in env.dump()


# --- stopping ---------------------------------------------------------------------------------


class HeldAPI(FakeBotAPI):
    """Holds every sendMessage until `go` is set: a send on its way while the bot stops."""

    def __init__(self) -> None:
        super().__init__()
        self.go = asyncio.Event()
        self.waiting = asyncio.Event()

    async def do_request(self, url: str, method: str, request_data: Any = None, **kw: Any) -> Any:
        if url.endswith("/sendMessage"):
            self.waiting.set()
            await self.go.wait()
        return await super().do_request(url, method, request_data, **kw)


async def test_a_stop_lets_the_notice_on_its_way_finish_and_starts_no_other(env: BotEnv) -> None:
    env.api = HeldAPI()
    await env.restart()
    set_deadline(env, PARENT, kinds=["due_day"])
    set_deadline(env, OTHER, kinds=["due_day"])
    env.clock.now = local(DUE, SEND_AT)
    engine = make_engine(env)
    engine.start()
    await env.api.waiting.wait()
    stopping = asyncio.create_task(engine.stop(drain=5.0))
    await asyncio.sleep(0)
    env.api.go.set()
    assert await stopping
    assert Counter(r["status"] for r in env.rows("reminders")) == {"sent": 1, "pending": 1}


# --- one budget, shared with broadcasts -------------------------------------------------------


async def test_during_a_broadcast_notices_go_first_and_the_bot_wide_rate_holds(
    env: BotEnv,
) -> None:
    subscribers = list(range(200_000, 200_120))
    for chat_id in subscribers:
        store(env).add_subscriber(f"key-{chat_id}", chat_id, "en")
    env.app.services.broadcasts.queue(
        audience="all", texts={"*": "<b>Tip</b>: keep a log."}, created_by=777, origin="telegram"
    )
    parents = list(range(8_000, 8_012))
    for chat_id in parents:
        set_deadline(env, chat_id, kinds=["due_day"])
    env.clock.now = local(DUE, SEND_AT)
    flood = env.api.limit_flood(env.settings.telegram_rate, clock=env.clock)
    broadcasting = env.engine(rate=25, workers=4)
    # One Sender for both, as in the running bot: one bot-wide budget.
    notices = make_engine(env, workers=4, sender=broadcasting.sender)
    await asyncio.gather(broadcasting.work(), notices.work())
    order = [int(c.params["chat_id"]) for c in env.api.calls_to("sendMessage") if c.status == 200]
    assert sorted(order) == sorted([*subscribers, *parents])  # everyone once
    last_notice = max(order.index(chat_id) for chat_id in parents)
    broadcast_before = sum(1 for c in order[:last_notice] if c in subscribers)
    # The notices went while the broadcast was under way, not after it.
    # The notices went as soon as the broadcast was under way, ahead of nearly all of it.
    assert broadcast_before <= 10
    assert flood.refused == 0  # nobody ever met Telegram's limit


# --- logs -------------------------------------------------------------------------------------


async def test_the_log_holds_counts_and_kinds_never_a_chat(
    env: BotEnv, caplog: pytest.LogCaptureFixture
) -> None:
    set_deadline(env, PARENT)
    set_deadline(env, OTHER, kinds=["due_day"])
    offer_checkin(env, 5_003, local(DUE, SEND_AT), session_id="sess-9f8e7d")
    env.api.block(OTHER)
    env.clock.now = local(DUE, dt.time(15))
    with caplog.at_level(logging.DEBUG, logger="bot"):
        engine = make_engine(env, workers=2)
        engine.recover()
        await engine.work()
        env.clock.advance(seconds=600)
        await engine.work()
    assert "reminder due_day sent 1" in caplog.text
    assert "reminder two_weeks superseded 1" in caplog.text
    assert "checkin ask sent 1" in caplog.text
    assert "reminder due_day blocked 1" in caplog.text
    for secret in (PARENT, OTHER, 5_003):
        assert str(secret) not in caplog.text
        assert key_of(env, secret) not in caplog.text
    assert "sess-9f8e7d" not in caplog.text
