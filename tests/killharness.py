"""Kill a real `iep-bot run` with SIGKILL at chosen moments, restart it, and let parents carry on.

The pieces tests/test_kill.py puts together:

- `BotRunner`: one `iep-bot run` process at a time over one database, talking to a
  `FakeBotServer` (tests/fakebot/server.py). Each start is a new *generation*, and its
  TELEGRAM_API_URL carries the generation (`http://127.0.0.1:PORT/g3`), so the server's hooks
  know exactly which process made a call: "ready" means the current process long-polls, and
  a late request from a killed process is never mistaken for the new one.
- `Kill`: when to kill. At a random uptime, or at the n-th matching Bot API call of the
  current process: `before` the fake sees it (Telegram never got it), `after` it was done
  but before the answer goes back (the message is in the chat, the bot never hears so), or
  `then`, a moment after (anywhere in the bot's own bookkeeping).
- `SimParent`: a parent in a private chat who pushes real update JSON (/start, button presses
  with the callback data the bot put on the buttons) and waits for the bot's answer. With no
  answer in time (the bot died, or lost the update) they wait until the bot is back and tap
  the newest keyboard again, or send /start, as people do. They read buttons by decoding
  their callback data with the bot's key, so they know which question is on screen and which
  session it belongs to, and they follow a planned path through the screening.

Everything that touches the fake Bot API runs on the server's loop (see server.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from bot.callbacks import Action, CallbackCodec, ForgedCallback, Kind
from tests.fakebot.api import MESSAGE_METHODS, Button, SentMessage
from tests.fakebot.common import JSON, now
from tests.fakebot.server import DropConnection, Exchange, FakeBotServer

TOKEN = "123456:KILL-test-token-0123456789-abcdefghij"
PSEUDONYM_KEY = "kill-test-pseudonym-key-0123456789abcdef"
BOOKING_URL = "https://booking.bright-path-advocacy.org/consult"
STAFF_ID = 777
READY_TIMEOUT = 30.0  # seconds a (re)started bot may take to long-poll


def seed_from_env(name: str = "KILL_SEED") -> int:
    """The run's seed: $KILL_SEED to replay one, else a fresh one (always printed)."""
    raw = os.environ.get(name)
    return int(raw) if raw else random.SystemRandom().randrange(1, 10**9)


def bot_command() -> list[str]:
    """The console script next to this interpreter (.venv/bin/iep-bot), else `python -m bot`."""
    script = Path(sys.executable).parent / "iep-bot"
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot"]


def iep_bot(
    *args: str, env: dict[str, str], cwd: Path | None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`iep-bot ARGS` to its end, as an operator runs it (no input), its output captured."""
    return subprocess.run(
        [*bot_command(), *args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def bot_env(db_path: Path, **settings: str) -> dict[str, str]:
    """The environment of an operator's `iep-bot run`, plus `settings` (TELEGRAM_RATE=...)."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "CONTENT_DIR", "TMPDIR")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(
        TELEGRAM_BOT_TOKEN=TOKEN,
        PSEUDONYM_KEY=PSEUDONYM_KEY,
        BOOKING_URL=BOOKING_URL,
        PRACTICE_NAME="Bright Path Advocacy",
        DATABASE_PATH=str(db_path),
        STAFF_IDS=str(STAFF_ID),
        LOG_LEVEL="INFO",
        QUIET_HOURS="off",
        PTB_TIMEDELTA="1",
    )
    env.update(settings)
    return env


@dataclass(frozen=True)
class Kill:
    """When to SIGKILL the bot (one of two triggers) and how long it then stays down."""

    uptime: float | None = None  # seconds after the process started long-polling, or:
    methods: frozenset[str] = frozenset()  # the n-th call of these methods (of this process)
    nth: int = 1
    text: str | None = None  # ... whose `text` contains this
    stage: Literal["before", "after", "then"] = "after"
    delay: float = 0.0  # for "then": seconds after the call was answered
    downtime: float = 0.0  # seconds between the kill and the restart
    fallback: float = 10.0  # a call trigger not met by then: kill anyway (said in the report)

    def describe(self) -> str:
        if self.uptime is not None:
            return f"at uptime {self.uptime:.2f}s"
        what = "/".join(sorted(self.methods))
        moment = f"{self.delay * 1000:.0f} ms after" if self.stage == "then" else self.stage
        return f"{moment} {what} #{self.nth}"


@dataclass
class KillRecord:
    generation: int
    pid: int
    how: str
    uptime: float
    note: str = ""  # what the test's `on_kill` said at that moment


