"""The delivery engine over the fake Bot API, on a clock the tests move by hand."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from telegram.error import TimedOut

from bot.broadcast.engine import DeliveryEngine
from bot.broadcast.message import BroadcastError
from bot.broadcast.queue import Broadcasts
from bot.cli import main
from bot.delivery import BotRefused
from bot.tg.render import keyboard
from tests.botenv import BotEnv, FakeSleep
from tests.clock import FakeClock
from tests.fakebot import FakeBotAPI

FIRST = 100_000


def engine_for(env: BotEnv, *, rate: float = 25, workers: int = 4) -> DeliveryEngine:
    return env.engine(rate=rate, workers=workers)


def subscribe(env: BotEnv, count: int, *, lang: str = "en", first: int = FIRST) -> list[int]:
    assert env.storage is not None
    ids = list(range(first, first + count))
    for chat_id in ids:
        env.storage.add_subscriber(f"key-{chat_id}", chat_id, lang)
    return ids


def queue(env: BotEnv, text: str = "<b>Tip</b>: ask for an evaluation any time.", **kw: Any) -> int:
    broadcasts: Broadcasts = env.app.services.broadcasts
    return broadcasts.queue(
        audience=kw.pop("audience", "all"),
        texts=kw.pop("texts", {"*": text}),
        created_by=kw.pop("created_by", 777),
        origin=kw.pop("origin", "telegram"),
        **kw,
    )


def sent_to(api: FakeBotAPI) -> Counter[int]:
    return Counter(int(c.params["chat_id"]) for c in api.calls_to("sendMessage") if c.status == 200)


def row(env: BotEnv, broadcast_id: int) -> Any:
    return env.app.services.broadcasts.get(broadcast_id)


async def test_every_subscriber_gets_it_once_in_their_language_with_the_stop_line(
    env: BotEnv,
) -> None:
    subscribe(env, 30, lang="en")
    subscribe(env, 20, lang="es", first=200_000)
    broadcast_id = queue(
        env, texts={"en": "<b>Hello</b> parents", "es": "<b>Hola</b> familias"}, tip_id="t1"
    )
    await engine_for(env).work()
    counts = sent_to(env.api)
    assert len(counts) == 50 and set(counts.values()) == {1}
    english = env.api.chats[FIRST][-1].text
    spanish = env.api.chats[200_000][-1].text
    assert english.startswith("Hello parents") and english.endswith(
        "To stop these tips, send /stop."
    )
    assert spanish.startswith("Hola familias") and spanish.endswith("envíe /stop.")
    done = row(env, broadcast_id)
    assert (done.status, done.total, done.sent) == ("done", 50, 50)
    assert done.finished_at is not None


async def test_the_configured_rate_is_kept(env: BotEnv) -> None:
    subscribe(env, 100)
    queue(env)
    start = env.clock()
    await engine_for(env, rate=25, workers=8).work()
    sends = [c for c in env.api.calls_to("sendMessage")]
    assert len(sends) == 100
    # 100 messages at 25/s take 4 s of (fake) time, never less.
    assert env.clock() - start >= 99 / 25 - 1e-3  # float sums at unix-time magnitude


async def test_a_429_waits_retry_after_then_continues(env: BotEnv) -> None:
    subscribe(env, 10)
    queue(env)
    env.api.fail("sendMessage", 429, retry_after=7)
    engine = engine_for(env)
    start = env.clock()
    await engine.work()
    assert sum(sent_to(env.api).values()) == 10
    assert env.clock() - start >= 7
    assert 7 in engine.sleep.calls or any(s >= 6.9 for s in engine.sleep.calls)  # type: ignore[attr-defined]


async def test_a_403_marks_the_parent_gone_and_deletes_the_chat_id(env: BotEnv) -> None:
    ids = subscribe(env, 5)
    env.api.block(ids[2])
    broadcast_id = queue(env)
    await engine_for(env).work()
    done = row(env, broadcast_id)
    assert (done.sent, done.blocked) == (4, 1)
    assert ids[2] not in {r["chat_id"] for r in env.rows("subscribers")}
    assert [e["event"] for e in env.rows("subscription_events")].count("blocked") == 1


async def test_a_send_that_never_left_is_retried_a_server_error_is_unknown(env: BotEnv) -> None:
    ids = subscribe(env, 4)
    env.api.fail_network("sendMessage", "connect_timeout", times=2, chat_id=ids[0])
    env.api.fail_network("sendMessage", "refused", times=10, chat_id=ids[1])
    env.api.fail("sendMessage", 502, times=10, chat_id=ids[2])
    broadcast_id = queue(env)
    engine = engine_for(env)
    await engine.work()
    done = row(env, broadcast_id)
    # ids[0] and ids[1]: the request never reached Telegram, so it was tried again until it
    # went, once. ids[2]: Telegram answered 502, so it may have arrived: unknown, not resent.
    assert (done.sent, done.unknown, done.status) == (3, 1, "done")
    statuses = {d["chat_key"]: d["status"] for d in env.rows("deliveries")}
    assert statuses[f"key-{ids[2]}"] == "unknown"
    assert len(env.api.chats[ids[0]]) == len(env.api.chats[ids[1]]) == 1
    assert ids[2] not in env.api.chats
    # A server error makes broadcasts step back before the next message.
    assert any(s >= 2 for s in engine.sleep.calls)  # type: ignore[attr-defined]


async def test_a_400_is_recorded_as_failed_with_its_reason(env: BotEnv) -> None:
    ids = subscribe(env, 2)
    env.api.fail("sendMessage", 400, description="Bad Request: chat not found", chat_id=ids[0])
    broadcast_id = queue(env)
    await engine_for(env).work()
    assert row(env, broadcast_id).failed == 1
    [failed] = [d for d in env.rows("deliveries") if d["status"] == "failed"]
    assert "chat not found" in failed["error"].lower()


class CrashingAPI(FakeBotAPI):
    """Dies (as a killed process would) in the middle of the Nth send."""

    def __init__(self, crash_at: int) -> None:
        super().__init__()
        self.crash_at = crash_at

    async def do_request(self, url: str, method: str, request_data: Any = None, **kw: Any) -> Any:
        if url.endswith("/sendMessage") and self.counts["sendMessage"] + 1 == self.crash_at:
            self.counts["sendMessage"] += 1
            raise asyncio.CancelledError
        return await super().do_request(url, method, request_data, **kw)


async def test_a_crash_mid_broadcast_resumes_with_no_duplicates(env: BotEnv) -> None:
    subscribe(env, 40)
    broadcast_id = queue(env)
    crashing = CrashingAPI(crash_at=15)
    env.api = crashing  # the next application uses it
    await env.restart()
    engine = engine_for(env, workers=1)
    with pytest.raises(asyncio.CancelledError):
        await engine.work()
    assert [d["status"] for d in env.rows("deliveries")].count("attempted") == 1
    # A new process over the same database file:
    env.api = FakeBotAPI()
    await env.restart()
    engine = engine_for(env)
    assert env.app.services.broadcasts.recover() == 1
    await engine.work()
    first_run = {
        int(c.params["chat_id"]) for c in crashing.calls_to("sendMessage") if c.status == 200
    }
    second_run = sent_to(env.api)
    assert first_run.isdisjoint(second_run) and set(second_run.values()) == {1}
    done = row(env, broadcast_id)
    assert (done.status, done.sent, done.unknown) == ("done", 39, 1)
    assert len(first_run) + len(second_run) == 39


def before_claim(engine: DeliveryEngine, n: int, action: Callable[[int], Any]) -> None:
    """Run `action(broadcast_id)` just before the engine's n-th claim: something a parent
    or staff member does while the broadcast is under way."""
    broadcasts = engine.broadcasts
    vars(broadcasts).pop("claim", None)  # back to the real method
    original = broadcasts.claim
    count = 0

    def claim(broadcast_id: int, key: str) -> Any:
        nonlocal count
        count += 1
        if count == n:
            action(broadcast_id)
        return original(broadcast_id, key)

    broadcasts.claim = claim  # type: ignore[method-assign]


async def test_stop_mid_broadcast_is_honoured(env: BotEnv) -> None:
    ids = subscribe(env, 20)
    broadcast_id = queue(env)
    engine = engine_for(env, workers=1)  # one sender: recipients in subscription order
    storage = env.storage
    assert storage is not None
    # While the 6th parent is being sent to, the 11th sends /stop.
    before_claim(engine, 6, lambda _: storage.remove_subscriber(f"key-{ids[10]}", event="left"))
    await engine.work()
    assert ids[10] not in sent_to(env.api)
    done = row(env, broadcast_id)
    assert (done.sent, done.skipped) == (19, 1)


async def test_pause_resume_and_cancel(env: BotEnv) -> None:
    subscribe(env, 30)
    broadcasts: Broadcasts = env.app.services.broadcasts
    broadcast_id = queue(env)
    engine = engine_for(env, workers=1)
    before_claim(engine, 10, broadcasts.pause)
    await engine.work()
    paused = row(env, broadcast_id)
    assert paused.status == "paused" and paused.sent == 10
    await engine.work()  # nothing is due while paused
    assert row(env, broadcast_id).sent == 10
    assert broadcasts.resume(broadcast_id)
    before_claim(engine, 5, broadcasts.cancel)
    await engine.work()
    cancelled = row(env, broadcast_id)
    assert cancelled.status == "cancelled" and cancelled.sent == 15
    await engine.work()
    assert row(env, broadcast_id).sent == 15


async def test_scheduled_broadcasts_wait_for_their_time(env: BotEnv) -> None:
    subscribe(env, 3)
    broadcast_id = queue(env, not_before=env.clock() + 3600)
    engine = engine_for(env)
    assert not await engine.work()
    assert row(env, broadcast_id).status == "scheduled"
    env.clock.advance(hours=1)
    assert await engine.work()
    assert row(env, broadcast_id).sent == 3


async def test_the_status_message_shows_progress_and_buttons(env: BotEnv) -> None:
    subscribe(env, 10)
    staff = env.client(chat_id=777, user_id=777)
    await staff.send("/start")
    broadcasts: Broadcasts = env.app.services.broadcasts
    broadcast_id = queue(env)
    status = await env.app.bot.send_message(777, "📣 waiting")
    broadcasts.attach_status_message(broadcast_id, 777, status.message_id)
    engine = engine_for(env)
    await engine.work()
    shown = env.api.message(777, status.message_id)
    assert shown is not None
    assert shown.text.startswith("✅ Broadcast #1: sent. It finished on Sat 28 Nov 2026, 09:00")
    assert "Sent 10 · Blocked 0 · Failed 0" in shown.text and "Remaining" not in shown.text
    edits = [c for c in env.api.calls_to("editMessageText") if c.params["chat_id"] in (777, "777")]
    assert 2 <= len(edits) <= 10  # at the start, now and then, at the end: not per message


async def test_staff_buttons_pause_and_non_staff_get_the_unknown_command_reply(
    env: BotEnv,
) -> None:
    subscribe(env, 3)
    broadcast_id = queue(env, not_before=env.clock() + 600)
    staff = env.client(chat_id=777, user_id=777)
    status = await env.app.bot.send_message(777, "📣 waiting")
    broadcasts: Broadcasts = env.app.services.broadcasts
    broadcasts.attach_status_message(broadcast_id, 777, status.message_id)
    screen = env.app.engine.status_screen(row(env, broadcast_id))
    await env.app.bot.edit_message_text(
        screen.text,
        chat_id=777,
        message_id=status.message_id,
        reply_markup=keyboard(screen, env.app.services.codec),
    )
    await staff.press("⏸ Pause")
    assert row(env, broadcast_id).status == "paused"
    assert "Resume" in " ".join(staff.buttons)
    # A parent pressing a (validly signed) staff button learns nothing.
    from bot.callbacks import Action

    maria = env.client()
    codec = env.app.services.codec
    await maria.send("/start")
    await maria.press_data(codec.encode(Action("X", ("resume", str(broadcast_id)))))
    assert row(env, broadcast_id).status == "paused"
    assert "I don't know that command" in maria.last_text


def test_bad_input_queues_nothing(env: BotEnv) -> None:
    broadcasts: Broadcasts = env.app.services.broadcasts
    bad: list[dict[str, Any]] = [
        {"texts": {"*": "   "}},
        {"texts": {"*": "x" * 4096}},
        {"texts": {"*": "x" * 1000}, "photo": "file-id"},
        {"texts": {"*": "<u>underline</u>"}},
        {"texts": {"*": "<b>open"}},
        {"texts": {"*": "ok"}, "audience": "interest:astronaut"},
        {"texts": {"*": "ok"}, "not_before": env.clock() - 3600},
    ]
    for kwargs in bad:
        with pytest.raises(BroadcastError):
            broadcasts.queue(created_by=777, origin="telegram", **({"audience": "all"} | kwargs))
    assert env.rows("broadcasts") == []


def test_cli_dry_run_queue_status_and_bad_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "bot.sqlite3"))
    monkeypatch.setenv("QUIET_HOURS", "off")
    tip = tmp_path / "tip.html"
    tip.write_text("<b>Tip</b>: keep a simple log, with dates.")
    consejo = tmp_path / "consejo.html"
    consejo.write_text("<b>Consejo</b>: lleve un registro sencillo.")
    both = ["--text-file", str(tip), "--text-file-es", str(consejo)]
    assert main(["broadcast", *both, "--audience", "es", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "Para dejar de recibir" in out and "Nothing was queued" in out
    assert main(["broadcast", *both, "--audience", "es"]) == 0
    assert "Broadcast #1 queued" in capsys.readouterr().out
    assert main(["broadcast", "status"]) == 0
    assert "#1" in capsys.readouterr().out
    assert main(["broadcast", "--text-file", str(tip), "--audience", "klingon"]) == 2
    assert "unknown audience" in capsys.readouterr().err
    tip.write_text("")
    assert main(["broadcast", "--text-file", str(tip)]) == 2
    assert "empty" in capsys.readouterr().err
    tip.write_text("<b>never closed")
    assert main(["broadcast", "--text-file", str(tip), "--dry-run"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "never closed" in err  # one line, no preview
    assert main(["broadcast", "cancel", "1"]) == 0
    assert main(["broadcast", "cancel", "1"]) == 2
    from bot.content import load_content

    [queued] = Broadcasts(_storage_at(tmp_path / "bot.sqlite3"), load_content()).recent()
    assert (queued.status, queued.origin, queued.created_by) == ("cancelled", "cli", None)


def _storage_at(path: Path) -> Any:
    from bot.storage import Storage

    return Storage(path)


async def test_parents_first_sends_wait_while_a_reply_is_in_progress(env: BotEnv) -> None:
    subscribe(env, 3)
    queue(env)
    engine = engine_for(env)
    engine.sender.settings.yield_to_parents = 60.0
    engine.sender.activity = env.app.activity
    env.app.activity.begin()  # a parent's update is being handled
    sending = asyncio.create_task(engine.work())
    for _ in range(20):
        await asyncio.sleep(0)
    assert sent_to(env.api) == Counter()
    env.app.activity.end()
    await sending
    assert sum(sent_to(env.api).values()) == 3


async def test_the_application_reports_updates_in_progress(env: BotEnv) -> None:
    seen: list[int] = []
    original = env.app.services.conversation.start

    def spy(chat, payload):  # type: ignore[no-untyped-def]
        seen.append(env.app.activity.busy)
        return original(chat, payload)

    env.app.services.conversation.start = spy
    await env.client().send("/start")
    assert seen == [1] and env.app.activity.busy == 0


async def test_the_pacer_catches_up_a_little_but_never_bursts() -> None:
    from bot.tg.sender import Pacer

    clock = FakeClock()
    sleep = FakeSleep(clock)
    pacer = Pacer(25, clock, sleep)
    sends: list[float] = []
    for i in range(200):
        await pacer.wait()
        sends.append(clock())
        if i == 100:
            clock.advance(seconds=0.5)  # the process was busy for half a second
    for start in sends:
        in_one_second = [t for t in sends if start <= t < start + 1.0]
        assert len(in_one_second) <= 25 * 1.1 + 1


async def test_the_status_message_speaks_the_staff_member_s_language(env: BotEnv) -> None:
    subscribe(env, 2)
    svc = env.app.services
    svc.storage.set_language(svc.pseudonymize(777), "es")
    broadcast_id = queue(env)
    status = await env.app.bot.send_message(777, "📣 …")
    svc.broadcasts.attach_status_message(broadcast_id, 777, status.message_id)
    engine = engine_for(env)
    await engine.work()
    shown = env.api.message(777, status.message_id)
    assert shown is not None and shown.text.startswith("✅ Envío #1: enviado; terminado el sáb 28")


class ClockedBot:
    """The bot, noting the (fake) time of every sendMessage the engine makes."""

    def __init__(self, bot: Any, clock: FakeClock) -> None:
        self.bot, self.clock = bot, clock
        self.times: list[float] = []

    async def do_api_request(self, *args: Any, **kwargs: Any) -> Any:
        self.times.append(self.clock())
        return await self.bot.do_api_request(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.bot, name)


async def test_no_second_holds_more_than_the_rate(env: BotEnv) -> None:
    subscribe(env, 120)
    queue(env)
    engine = engine_for(env, rate=25, workers=1)  # one worker: fake time is exact
    bot = engine.sender.bot = ClockedBot(env.app.bot, env.clock)  # type: ignore[assignment]
    await engine.work()
    times = bot.times
    assert len(times) == 120
    # Any 26 sends in a row span a full second: no second ever holds more than 25.
    assert min(b - a for a, b in zip(times, times[25:], strict=False)) >= 1 - 1e-6
    assert times[-1] - times[0] <= 119 / 25 + 0.1  # and it keeps going at that pace


class DeliversThenTimesOut(FakeBotAPI):
    """Telegram delivers the message, but its answer never comes back (a read timeout)."""

    def __init__(self, chat_id: int) -> None:
        super().__init__()
        self.victim = chat_id

    async def do_request(self, url: str, method: str, request_data: Any = None, **kw: Any) -> Any:
        answer = await super().do_request(url, method, request_data, **kw)
        params = request_data.parameters if request_data else {}
        if url.endswith("/sendMessage") and int(params.get("chat_id", 0)) == self.victim:
            raise TimedOut() from httpx.ReadTimeout("read timed out")
        return answer


async def test_a_send_whose_answer_is_lost_is_unknown_and_never_repeated(env: BotEnv) -> None:
    ids = subscribe(env, 3)
    env.api = DeliversThenTimesOut(ids[1])
    await env.restart()
    broadcast_id = queue(env)
    await engine_for(env).work()
    assert len(env.api.chats[ids[1]]) == 1  # she has it once, not four times
    done = row(env, broadcast_id)
    assert (done.status, done.sent, done.unknown) == ("done", 2, 1)


async def test_a_revoked_token_stops_the_broadcast_without_failing_anyone(env: BotEnv) -> None:
    subscribe(env, 20)
    broadcast_id = queue(env)
    env.api.fail("sendMessage", 401, description="Unauthorized", times=1000)
    with pytest.raises(BotRefused):  # a 401: Telegram refuses the bot itself
        await engine_for(env).work()
    statuses = Counter(d["status"] for d in env.rows("deliveries"))
    assert statuses == {"pending": 20}  # nothing failed, nothing left half-attempted
    assert row(env, broadcast_id).status == "sending"  # it goes on when the token works
    env.api = FakeBotAPI()  # a new token, a restart
    await env.restart()
    await engine_for(env).work()
    assert row(env, broadcast_id).sent == 20


async def test_the_status_message_moves_every_few_seconds(env: BotEnv) -> None:
    subscribe(env, 500)
    broadcasts: Broadcasts = env.app.services.broadcasts
    broadcast_id = queue(env)
    status = await env.app.bot.send_message(777, "📣 waiting")
    broadcasts.attach_status_message(broadcast_id, 777, status.message_id)
    engine = env.engine(rate=25, workers=1, batch=200)  # the default batch of 200
    start = env.clock()
    await engine.work()
    seconds = env.clock() - start  # 20 s at 25/s
    edits = [c for c in env.api.calls_to("editMessageText") if int(c.params["chat_id"]) == 777]
    # Every 3 s (not every batch of 200, 8 s at this rate), plus the first and the report.
    assert seconds / 3 - 1 <= len(edits) <= seconds / 3 + 3
