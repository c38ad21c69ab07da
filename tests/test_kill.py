"""Delivery you can trust (issue 10): SIGKILL a real `iep-bot run` at random moments, restart it.

The bot is the real process (`.venv/bin/iep-bot run`), talking over loopback HTTP to the fake
Bot API (tests/fakebot/server.py); tests/killharness.py kills it at random uptimes and in the
middle of Bot API calls (before Telegram got one, or after Telegram did it but before the bot
heard), and starts it again. Then:

- screenings: every parent finishes, sees their result, and has exactly one `completed`
  outcome, with the outcome their answers lead to; no outcome is lost, none is logged twice;
- a broadcast: no subscriber gets the tip twice; every delivery ends `sent` or `unknown`;
  every `sent` one really arrived; only sends in flight at a kill may be `unknown`.

A last test pins what these parents would hide by tapping again: an update the bot had
fetched but not yet handled when it died is handled after the restart (bot/tg/updates.py
confirms an update to Telegram only once it has been handled).

The runs are seeded: the seed is printed (`-s`); `KILL_SEED=<seed>` replays the same paths
and kill plan (the exact moments still depend on timing). The soak versions run more parents,
subscribers and kills: `pytest -m soak -s tests/test_kill.py` (or IEP_BOT_SOAK=1).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.broadcast.engine import EngineSettings
from bot.callbacks import CallbackCodec
from bot.content import Content
from bot.storage import Pseudonymizer, Storage
from flows.outcomes import decide
from flows.spec import OUTCOME_STATE, ScreeningSpec
from tests.fakebot.server import FakeBotServer
from tests.killharness import (
    PSEUDONYM_KEY,
    BotRunner,
    Kill,
    SimParent,
    bot_env,
    iep_bot,
    rows,
    seed_from_env,
)

REPLY_CALLS = frozenset({"sendMessage", "editMessageText", "answerCallbackQuery"})
RESULT_CALLS = frozenset({"sendMessage", "editMessageText"})
TIP_HTML = "<b>Tip:</b> ask for an evaluation in writing, and keep a copy. ({marker})"


@dataclass(frozen=True)
class ScreeningRun:
    parents: int
    kills: int
    min_kills: int  # fewer means the parents finished before the chaos did: the test says so
    start_spread: float  # parents arrive over this many seconds
    uptime: tuple[float, float]  # a timed kill comes this long after the bot polls again
    budget: float  # seconds for the whole run


@dataclass(frozen=True)
class BroadcastRun:
    subscribers: int
    kills: int
    budget: float


# The quick runs keep `make test` inside its five minutes; the soak runs are the real test.
QUICK_SCREENINGS = ScreeningRun(
    parents=10, kills=4, min_kills=3, start_spread=5.0, uptime=(0.3, 1.5), budget=45
)
SOAK_SCREENINGS = ScreeningRun(
    parents=120, kills=40, min_kills=30, start_spread=70.0, uptime=(0.2, 2.5), budget=400
)
QUICK_BROADCAST = BroadcastRun(subscribers=200, kills=2, budget=40)
SOAK_BROADCAST = BroadcastRun(subscribers=4000, kills=25, budget=300)


def soak_selected(config: pytest.Config) -> bool:
    return "soak" in (config.getoption("markexpr") or "") or bool(os.environ.get("IEP_BOT_SOAK"))


@pytest.fixture
def soak(request: pytest.FixtureRequest) -> None:
    if not soak_selected(request.config):
        pytest.skip("soak run: pytest -m soak tests/test_kill.py (or IEP_BOT_SOAK=1)")


def report(title: str, seed: int, figures: dict[str, Any]) -> None:
    """The figures of a run, printed (shown with -s, and with the output of a failure)."""
    line = ", ".join(f"{k} {v}" for k, v in figures.items())
    print(f"\n{title} (seed {seed}): {line}")


# --- screenings ------------------------------------------------------------------------------


def random_path(spec: ScreeningSpec, rng: random.Random) -> tuple[list[tuple[str, str]], str]:
    """A random way through the screening (a few answers at least, mostly) and its outcome."""
    for _ in range(3):
        answers: dict[str, str] = {}
        question = spec.start
        while question != OUTCOME_STATE:
            answers[question] = rng.choice(list(spec.questions[question].options))
            question = spec.next_question(question, answers)
        if len(answers) >= 4:
            break
    return list(answers.items()), decide(spec, answers).outcome_id


def screening_kill(rng: random.Random, run: ScreeningRun, result_text: str) -> Kill:
    """A random uptime (40%), in the middle of a reply (40%), or in the middle of showing a
    result (20%), before Telegram got it, after it did but before the bot heard, or a moment
    later."""
    downtime = rng.uniform(0.0, 0.4)
    roll = rng.random()
    if roll < 0.4:
        return Kill(uptime=rng.uniform(*run.uptime), downtime=downtime)
    mid_call = {
        "stage": rng.choice(["before", "after", "then"]),
        "delay": rng.uniform(0.0, 0.03),
        "downtime": downtime,
        "fallback": 4.0,
    }
    if roll < 0.8:
        return Kill(methods=REPLY_CALLS, nth=rng.randint(1, 25), **mid_call)
    return Kill(methods=RESULT_CALLS, text=result_text, **mid_call)


def screenings(tmp_path: Path, content: Content, run: ScreeningRun) -> None:
    seed = seed_from_env()
    print(f"\nkill test: screenings, seed {seed} (replay with KILL_SEED={seed})")
    rng = random.Random(seed)
    codec = CallbackCodec(PSEUDONYM_KEY.encode())
    result_text = content.pack("en").t("first_step")  # on every result's first screen
    db_path = tmp_path / "data" / "bot.sqlite3"
    began = time.monotonic()
    with FakeBotServer() as server:
        runner = BotRunner(server, tmp_path, bot_env(db_path, TELEGRAM_RATE="1000"))
        parents: list[SimParent] = []

        def make_parents() -> None:
            for index in range(run.parents):
                path, outcome_id = random_path(content.spec, rng)
                parent_rng = random.Random(f"{seed}-{index}")
                parents.append(SimParent(index, runner, codec, path, outcome_id, parent_rng))

        async def scenario() -> int | None:
            loop = asyncio.get_running_loop()
            runner.start()
            await runner.wait_ready()
            deadline = loop.time() + run.budget
            visits = [
                asyncio.create_task(p.run(rng.uniform(0, run.start_spread), deadline))
                for p in parents
            ]
            for _ in range(run.kills):
                if all(task.done() for task in visits):
                    break
                await runner.kill_and_restart(screening_kill(rng, run, result_text))
                for task in visits:  # a parent's own failure (a bot bug) ends the run now
                    if task.done() and task.exception() is not None:
                        raise task.exception()  # type: ignore[misc]
            await runner.wait_ready()
            await asyncio.gather(*visits)
            await runner.wait_idle()
            return runner.stop()

        server.call(make_parents)
        runner.on_kill = lambda: str(sum(p.started and not p.done for p in parents))
        try:
            status = server.run(scenario(), timeout=run.budget + 60)
        finally:
            runner.cleanup()
        assert not server.errors, server.errors
        again = content.pack("en").t("result_again")
        check_screenings(server, runner, parents, run, seed, status, began, again)


def check_screenings(
    server: FakeBotServer,
    runner: BotRunner,
    parents: list[SimParent],
    run: ScreeningRun,
    seed: int,
    status: int | None,
    began: float,
    result_again: str,
) -> None:
    db_path = runner.db_path
    outcomes = {r["session_id"]: r for r in rows(db_path, "SELECT * FROM outcomes")}
    sessions = {r["session_id"]: r for r in rows(db_path, "SELECT * FROM sessions")}

    def context() -> str:
        kills = "\n".join(f"  kill {i + 1}: {k}" for i, k in enumerate(runner.kills))
        return f"seed {seed} (KILL_SEED={seed}); kills:\n{kills}\n{runner.log_tail(40)}"

    def facts(parent: SimParent) -> dict[str, Any]:
        def in_db(sid: str) -> dict[str, Any]:
            return {"outcome": outcomes.get(sid), "session": sessions.get(sid)}

        return {
            "story": parent.story(),
            "results": [sid for _, sid in parent.results()],
            "db": {sid: in_db(sid) for sid in parent.seen.sessions},
        }

    problems: list[str] = []
    again = 0
    shown_twice = 0
    for parent in server.call(lambda: parents):
        seen = server.call(facts, parent)
        shown = seen["results"]
        again += server.call(
            lambda p=parent: sum(m.text.startswith(result_again) for m in p.messages)
        )
        shown_twice += len(shown) > 1
        if not shown:
            problems.append(f"never saw a result: {json.dumps(seen, indent=1, default=str)}")
            continue
        if len(parent.seen.sessions) != 1:
            problems.append(f"answered in several screenings: {json.dumps(seen, default=str)}")
            continue
        [session_id] = parent.seen.sessions
        row = outcomes.get(session_id)
        if set(shown) != {session_id}:
            problems.append(f"shown another screening's result: {json.dumps(seen, default=str)}")
        elif row is None:
            problems.append(f"result shown, outcome LOST: {json.dumps(seen, default=str)}")
        elif (row["status"], row["outcome_id"], json.loads(row["answers"])) != (
            "completed",
            parent.outcome_id,
            dict(parent.path),
        ):
            problems.append(f"wrong outcome row: {json.dumps(seen, default=str)}")
        lost = [sid for sid in parent.seen.last_answer_sessions if sid not in outcomes]
        if lost:
            problems.append(f"last answer given, outcome LOST: {json.dumps(seen, default=str)}")
    finished = {sid for p in parents for sid in p.seen.sessions}
    extra = {sid: r for sid, r in outcomes.items() if sid not in finished}
    if extra:
        problems.append(f"outcome rows no parent's screening explains: {extra}")
    assert not problems, "\n\n".join(problems) + "\n\n" + context()
    # One outcome row per screening a parent finished: none twice, none for a phantom.
    completed = [r for r in outcomes.values() if r["status"] == "completed"]
    assert len(completed) == len(outcomes) == len(parents), context()
    assert len(runner.kills) >= run.min_kills, (
        f"only {len(runner.kills)} kills happened before every parent had finished\n{context()}"
    )
    handed = runner.handed_out
    report(
        "screenings",
        seed,
        {
            "kills survived": len(runner.kills),
            "parents mid-screening at each kill": "/".join(k.note for k in runner.kills),
            "parents": len(parents),
            "updates sent by parents": sum(p.seen.updates for p in parents),
            "updates delivered": len(handed),
            "redelivered after a kill": sum(len(g) > 1 for g in handed.values()),
            "parents' re-taps": sum(p.seen.retaps for p in parents),
            "parents' /start again": sum(p.seen.restarts for p in parents),
            "'result from before' shown": again,
            "parents shown their result twice": shown_twice,
            "results left to show again": sum(s["state"] == "outcome" for s in sessions.values()),
            "duplicate outcome rows": len(outcomes) - len(parents),
            "lost outcomes": 0,
            "final stop exit status": status,
            "time": f"{time.monotonic() - began:.1f}s",
        },
    )


def test_screenings_survive_kills(tmp_path: Path, content: Content) -> None:
    screenings(tmp_path, content, QUICK_SCREENINGS)


@pytest.mark.soak
def test_screenings_survive_kills_soak(tmp_path: Path, content: Content, soak: None) -> None:
    screenings(tmp_path, content, SOAK_SCREENINGS)


# --- a broadcast -----------------------------------------------------------------------------


def broadcast(tmp_path: Path, run: BroadcastRun) -> None:
    seed = seed_from_env()
    print(f"\nkill test: broadcast, seed {seed} (replay with KILL_SEED={seed})")
    rng = random.Random(seed)
    marker = f"kill-test {seed}"
    db_path = tmp_path / "data" / "bot.sqlite3"
    began = time.monotonic()
    chat_ids = subscribe(db_path, run.subscribers)
    tip = tmp_path / "tip.html"
    tip.write_text(TIP_HTML.format(marker=marker), encoding="utf-8")
    env = bot_env(db_path, BROADCAST_RATE="200", TELEGRAM_RATE="400")
    # Each kill comes within its share of the list, so every one lands while sending.
    share = max(1, run.subscribers // (run.kills + 2))
    with FakeBotServer() as server:
        runner = BotRunner(server, tmp_path, env)

        async def scenario() -> tuple[int, int | None]:
            loop = asyncio.get_running_loop()
            runner.start()
            await runner.wait_ready()
            queued = await loop.run_in_executor(
                None,
                lambda: iep_bot(
                    "broadcast", "send", "--text-file", str(tip), "--now", env=env, cwd=tmp_path
                ),
            )
            assert queued.returncode == 0, queued.stdout + queued.stderr
            [broadcast_row] = rows(db_path, "SELECT id FROM broadcasts")
            for _ in range(run.kills):
                kill = Kill(
                    methods=frozenset({"sendMessage"}),
                    text=marker,
                    nth=rng.randint(1, share),
                    stage=rng.choice(["before", "after", "then"]),
                    delay=rng.uniform(0.0, 0.02),
                    downtime=rng.uniform(0.0, 0.3),
                    fallback=15.0,
                )
                await runner.kill_and_restart(kill)
            await runner.wait_ready()
            deadline = loop.time() + run.budget
            while rows(db_path, "SELECT status FROM broadcasts")[0]["status"] != "done":
                runner.check_alive()
                assert loop.time() < deadline, "the broadcast did not finish\n" + runner.log_tail()
                await asyncio.sleep(0.1)
            await runner.wait_idle()
            return broadcast_row["id"], runner.stop()

        try:
            broadcast_id, status = server.run(scenario(), timeout=run.budget + 60)
        finally:
            runner.cleanup()
        assert not server.errors, server.errors
        received: Counter[int] = server.call(
            lambda: Counter(
                chat_id
                for chat_id, messages in server.api.chats.items()
                for message in messages
                if marker in message.text
            )
        )

    def context() -> str:
        kills = "\n".join(f"  kill {i + 1}: {k}" for i, k in enumerate(runner.kills))
        return f"seed {seed} (KILL_SEED={seed}); kills:\n{kills}\n{runner.log_tail(40)}"

    deliveries = rows(
        db_path,
        "SELECT d.chat_key, d.status, d.attempts, d.error, s.chat_id FROM deliveries d"
        " LEFT JOIN subscribers s USING (chat_key) WHERE d.broadcast_id = ?",
        (broadcast_id,),
    )
    statuses = Counter(d["status"] for d in deliveries)
    twice = {chat: n for chat, n in received.items() if n > 1}
    assert not twice, f"chats that got the tip more than once: {twice}\n{context()}"
    assert set(received) <= set(chat_ids), f"tip sent to non-subscribers\n{context()}"
    assert len(deliveries) == run.subscribers, context()
    assert set(statuses) <= {"sent", "unknown"}, f"deliveries left {statuses}\n{context()}"
    assert statuses["sent"] + statuses["unknown"] == run.subscribers, context()
    not_there = [d for d in deliveries if d["status"] == "sent" and received[d["chat_id"]] != 1]
    assert not not_there, f"`sent` but not in the chat: {not_there[:5]}\n{context()}"
    # Only a send in flight when the bot died may be `unknown`: a worker holds one at a time.
    in_flight = len(runner.kills) * EngineSettings().workers
    assert statuses["unknown"] <= in_flight, f"{statuses}: too many unknown\n{context()}"
    [final] = rows(db_path, "SELECT * FROM broadcasts WHERE id = ?", (broadcast_id,))
    assert (final["status"], final["total"], final["sent"], final["unknown"]) == (
        "done",
        run.subscribers,
        statuses["sent"],
        statuses["unknown"],
    ), context()
    arrived_unknown = sum(received[d["chat_id"]] for d in deliveries if d["status"] == "unknown")
    report(
        "broadcast",
        seed,
        {
            "kills survived": len(runner.kills),
            "subscribers": run.subscribers,
            "sent": statuses["sent"],
            "unknown": statuses["unknown"],
            "unknown that arrived": arrived_unknown,
            "unknown that did not": statuses["unknown"] - arrived_unknown,
            "duplicates": sum(n - 1 for n in received.values()),
            "claimed twice (released and retried)": sum(d["attempts"] > 1 for d in deliveries),
            "final stop exit status": status,
            "time": f"{time.monotonic() - began:.1f}s",
        },
    )


def subscribe(db_path: Path, count: int) -> list[int]:
    """`count` English subscribers, stored as the bot stores them (keyed hash + chat id)."""
    storage = Storage(db_path)
    storage.migrate()
    key = Pseudonymizer(PSEUDONYM_KEY.encode())
    chat_ids = list(range(500_000, 500_000 + count))
    with storage.db.atomic():
        storage.db.conn.executemany(
            "INSERT INTO subscribers (chat_key, chat_id, lang, opted_in_day) VALUES (?, ?, ?, ?)",
            [(key(chat_id), chat_id, "en", storage.today()) for chat_id in chat_ids],
        )
    storage.close()
    return chat_ids


def test_broadcast_survives_kills(tmp_path: Path) -> None:
    broadcast(tmp_path, QUICK_BROADCAST)


@pytest.mark.soak
def test_broadcast_survives_kills_soak(tmp_path: Path, soak: None) -> None:
    broadcast(tmp_path, SOAK_BROADCAST)


# --- an update fetched but not yet handled ---------------------------------------------------


def test_an_answer_fetched_but_not_yet_handled_survives_a_kill(tmp_path: Path) -> None:
    """Parent Y gives their last answer while the bot is busy with parent X (a reply to X hangs
    at Telegram). The bot has fetched Y's answer and confirmed it, not handled it; it dies.
    After the restart, Y's answer should still be handled: an outcome logged, a result shown.
    (The parents in the tests above tap again when nothing comes back; Y does not.)"""
    codec = CallbackCodec(PSEUDONYM_KEY.encode())
    with FakeBotServer() as server:
        runner = BotRunner(server, tmp_path, bot_env(tmp_path / "data" / "bot.sqlite3"))

        async def scenario() -> tuple[bool, list[str]]:
            x = SimParent(1, runner, codec, [("age", "school")], "-", random.Random(1))
            y = SimParent(
                2, runner, codec, [("age", "under3")], "early_intervention", random.Random(2)
            )
            runner.start()
            await runner.wait_ready()
            for parent in (x, y):
                mark = parent.version()
                parent.send_text("/start")
                assert await parent.wait_reply(mark)
            mark = y.version()
            y.act()  # "Start the screening": the age question
            assert await y.wait_reply(mark)
            server.api.slow("sendMessage", 3.0, chat_id=x.chat_id)
            x.send_text("/help")  # the bot is busy with X for 3 s
            await asyncio.sleep(0.3)
            y.act()  # Y's last answer: under 3
            answer = y.last_update_id
            while answer not in runner.handed_out or server.api.pending_updates:
                await asyncio.sleep(0.01)  # fetched, and confirmed by the next long poll
            runner.kill("busy with X; Y's answer fetched and confirmed, not handled")
            runner.start()
            await runner.wait_idle()
            return bool(y.results()), [m.text[:60] for m in y.messages]

        try:
            y_saw_result, y_sees = server.run(scenario(), timeout=60)
        finally:
            runner.cleanup()
    outcomes = rows(runner.db_path, "SELECT session_id, status, outcome_id FROM outcomes")
    assert outcomes and y_saw_result, f"no outcome ({outcomes}); Y's chat shows: {y_sees}"
