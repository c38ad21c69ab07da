"""/stats and /export never hold parents up: the press returns at once, the counting and
drawing happen in the statistics worker, and the result is sent when ready.

The first tests run the real Application with its update queue and ONE update slot
(CONCURRENT_UPDATES=1) and a worker that draws only when the test lets it: a parent's answer
is handled while the chart waits, and a stop mid-drawing neither hangs nor loses what is
ready in time. The last ones start the real worker process (spawned, about a second each):
/stats and /export end to end, a worker that dies, closing it mid-job, and Ctrl-C reaching a
real `iep-bot run` and its worker as a chart starts.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import logging
import os
import signal
import subprocess
import time
import zipfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

import bot.stats.worker as worker_module
from bot.config import Settings
from bot.content import Content
from bot.stats.chart import WIDTH_PX
from bot.stats.worker import StatsUnavailable, WorkerProcess
from bot.storage import Storage
from bot.tg.app import build_application
from bot.tg.context import BotApplication
from tests.botenv import BotEnv, FakeSleep
from tests.clock import FakeClock
from tests.conftest import STAFF_ID
from tests.fakebot import ChatClient, FakeBotAPI
from tests.fakebot.server import Exchange, FakeBotServer
from tests.killharness import bot_command, bot_env
from tests.parents import SCHOOL
from tests.stats_helpers import (
    InProcess,
    crash_worker,
    outcome,
    png_size,
    sleep_in_worker,
    worker_pid,
)

QUEUE_TIMEOUT = 10.0  # seconds: a test that would hang fails instead


class Held(InProcess):
    """The worker, holding each job until the test releases it (as a slow chart would)."""

    def __init__(self) -> None:
        super().__init__()
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.closed = False

    async def run(self, job: Callable[[Any], Any], request: Any) -> Any:
        self.started.set()
        await self.release.wait()
        return await super().run(job, request)

    def close(self) -> None:
        self.closed = True


@dataclasses.dataclass
class Running:
    app: BotApplication
    api: FakeBotAPI
    storage: Storage
    held: Held

    def client(self, chat_id: int, **kwargs: Any) -> ChatClient:
        client = ChatClient(self.app, self.api, chat_id=chat_id, **kwargs)
        client.queued = True  # through the update queue, as polling hands updates over
        return client

    async def handled(self) -> None:
        """Every queued update has been handled."""
        await asyncio.wait_for(self.app.update_queue.join(), QUEUE_TIMEOUT)


@pytest.fixture
async def running(settings: Settings, content: Content, clock: FakeClock) -> AsyncIterator[Running]:
    storage = Storage(settings.database_path, clock=clock, timezone=settings.timezone)
    storage.migrate()
    storage.db["outcomes"].insert_all(outcome(12, day="2026-11-27", booked=1))
    api = FakeBotAPI()
    held = Held()
    app = build_application(
        dataclasses.replace(settings, concurrent_updates=1),  # one slot: any wait would show
        storage,
        content,
        request=api,
        sweep_expired=False,
        pace_clock=clock,
        pace_sleep=FakeSleep(clock),
        stats_runner=held,
    )
    app.staff_greeted.update(settings.staff_ids)
    await app.initialize()
    await app.start()  # the update fetcher: queue -> update processor -> handlers
    yield Running(app, api, storage, held)
    held.release.set()
    if app.running:
        await app.stop()
    await app.shutdown()
    app.stats_worker.close()
    storage.close()


def index_of(api: FakeBotAPI, method: str, chat_id: int) -> int:
    """Where the first `method` call to `chat_id` is in the order of all calls."""
    for i, call in enumerate(api.calls):
        if call.method == method and call.params.get("chat_id") == chat_id:
            return i
    raise AssertionError(f"no {method} to {chat_id}")


async def test_a_parents_answer_is_handled_while_stats_is_drawing(running: Running) -> None:
    parent = running.client(4242)
    staff = running.client(STAFF_ID, first_name="Ana")
    await parent.send("/start")
    await staff.send("/stats")
    await running.handled()
    await parent.press("Start the screening")
    await running.handled()

    await staff.press("7 days")
    await asyncio.wait_for(running.held.started.wait(), QUEUE_TIMEOUT)  # the chart is "drawing"
    await parent.press(SCHOOL)  # the parent answers the first question meanwhile
    await running.handled()  # with one slot, this waits for the chart if the press held it
    # The parent has the next question, and nothing of the chart has gone yet.
    assert "What does your child have at school right now?" in parent.last_text
    assert parent.callback_answers[-1] == (None, False, None)
    assert staff.callback_answers[-1] == (None, False, None)  # the press was answered at once
    assert running.api.calls_to("sendPhoto") == []
    answered_at = len(running.api.calls)

    running.held.release.set()
    await asyncio.wait_for(running.app.stats_worker.settled(), QUEUE_TIMEOUT)
    summary, chart = [m for m in staff.messages if "Last 7 days" in m.text]
    assert "Screenings started: 13" in summary.text  # the 12 seeded, and the parent's
    assert chart.is_photo
    assert index_of(running.api, "sendPhoto", STAFF_ID) > answered_at


async def test_stopping_mid_drawing_sends_nothing_and_does_not_hang(
    running: Running, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(worker_module, "STOP_SECONDS", 0.05)
    staff = running.client(STAFF_ID, first_name="Ana")
    await staff.send("/stats")
    await running.handled()
    await staff.press("30 days")
    await running.handled()
    await asyncio.wait_for(running.held.started.wait(), QUEUE_TIMEOUT)
    app = running.app
    with caplog.at_level(logging.INFO):
        # As `iep-bot run` stops (BotApplication.run_until_stopped): never released.
        await asyncio.wait_for(app.stop(), QUEUE_TIMEOUT)
        assert app.post_stop is not None and app.post_shutdown is not None
        await asyncio.wait_for(app.post_stop(app), QUEUE_TIMEOUT)
        await app.shutdown()
        await app.post_shutdown(app)
    assert running.held.closed and app.stats_worker.pending == 0
    assert running.api.calls_to("sendPhoto") == []
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.stats.worker"]
    assert lines == ["1 statistics request(s) still running at stop: not sent"]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]


async def test_a_chart_ready_within_the_stop_budget_is_still_sent(running: Running) -> None:
    staff = running.client(STAFF_ID, first_name="Ana")
    await staff.send("/stats")
    await running.handled()
    await staff.press("30 days")
    await running.handled()
    await asyncio.wait_for(running.held.started.wait(), QUEUE_TIMEOUT)
    app = running.app
    asyncio.get_running_loop().call_later(0.05, running.held.release.set)
    await asyncio.wait_for(app.stop(), QUEUE_TIMEOUT)
    assert app.post_stop is not None
    await asyncio.wait_for(app.post_stop(app), QUEUE_TIMEOUT)  # the HTTP client is still open
    assert [m.text for m in staff.messages if m.is_photo] == [
        "Last 30 days (2026-10-30 to 2026-11-28)"
    ]


# --- the real worker process ---------------------------------------------------------------------


async def test_stats_and_export_run_end_to_end_in_the_worker_process(env: BotEnv) -> None:
    assert env.storage is not None
    env.storage.db["outcomes"].insert_all(
        outcome(9, day="2026-11-27", booked=1) + outcome(6, day="2026-11-20", outcome_id=None)
    )
    worker = WorkerProcess()
    env.app.stats_worker.runner = worker
    staff = env.client(chat_id=STAFF_ID, user_id=STAFF_ID, first_name="Ana", language_code="es")
    try:
        await staff.send("/stats")
        await staff.press("30 días")
        await asyncio.wait_for(env.app.stats_worker.settled(), 60)
        summary, chart = staff.messages[-2:]
        assert "Cuestionarios iniciados: 15" in summary.text
        assert chart.is_photo and png_size(chart.photo or b"")[0] == WIDTH_PX
        await staff.send("/export")
        await staff.press("7 días")
        await asyncio.wait_for(env.app.stats_worker.settled(), 60)
        document = staff.last
        assert document.document_filename == "iep-bot-export-2026-11-22-to-2026-11-28.zip"
        with zipfile.ZipFile(io.BytesIO(document.document or b"")) as archive:
            assert "summary.csv" in archive.namelist()
        # It all ran in one other process, still there for the next press.
        pid = await worker.run(worker_pid, None)
        assert pid != os.getpid() and worker.running
    finally:
        await env.app.stats_worker.finish()
    assert not worker.running


async def test_a_worker_that_dies_is_replaced_and_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    worker = WorkerProcess()
    try:
        first = await worker.run(worker_pid, None)
        with caplog.at_level(logging.INFO):
            # It dies mid-job, with another job waiting its turn: both fail, one line.
            failed = await asyncio.gather(
                worker.run(crash_worker, None),
                worker.run(worker_pid, None),
                return_exceptions=True,
            )
        assert [type(error) for error in failed] == [StatsUnavailable, StatsUnavailable]
        assert [r.getMessage() for r in caplog.records] == [
            "the statistics worker process stopped unexpectedly; a new one starts with the"
            " next request"
        ]
        second = await worker.run(worker_pid, None)
        assert second not in (first, os.getpid())
        # Killed while idle: the next job just gets a new one.
        os.kill(second, 9)
        await asyncio.sleep(0.2)  # the pool notices its process is gone
        third = await worker.run(worker_pid, None)
        assert third not in (second, os.getpid())
    finally:
        worker.close()


async def test_an_idle_worker_gives_its_memory_back_and_comes_back_when_needed() -> None:
    worker = WorkerProcess(idle_seconds=0.1)
    try:
        first = await worker.run(worker_pid, None)
        assert worker.running
        await asyncio.sleep(0.5)
        assert not worker.running  # idle: the process went
        assert await worker.run(worker_pid, None) != first  # a new one for the next job
    finally:
        worker.close()


async def test_closing_mid_job_stops_the_worker_at_once(caplog: pytest.LogCaptureFixture) -> None:
    worker = WorkerProcess()
    pid = await worker.run(worker_pid, None)
    job = asyncio.create_task(worker.run(sleep_in_worker, 60.0))
    await asyncio.sleep(0.3)  # the job is under way in the worker
    with caplog.at_level(logging.INFO):
        worker.close()
        with pytest.raises(StatsUnavailable):
            await asyncio.wait_for(job, 10)  # not the 60 s of the job
    assert not worker.running
    assert caplog.records == []  # a stop, not a crash: nothing to report
    for _ in range(100):  # the process is gone soon after
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the worker process is still there")
    with pytest.raises(StatsUnavailable):
        await worker.run(worker_pid, None)  # closed for good


class CtrlCOnSecondChatAction:
    """Server hook: Ctrl-C, as a terminal sends it to the whole process group (the bot and
    its worker process), when the bot shows staff "sending a photo…" for the second time:
    the worker process is there, about to draw."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self.seen = 0
        self.signalled_at: float | None = None

    def __call__(self, exchange: Exchange) -> None:
        if exchange.method != "sendChatAction" or self.proc is None:
            return
        self.seen += 1
        if self.seen == 2:
            self.signalled_at = time.monotonic()
            os.killpg(self.proc.pid, signal.SIGINT)  # the group of the bot this test started


