"""Counting and drawing away from parents: a process of its own, and the jobs waiting on it.

/stats and /export count over the whole log and draw with matplotlib: 0.2 to 0.9 s of CPU
that, in a thread of the bot's process, holds the GIL and every parent's answer with it.
So the work runs in one long-lived worker process (`WorkerProcess`: started on first use,
spawned, not forked, since the bot runs threads; stopped when idle and with the bot), and
the handler that asked only starts a job (`StatsWorker.start`) and returns: the update's
slot is free at once, and the job sends its result when it is ready.

Requests and results are plain data (bot/stats/jobs.py). A worker that dies (killed, out of
memory) is noticed by the pool: that job fails with `StatsUnavailable`, logged once, and the
next job starts a new process. Telegram-free: the jobs started here are coroutines the
adapter writes.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import multiprocessing
import signal
from collections.abc import Callable, Coroutine
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol, TypeVar

log = logging.getLogger(__name__)
Request = TypeVar("Request")
Result = TypeVar("Result")
IDLE_SECONDS = 600.0  # an unused worker gives its memory back after this long
STOP_SECONDS = 5.0  # on stop, jobs under way get this long to send what they made


class StatsUnavailable(Exception):
    """The worker could not do the job (it died, or the bot is stopping): try again later."""


class Runner(Protocol):
    """Runs `job(request)` somewhere other than the event loop's thread."""

    async def run(self, job: Callable[[Request], Result], request: Request) -> Result:
        """The job's result; StatsUnavailable when it could not run to its end."""
        ...

    def close(self) -> None:
        """Stop at once, even mid-job (that job fails with StatsUnavailable)."""
        ...


class WorkerProcess:
    """One worker process, started by the first job, one job at a time (more wait in turn)."""

    def __init__(self, *, idle_seconds: float = IDLE_SECONDS) -> None:
        self.idle_seconds = idle_seconds
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self._busy = 0
        self._retire: asyncio.TimerHandle | None = None
        self._closing = False

    @property
    def running(self) -> bool:
        """Whether a worker process is there now."""
        return self._pool is not None

    async def run(self, job: Callable[[Request], Result], request: Request) -> Result:
        if self._closing:
            raise StatsUnavailable("the bot is stopping")
        if self._retire is not None:
            self._retire.cancel()
            self._retire = None
        self._busy += 1
        try:
            pool, future = self._submit(job, request)
            try:
                return await asyncio.wrap_future(future)
            except BrokenProcessPool:
                # Every job of that pool fails alike: the first to hear of it reports it.
                if self._pool is pool:
                    if not self._closing:
                        log.warning(
                            "the statistics worker process stopped unexpectedly; a new one"
                            " starts with the next request"
                        )
                    self._discard()
                raise StatsUnavailable("the worker process stopped") from None
        finally:
            self._busy -= 1
            if not self._busy and self._pool is not None and not self._closing:
                loop = asyncio.get_running_loop()
                self._retire = loop.call_later(self.idle_seconds, self._discard)

    def _submit(
        self, job: Callable[[Request], Result], request: Request
    ) -> tuple[concurrent.futures.ProcessPoolExecutor, concurrent.futures.Future[Result]]:
        """Hand the job to the worker (and say which); one that died idle is replaced first."""
        for attempt in (1, 2):
            if self._pool is None:
                self._pool = concurrent.futures.ProcessPoolExecutor(
                    max_workers=1,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_leave_signals_to_the_bot,
                )
            try:
                return self._pool, self._pool.submit(job, request)
            except (BrokenProcessPool, RuntimeError):  # it died idle, or it was shut down
                self._discard()
                if attempt == 2:
                    raise StatsUnavailable("no worker process") from None
        raise AssertionError("unreachable")

    def close(self) -> None:
        """Stop the worker now, mid-job too: nothing waits for it (no hang on shutdown)."""
        self._closing = True
        self._discard(terminate=True)

    def _discard(self, *, terminate: bool = False) -> None:
        """Let the process go; `terminate` stops one that is still working."""
        if self._retire is not None:
            self._retire.cancel()
            self._retire = None
        pool, self._pool = self._pool, None
        if pool is None:
            return
        # The pool's own processes (a private attribute, the same from 3.8 to 3.13; 3.14
        # has terminate_workers()): shutdown(wait=False) alone would let a job run to its end.
        workers = list((getattr(pool, "_processes", None) or {}).values()) if terminate else []
        pool.shutdown(wait=False, cancel_futures=True)
        for process in workers:
            if process.is_alive():
                process.kill()  # SIGKILL: it ignores SIGTERM (see below)


def _leave_signals_to_the_bot() -> None:
    """In the worker: Ctrl-C in a terminal and systemd's stop reach every process of the
    group; the bot decides when its worker stops (no KeyboardInterrupt traceback, no chart
    lost to a stop the bot would have waited for)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


class StatsWorker:
    """The statistics jobs under way (coroutines that wait on the runner, then send), and
    the runner they share."""

    def __init__(self, runner: Runner | None = None) -> None:
        self.runner: Runner = runner if runner is not None else WorkerProcess()
        self._jobs: set[asyncio.Task[None]] = set()

    async def run(self, job: Callable[[Request], Result], request: Request) -> Result:
        """`job(request)` on the runner (for the coroutines started below)."""
        return await self.runner.run(job, request)

    def start(self, work: Coroutine[Any, Any, None], *, name: str) -> None:
        """Run `work` in the background: the caller (a handler) returns at once."""
        task = asyncio.create_task(work, name=name)
        self._jobs.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._jobs.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            # The jobs handle their own errors; this is a bug in one of them.
            from bot.logs import log_failure

            log_failure(log, "a statistics job failed", error)

    @property
    def pending(self) -> int:
        return len(self._jobs)

    async def settled(self) -> None:
        """Until every job started so far (and any they start) has ended."""
        while self._jobs:
            await asyncio.wait(set(self._jobs))

    async def finish(self, at_most: float | None = None) -> None:
        """On stop: let the jobs under way send what they made, for `at_most` seconds
        (STOP_SECONDS); then stop them, quietly (their staff member may ask again)."""
        at_most = STOP_SECONDS if at_most is None else at_most
        if self._jobs:
            _, late = await asyncio.wait(set(self._jobs), timeout=at_most)
            if late:
                log.info("%d statistics request(s) still running at stop: not sent", len(late))
                for task in late:
                    task.cancel()
                await asyncio.wait(late)
        self.runner.close()

    def close(self) -> None:
        """Stop the runner now (after a failed start; `finish` does it on a clean stop)."""
        for task in self._jobs:
            task.cancel()
        self.runner.close()