class BotRunner:
    """`iep-bot run` over `db_path`, against `server`; started, killed and restarted at will.

    Call its methods on the server's loop (from coroutines running there).
    """

    def __init__(self, server: FakeBotServer, workdir: Path, env: dict[str, str]) -> None:
        self.server, self.api = server, server.api
        self.workdir = workdir
        self.env = env
        self.db_path = Path(env["DATABASE_PATH"])
        self.log_path = workdir / "bot.log"
        self.generation = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.ready = asyncio.Event()  # the current process long-polls
        self.started_at = 0.0  # loop time of the current process's first long poll
        self.kills: list[KillRecord] = []
        self.exits: list[tuple[int, int | None]] = []  # (generation, exit status) on stop
        self.handed_out: dict[int, set[int]] = {}  # update_id -> generations it went to
        self.last_activity = 0.0  # loop time of the last call other than getUpdates
        self.on_kill: Callable[[], str] | None = None  # noted on each kill (who was mid-way)
        self._watchers: dict[int, asyncio.Event] = {}
        self._armed: tuple[Kill, asyncio.Future[str]] | None = None
        self._matched = 0
        server.before, server.after = self._before, self._after

    # --- the process -------------------------------------------------------------------------

    def start(self) -> None:
        """Start the next generation (the previous one must be dead)."""
        assert self.proc is None or self.proc.poll() is not None
        self.generation += 1
        env = {**self.env, "TELEGRAM_API_URL": f"{self.server.url}/g{self.generation}"}
        with self.log_path.open("ab") as log:
            log.write(f"\n=== generation {self.generation} ===\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                [*bot_command(), "run"],
                cwd=self.workdir,  # no developer .env
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def kill(self, how: str) -> None:
        """SIGKILL the current process now and wait for it to be gone."""
        proc = self.proc
        assert proc is not None
        self.ready.clear()
        self.check_alive()
        uptime = asyncio.get_running_loop().time() - self.started_at
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        note = self.on_kill() if self.on_kill is not None else ""
        self.kills.append(KillRecord(self.generation, proc.pid, how, uptime, note))
        # A killed bot's lease would run out by itself after 30 s (bot/lease.py TTL), and the
        # next `iep-bot run` waits for that. Deleting the row is what an expired lease amounts
        # to, without the wait: it keeps this test fast and changes nothing else.
        with contextlib.closing(sqlite3.connect(self.db_path, timeout=10)) as db:
            db.execute("DELETE FROM instance_lease")
            db.commit()

    def check_alive(self) -> None:
        """Fail, with the log, if the bot process has exited by itself."""
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(
                f"the bot (generation {self.generation}) exited by itself with status "
                f"{self.proc.returncode}\n{self.log_tail()}"
            )

    def stop(self, timeout: float = 20) -> int | None:
        """Stop the current process as an operator does (SIGTERM); its exit status."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return None if proc is None else proc.returncode
        self.ready.clear()
        proc.send_signal(signal.SIGTERM)
        try:
            status = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            status = proc.wait()
        self.exits.append((self.generation, status))
        return status

    def cleanup(self) -> None:
        """Kill a process still running (after a failure); only ours, by its handle."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def log_tail(self, lines: int = 60) -> str:
        if not self.log_path.exists():
            return "(no bot log)"
        text = self.log_path.read_text(errors="replace").splitlines()
        return f"--- last {lines} lines of {self.log_path} ---\n" + "\n".join(text[-lines:])

    async def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        """Until the current process long-polls; fail with the log if it does not."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not self.ready.is_set():
            self.check_alive()
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise AssertionError(
                    f"the bot (generation {self.generation}) did not poll within {timeout:.0f}s"
                    f"\n{self.log_tail()}"
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.ready.wait(), min(left, 0.2))

    async def kill_and_restart(self, kill: Kill) -> KillRecord:
        """Wait for the trigger, kill, stay down `downtime` seconds, start again."""
        await self.wait_ready()
        loop = asyncio.get_running_loop()
        if kill.uptime is not None:
            await asyncio.sleep(max(0.0, self.started_at + kill.uptime - loop.time()))
            self.kill(kill.describe())
        else:
            done: asyncio.Future[str] = loop.create_future()
            self._armed, self._matched = (kill, done), 0
            try:
                outcome = await asyncio.wait_for(asyncio.shield(done), kill.fallback)
            except TimeoutError:
                self._armed = None
                self.kill(f"{kill.describe()} not reached in {kill.fallback:.0f}s: killed anyway")
            else:
                if outcome == "then":
                    await asyncio.sleep(kill.delay)
                    self.kill(kill.describe())
            finally:
                self._armed = None
        await asyncio.sleep(kill.downtime)
        self.start()
        return self.kills[-1]

    async def wait_idle(self, quiet: float = 0.5, timeout: float = 30) -> None:
        """Until the bot has taken every update and sent nothing for `quiet` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        await self.wait_ready()
        while self.api.pending_updates or loop.time() - self.last_activity < quiet:
            self.check_alive()
            if loop.time() > deadline:
                raise AssertionError(
                    f"the bot did not settle: {len(self.api.pending_updates)} updates waiting"
                )
            await asyncio.sleep(0.05)

    # --- what parents wait on -------------------------------------------------------------------

    def watcher(self, chat_id: int) -> asyncio.Event:
        """Set whenever the bot sends or edits a message in this chat."""
        return self._watchers.setdefault(chat_id, asyncio.Event())

    # --- server hooks (on the loop, between a request and its answer) --------------------------

    def _generation_of(self, exchange: Exchange) -> int:
        head = exchange.path.split("/", 2)[1]  # "/g3/bot<token>/method" -> "g3"
        return int(head[1:]) if head.startswith("g") and head[1:].isdigit() else 0

    def _current(self, exchange: Exchange) -> bool:
        alive = self.proc is not None and self.proc.poll() is None
        return alive and self._generation_of(exchange) == self.generation

    def _before(self, exchange: Exchange) -> None:
        if not self._current(exchange):
            return
        if exchange.method == "getUpdates" and not self.ready.is_set():
            self.started_at = asyncio.get_running_loop().time()
            self.ready.set()
        self._trigger(exchange, "before")

    def _after(self, exchange: Exchange) -> None:
        loop = asyncio.get_running_loop()
        if exchange.method != "getUpdates":
            self.last_activity = loop.time()
        if exchange.method in MESSAGE_METHODS and exchange.status == 200:
            chat_id = exchange.params.get("chat_id")
            if isinstance(chat_id, int) and chat_id in self._watchers:
                self._watchers[chat_id].set()
        if not self._current(exchange):
            return
        if exchange.method == "getUpdates":
            for update in exchange.result() or []:
                self.handed_out.setdefault(update["update_id"], set()).add(self.generation)
        self._trigger(exchange, "after")

    def _trigger(self, exchange: Exchange, stage: str) -> None:
        """Kill here if this call is the armed kill's n-th match (counted as calls arrive)."""
        if self._armed is None:
            return
        kill, done = self._armed
        if exchange.method not in kill.methods:
            return
        if kill.text is not None and kill.text not in str(exchange.params.get("text", "")):
            return
        if stage == "before":
            self._matched += 1
        if self._matched < kill.nth:
            return
        if kill.stage == "then":
            if stage == "after":  # kill_and_restart kills `delay` seconds from now
                self._armed = None
                done.set_result("then")
            return
        if kill.stage != stage:
            return
        self._armed = None
        try:
            self.kill(kill.describe())
        except BaseException as exc:  # the bot had died by itself: kill_and_restart says so
            done.set_exception(exc)
        else:
            done.set_result("killed")
        raise DropConnection  # the killed process never gets this answer


# --- parents ----------------------------------------------------------------------------------


@dataclass
class Seen:
    """What a parent saw and did, for the assertions and for a failure's story."""

    actions: list[str] = field(default_factory=list)
    sessions: set[str] = field(default_factory=set)  # session ids of the questions answered
    last_answer_sessions: set[str] = field(default_factory=set)  # ... of the last question
    retaps: int = 0
    restarts: int = 0  # /start sent again because nothing came back
    updates: int = 0


class SimParent:
    """A parent doing one screening along `path` (question id -> option key, in order)."""

    def __init__(
        self,
        index: int,
        runner: BotRunner,
        codec: CallbackCodec,
        path: list[tuple[str, str]],
        outcome_id: str,
        rng: random.Random,
        *,
        reply_wait: float = 1.5,
        think: tuple[float, float] = (0.1, 0.5),
        restart_chance: float = 0.25,
    ) -> None:
        self.index = index
        self.chat_id = 880_000 + index
        self.runner, self.api, self.codec = runner, runner.api, codec
        self.plan = dict(path)
        self.path = path
        self.last_question = path[-1][0]
        self.outcome_id = outcome_id
        self.rng = rng
        self.reply_wait, self.think, self.restart_chance = reply_wait, think, restart_chance
        self.user: JSON = {
            "id": self.chat_id,
            "is_bot": False,
            "first_name": f"Parent{index}",
            "language_code": "en",
        }
        self.chat: JSON = {"id": self.chat_id, "type": "private", "first_name": f"Parent{index}"}
        self.api.register_chat(self.chat)
        self.seen = Seen()
        self.started = False
        self.done = False
        self.last_update_id = 0  # of the last update this parent sent

    # --- what the phone shows ----------------------------------------------------------------

    @property
    def messages(self) -> list[SentMessage]:
        return [m for m in self.api.chats.get(self.chat_id, []) if not m.deleted]

    def decoded(self, msg: SentMessage) -> list[tuple[Button, Action]]:
        found = []
        for button in (b for row in msg.reply_markup for b in row):
            if button.callback_data is None:
                continue
            try:
                found.append((button, self.codec.decode(button.callback_data)))
            except ForgedCallback:
                raise AssertionError(f"the bot sent undecodable button data {button}") from None
        return found

    def results(self) -> list[tuple[SentMessage, str]]:
        """(message, session id) of every result shown: the messages with a Details button."""
        return [
            (m, action.arg(0))
            for m in self.messages
            for _, action in self.decoded(m)
            if action.kind == Kind.DETAILS
        ]

    def version(self) -> int:
        return max((m.version for m in self.api.chats.get(self.chat_id, [])), default=0)

    def story(self, last: int = 8) -> str:
        """The chat as the parent sees it, for a failure message."""
        lines = [
            f"parent {self.index} (chat {self.chat_id}), path {self.path} -> {self.outcome_id}",
            f"  did: {' | '.join(self.seen.actions[-20:])}",
        ]
        for m in self.messages[-last:]:
            kinds = [f"{a.kind}{list(a.args)}" for _, a in self.decoded(m)]
            lines.append(f"  msg {m.message_id} v{m.version}: {m.text[:70]!r} {kinds}")
        return "\n".join(lines)

    # --- acting ----------------------------------------------------------------------------------

    async def run(self, start_after: float, deadline: float) -> None:
        """The whole visit: /start, then a tap per screen until the result is on screen."""
        loop = asyncio.get_running_loop()
        await asyncio.sleep(start_after)
        self.started = True
        mark = self.version()
        self.send_text("/start")
        while not self.done:
            if loop.time() > deadline:
                return
            answered = await self.wait_reply(mark)
            if self.results():
                self.done = True
                return
            if answered:
                await asyncio.sleep(self.rng.uniform(*self.think))
                mark = self.version()
                self.act()
            else:
                # Nothing came back: the bot is down or lost the tap. Once it is back, tap
                # again (or start over with /start, as some parents do).
                await self.runner.ready.wait()
                mark = self.version()
                if self.rng.random() < self.restart_chance:
                    self.seen.restarts += 1
                    self.send_text("/start")
                else:
                    self.seen.retaps += 1
                    self.act()

    async def wait_reply(self, mark: int) -> bool:
        """True once a message in this chat was sent or edited after `mark` (in time)."""
        event = self.runner.watcher(self.chat_id)
        loop = asyncio.get_running_loop()
        until = loop.time() + self.reply_wait
        while self.version() <= mark:
            event.clear()
            left = until - loop.time()
            if left <= 0:
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), left)
        return True

    def act(self) -> None:
        """Tap what the newest keyboard asks for on this parent's path."""
        msg = next((m for m in reversed(self.messages) if m.reply_markup), None)
        if msg is None:
            self.send_text("/start")
            return
        buttons = self.decoded(msg)
        kinds = {action.kind for _, action in buttons}
        answers = [(b, a) for b, a in buttons if a.kind == Kind.ANSWER]
        if answers:
            session_id, question = answers[0][1].arg(0), answers[0][1].arg(1)
            if question not in self.plan:
                raise AssertionError(f"question {question!r} is off the path\n{self.story()}")
            choice = [(b, a) for b, a in answers if a.arg(2) == self.plan[question]]
            if len(choice) != 1:
                raise AssertionError(f"no button for {self.plan[question]!r}\n{self.story()}")
            self.seen.sessions.add(session_id)
            if question == self.last_question:
                self.seen.last_answer_sessions.add(session_id)
            self.press(msg, choice[0][0], f"{question}={self.plan[question]}")
        elif Kind.CONTINUE in kinds:
            self.press(msg, next(b for b, a in buttons if a.kind == Kind.CONTINUE), "continue")
        elif Kind.SCREEN in kinds:
            self.press(msg, next(b for b, a in buttons if a.kind == Kind.SCREEN), "screening")
        else:
            self.send_text("/start")

    def send_text(self, text: str) -> None:
        message: JSON = {
            "message_id": self.api.next_message_id(self.chat_id),
            "from": self.user,
            "chat": self.chat,
            "date": now(),
            "text": text,
        }
        if text.startswith("/"):
            length = len(text.split()[0])
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        self._push({"message": message}, text)

    def press(self, msg: SentMessage, button: Button, what: str) -> None:
        query = self.api.callback_query(self.chat_id, self.user, msg, button.callback_data)
        self._push({"callback_query": query}, what)

    def _push(self, payload: JSON, what: str) -> None:
        self.seen.updates += 1
        self.seen.actions.append(what)
        self.last_update_id = self.api.next_update_id()
        self.api.push_update({"update_id": self.last_update_id, **payload})


def rows(db_path: Path, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    """Query the bot's database (read only, beside or after the bot)."""
    with contextlib.closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as db:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute(sql, params)]


def elapsed(since: float) -> str:
    return f"{time.monotonic() - since:.1f}s"