def _stats_command(api: FakeBotAPI) -> dict[str, Any]:
    chat = {"id": STAFF_ID, "type": "private", "first_name": "Ana"}
    message = {
        "message_id": api.next_message_id(STAFF_ID),
        "date": int(time.time()),
        "chat": chat,
        "from": STAFF_USER,
        "text": "/stats",
        "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
    }
    return {"update_id": api.next_update_id(), "message": message}


def _press_all_time(api: FakeBotAPI, charts: int) -> dict[str, Any] | None:
    """A press of "All time" on the newest period buttons, once `charts` charts are there."""
    if sum(1 for m in api.chats.get(STAFF_ID, []) if m.is_photo) < charts:
        return None
    shown = [m for m in api.chats.get(STAFF_ID, []) if m.reply_markup]
    if not shown:
        return None
    button = next(b for row in shown[-1].reply_markup for b in row if b.text == "All time")
    query = api.callback_query(STAFF_ID, STAFF_USER, shown[-1], button.callback_data)
    return {"update_id": api.next_update_id(), "callback_query": query}


STAFF_USER: dict[str, Any] = {"id": STAFF_ID, "is_bot": False, "first_name": "Ana"}


def test_ctrl_c_while_the_worker_draws_sends_the_chart_and_exits_cleanly(
    tmp_path: Path,
) -> None:
    """`iep-bot run` for real, in a terminal: staff ask for a chart twice, and Ctrl-C reaches
    the bot and its worker process as the second one starts. The chart still goes out, the
    bot exits 0 in time, and nothing prints a traceback."""
    db_path = tmp_path / "bot.sqlite3"
    storage = Storage(db_path)
    storage.migrate()
    storage.db["outcomes"].insert_all(outcome(8, day="2026-01-15"))
    storage.close()
    with FakeBotServer() as server:
        api = server.api
        stopper = CtrlCOnSecondChatAction()
        server.before = stopper
        server.call(lambda: api.push_update(_stats_command(api)))
        settings = {"TELEGRAM_API_URL": server.url}
        if os.environ.get("PYTHONPATH"):  # the bot runs the very code this test runs
            settings["PYTHONPATH"] = os.environ["PYTHONPATH"]
        log_path = tmp_path / "bot.log"
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                [*bot_command(), "run"],
                cwd=tmp_path,  # no developer .env
                env=bot_env(db_path, **settings),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a process group of its own, the worker joins it
            )
        stopper.proc = proc
        try:
            for charts in (0, 1):  # the first press starts the worker; Ctrl-C in the second
                deadline = time.monotonic() + 30
                while (press := server.call(lambda: _press_all_time(api, charts))) is None:  # noqa: B023
                    assert proc.poll() is None, log_path.read_text()
                    assert time.monotonic() < deadline, log_path.read_text()
                    time.sleep(0.05)
                server.call(lambda: api.push_update(press))
            status = proc.wait(40)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        shown = server.call(lambda: [m.text for m in api.chats[STAFF_ID] if m.is_photo])
    log_text = log_path.read_text()
    assert stopper.signalled_at is not None, log_text
    assert status == 0, log_text
    assert time.monotonic() - stopper.signalled_at < 30  # docs/deploy.md: allow 30 s
    assert len(shown) == 2 and shown[1].startswith("All time, up to "), log_text
    assert "Traceback" not in log_text and "ERROR" not in log_text, log_text
    assert "statistics worker process stopped" not in log_text, log_text
