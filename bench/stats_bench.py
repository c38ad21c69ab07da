"""Stats benchmark: `compute_stats` over 1 and 5 million synthetic outcome rows, and the CLI.

Builds throwaway databases with the production schema and indexes (the rows come from one
INSERT ... SELECT over a recursive CTE: 5 million in one to two minutes). The rows go in before
the migration that adds the outcome rollup (m007), which then fills it from them as it would
on a production database: loading them through its triggers would cost a trigger run per row.
Then for each size it times `compute_stats(...).to_json()` for all time, alternating with a
baseline on the same connection: one plain `SELECT lang, COUNT(*) ... GROUP BY lang` scan of
the outcome rows (not of the rollup, which compute_stats reads: the baseline only gauges how
fast the machine is at the moment, and the ratio moves less than the seconds). Each
figure is the median of the runs, and the ratio the median of the per-run ratios, so a noisy
shared machine shows in both; wall and CPU seconds (of this thread, where SQLite runs) are
both shown, the CPU ones moving less when other work shares the cores. With --before FILE
(a copy of an older bot/stats/aggregate.py) that version is timed in the same loop and must
give the very same figures: an aggregate.py from before the rollup reads the outcome rows,
which are all there.
At the smallest size, the real command `iep-bot stats --format json` also runs as a child
process: its median wall time and peak memory (the child's own ru_maxrss, from os.wait4 in a
lean spawner), beside the interpreter starting, the CLI's imports and a bare `SELECT COUNT(*)`.
Targets: compute_stats under 0.5 s at 1 million and 1.5 s at 5 million; the CLI at 1 million
under 1 s and 150 MB.
Then, what /stats costs parents: the real Application (in this process, on the fake Bot
API, each call 20 ms late like a round trip to Telegram) over a copy of the smallest
database, ten parents tapping through screenings, each as soon as their reply came, while a
staff member asks for the all-time statistics again and again. A parent's reply time (their
tap handed to the bot -> its reply sent) while the statistics are being counted and drawn,
against the same parents' idle replies in between (as long), in the same run: once with the
statistics worker process (as the bot runs now) and once counting and drawing in a thread of
the bot's process (as it did before: the GIL, held by matplotlib and SQLite, made every parent
wait). Target: with the worker process, the p90 reply while drawing within 2x of idle's.
Last, what the rollup's triggers add to the writes: finishing 10,000 screenings (and pressing
Book after some) through Storage, with and without the triggers, in alternating rounds.

    .venv/bin/python bench/stats_bench.py [--sizes 1000000,5000000] [--runs 5]
        [--keep DIR] [--before OLD_AGGREGATE.py] [--stats-presses 5]

--keep DIR keeps the built databases there and reuses them on the next run (for comparing
two versions in alternating runs), migrating a reused one first; without it they live in a
temporary folder.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import importlib.util
import itertools
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from bot.content import DEFAULT_CONTENT_DIR, load_yaml
from bot.migrations import migrations
from bot.stats.aggregate import compute_stats
from bot.storage import Storage, StoredSession
from flows.spec import parse_spec

STATS_TARGETS = {1_000_000: 0.5, 5_000_000: 1.5}  # rows -> seconds
CLI_TARGET_SECONDS, CLI_TARGET_MB = 1.0, 150.0
# The real screening's question and outcome ids, so the figures follow the content.
_SPEC = parse_spec(load_yaml(DEFAULT_CONTENT_DIR / "screening.yaml"))
QUESTIONS = list(_SPEC.questions)
OUTCOMES = list(_SPEC.outcome_ids)
# Deep-link sources: a few big campaigns and a long tail of one-off links (to be folded).
SOURCES = ["direct"] * 8 + ["flyer", "pta", "clinic", "facebook", "school", "radio"]
IN_PROGRESS = 2_000
FIRST_DAY, DAYS = dt.date(2025, 1, 1), 730
BASELINE = "SELECT lang, COUNT(*) FROM outcomes GROUP BY lang"
ROLLUP_MIGRATION = "m007_outcome_counts"
_WIDTH = 24  # a name's slot in the packed lists below

# Outcome rows over two years: ~70 % completed, ~30 % Spanish, 1 % from a long tail of
# one-off links (rows / 200 of them, ~2 rows each), Book pressed after ~15 % of results,
# answer JSON of a realistic size. Three Park-Miller generators (x, y, z) make it the same
# database every time; names are picked from fixed-width packed lists by position.
_ROWS = f"""
WITH RECURSIVE r(i, x, y, z) AS (
    SELECT 0, 20250101, 424242, 777777
    UNION ALL
    SELECT i + 1, x * 48271 % 2147483647, y * 16807 % 2147483647, z * 69621 % 2147483647
    FROM r WHERE i < :rows - 1
), c AS (
    SELECT i, z, x % {DAYS} AS d, x / {DAYS} % 10 < 7 AS done, y % 10 < 3 AS es,
        y / 10 % 100 = 0 AS tail, y / 1000 AS w
    FROM r
)
INSERT INTO outcomes (session_id, day, lang, source, status, outcome_id, answers,
    stopped_at, questions_answered, booked)
SELECT printf('%012x', i), date(:first + d), CASE WHEN es THEN 'es' ELSE 'en' END,
    CASE WHEN tail THEN 'link' || (z % :links)
        ELSE rtrim(substr(:sources, z % :n_sources * {_WIDTH} + 1, {_WIDTH})) END,
    CASE WHEN done THEN 'completed' ELSE 'abandoned' END,
    CASE WHEN done THEN rtrim(substr(:outcomes, z / 1000 % :n_outcomes * {_WIDTH} + 1, {_WIDTH}))
        END,
    :answers,
    CASE WHEN NOT done
        THEN rtrim(substr(:questions, z / 1000 % :n_questions * {_WIDTH} + 1, {_WIDTH})) END,
    CASE WHEN done THEN :n_questions ELSE 1 + w % (:n_questions - 1) END,
    done AND w / 100 % 100 < 15
FROM c
"""


def _packed(names: Sequence[str]) -> str:
    assert all(len(name) < _WIDTH for name in names)
    return "".join(name.ljust(_WIDTH) for name in names)


def build_database(path: Path, rows: int) -> tuple[float, float]:
    """The production schema, the rows, then the rollup; seconds in all and for the rollup."""
    started = time.perf_counter()
    storage = Storage(path)
    migrations.apply(storage.db, stop_before=ROLLUP_MIGRATION)
    storage.close()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA synchronous=OFF")  # a throwaway file: no need to survive a crash
    # Loading into bare tables and indexing afterwards (a sort) is several times faster
    # than updating every index on every row; the indexes end up exactly as migrated.
    indexes = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'outcomes'"
        " AND sql IS NOT NULL"
    ).fetchall()
    db.execute("BEGIN")
    for name, _ in indexes:
        db.execute(f"DROP INDEX {name}")
    (first,) = db.execute("SELECT julianday(?)", [FIRST_DAY.isoformat()]).fetchone()
    db.execute(
        _ROWS,
        {
            "rows": rows,
            "first": first,
            "links": max(rows // 200, 1),
            "sources": _packed(SOURCES),
            "n_sources": len(SOURCES),
            "outcomes": _packed(OUTCOMES),
            "n_outcomes": len(OUTCOMES),
            "questions": _packed(QUESTIONS),
            "n_questions": len(QUESTIONS),
            "answers": json.dumps({q: "not_sure" for q in QUESTIONS}, sort_keys=True),
        },
    )
    for _, sql in indexes:
        db.execute(sql)
    db.executemany(
        "INSERT INTO sessions (chat_key, session_id, lang, source, state, answers, history,"
        " started_day, updated_at) VALUES (?, ?, 'en', 'direct', 'effort', '{}', '[]', ?, 0)",
        ((f"key{i}", f"p{i}", "2026-12-30") for i in range(IN_PROGRESS)),
    )
    db.executemany(
        "INSERT INTO booking_presses (day, lang, outcome_id, origin) VALUES (?, 'en', NULL,"
        " 'menu')",
        (("2026-06-01",) for _ in range(5_000)),
    )
    db.executemany(
        "INSERT INTO subscribers (chat_key, chat_id, lang, opted_in_day) VALUES (?, ?, 'en',"
        " '2026-01-01')",
        ((f"sub{i}", i) for i in range(20_000)),
    )
    db.execute("COMMIT")
    db.close()
    _, rollup = migrate(path)
    return time.perf_counter() - started, rollup


def migrate(path: Path) -> tuple[list[str], float]:
    """The pending migrations (the rollup's backfill among them), and the seconds taken."""
    started = time.perf_counter()
    storage = Storage(path)
    applied = storage.migrate()
    storage.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    storage.close()
    return applied, time.perf_counter() - started


def database(folder: Path, rows: int) -> Path:
    """The database of `rows` outcome rows in `folder`: reused when a whole one is there."""
    path = folder / f"stats_{rows}.sqlite3"
    done = path.with_suffix(".built")  # written last: a half-built file is never reused
    if path.exists() and done.exists():
        print(f"{rows:>11,} rows: reusing {path}")
        # Built by an older version of the bench, perhaps: bring it up to date.
        applied, seconds = migrate(path)
        if applied:
            print(f"{'':4}applied {', '.join(applied)} in {seconds:.1f} s")
        return path
    path.unlink(missing_ok=True)
    seconds, rollup = build_database(path, rows)
    done.touch()
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        (groups,) = connection.execute("SELECT COUNT(*) FROM outcome_counts").fetchone()
    print(
        f"{rows:>11,} rows (+{IN_PROGRESS:,} in progress) built in {seconds:.0f} s,"
        f" {path.stat().st_size / 1e6:,.0f} MB on disk, of which {rollup:.1f} s migrating"
        f" (the rollup's backfill: {groups:,} groups)"
    )
    return path


# --- compute_stats in process -------------------------------------------------------------


Compute = Callable[..., Any]


def load_before(path: Path) -> Compute:
    """compute_stats from another copy of bot/stats/aggregate.py (an older version)."""
    spec = importlib.util.spec_from_file_location("stats_before", path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    function: Compute = module.compute_stats
    return function


Timings = dict[str, list[tuple[float, float]]]  # name -> (wall, CPU) seconds per run


def time_stats(path: Path, runs: int, versions: dict[str, Compute]) -> Timings:
    """Per run: the baseline scan, then each version's compute_stats + to_json."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    db = Database(connection)
    timings: Timings = {"baseline": [], **{name: [] for name in versions}}
    results: dict[str, Any] = {}
    for _ in range(runs):
        with timed(timings["baseline"]):
            connection.execute(BASELINE).fetchall()
        for name, compute in versions.items():
            with timed(timings[name]):
                results[name] = compute(db, since=None, until=None, min_cell=5).to_json()
    connection.close()
    reference = results["compute_stats"]
    for name, data in results.items():
        assert data == reference, f"{name} gives other figures than compute_stats"
    check_figures(reference, path)
    return timings


@contextlib.contextmanager
def timed(into: list[tuple[float, float]]) -> Iterator[None]:
    """Appends the wall and CPU seconds of the block (SQLite runs in this thread)."""
    wall, cpu = time.perf_counter(), time.thread_time()
    yield
    into.append((time.perf_counter() - wall, time.thread_time() - cpu))


def check_figures(data: dict[str, Any], path: Path) -> None:
    """Every screening counted; the long tail of deep links folded into "other"."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        rows, booked = connection.execute("SELECT COUNT(*), SUM(booked) FROM outcomes").fetchone()
        rollup = connection.execute("SELECT SUM(n), SUM(booked) FROM outcome_counts").fetchone()
    assert rollup == (rows, booked), (rollup, rows, booked)
    assert data["sessions_started"] == rows + IN_PROGRESS, data["sessions_started"]
    sources = data["by_source"]
    assert "other" in sources, sorted(sources)
    assert all(
        isinstance(cells["started"], int) and cells["started"] >= 5 for cells in sources.values()
    )


def report_stats(rows: int, timings: Timings) -> bool:
    """One line per version; True when compute_stats meets its target for this size."""
    base = timings["baseline"]
    print(f"{rows:>11,} rows, in process{'wall s':>27}{'x base':>8}{'CPU s':>8}{'x base':>8}")
    for name, runs in timings.items():
        wall, cpu = (statistics.median(run[i] for run in runs) for i in (0, 1))
        ratios = (
            statistics.median(run[i] / b[i] for run, b in zip(runs, base, strict=True))
            for i in (0, 1)
        )
        label = f"baseline: {BASELINE}" if name == "baseline" else name
        label = label if len(label) <= 40 else label[:39] + "…"
        print(f"{'':4}{label:40}{wall:10.3f}{next(ratios):8.2f}{cpu:8.3f}{next(ratios):8.2f}")
    target = STATS_TARGETS.get(rows)
    if target is None:
        return True
    met = statistics.median(wall for wall, _ in timings["compute_stats"]) < target
    print(f"{'':4}compute_stats (wall) < {target} s: " + ("met" if met else "NOT met"))
    return met


# --- the command line, as a child process ---------------------------------------------------


# Runs in a small separate interpreter: a child's ru_maxrss starts from the RSS of the
# process that spawned it (fork and vfork copy or share its memory until exec), so the
# spawner must be lean for the child's figure to be its own.
_MEASURER = """
import json, os, sys, time
argv, out, err = json.loads(sys.argv[1])
with open(out, "wb") as o, open(err, "wb") as e:
    actions = [(os.POSIX_SPAWN_DUP2, o.fileno(), 1), (os.POSIX_SPAWN_DUP2, e.fileno(), 2)]
    started = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - started
print(json.dumps([wall, usage.ru_maxrss, os.waitstatus_to_exitcode(status)]))
"""


def measure(argv: Sequence[str], env: dict[str, str], folder: Path) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MB, stdout) of one child process, from its own rusage."""
    out, err = folder / "stdout.txt", folder / "stderr.txt"
    spec = json.dumps([list(argv), str(out), str(err)])
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", _MEASURER, spec],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    wall, peak_kb, code = json.loads(done.stdout)
    if code != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {err.read_text().strip()}")
    if sys.platform == "darwin":  # bytes there, kilobytes on Linux
        peak_kb /= 1024
    return wall, peak_kb / 1024, out.read_text()


def median_of(
    runs: int, argv: Sequence[str], env: dict[str, str], folder: Path
) -> tuple[float, float, str]:
    results = [measure(argv, env, folder) for _ in range(runs)]
    return (
        statistics.median(r[0] for r in results),
        max(r[1] for r in results),
        results[-1][2],
    )


def cli_figures(db_path: Path, rows: int, runs: int, folder: Path) -> bool:
    """The real command beside its baselines; True when it meets its targets."""
    iep_bot = str(Path(sys.executable).parent / "iep-bot")
    python = sys.executable
    env = {**os.environ, "DATABASE_PATH": str(db_path), "STATS_MIN_CELL": "5"}
    count_sql = f"import sqlite3; sqlite3.connect({str(db_path)!r}).execute({_COUNT!r})"
    measured = {
        "iep-bot stats --format json": median_of(
            runs, [iep_bot, "stats", "--format", "json"], env, folder
        ),
        "python -c 'import sqlite3'": median_of(
            runs, [python, "-c", "import sqlite3"], env, folder
        ),
        "python -c 'import bot.cli'": median_of(
            runs, [python, "-c", "import bot.cli, bot.stats.cli"], env, folder
        ),
        "python: SELECT COUNT(*) FROM outcomes": median_of(
            runs, [python, "-c", count_sql], env, folder
        ),
    }
    check_figures(json.loads(measured["iep-bot stats --format json"][2]), db_path)
    print(f"{rows:>11,} rows, the command line{'wall s':>23}{'peak MB':>10}")
    for name, (wall, peak, _) in measured.items():
        print(f"{'':4}{name:40}{wall:10.3f}{peak:10.1f}")
    stats_wall, stats_peak, _ = measured["iep-bot stats --format json"]
    bare_wall, bare_peak, _ = measured["python -c 'import sqlite3'"]
    cli_wall, _, _ = measured["python -c 'import bot.cli'"]
    print(
        f"{'':4}stats / bare interpreter: {stats_wall / bare_wall:.1f}x time,"
        f" {stats_peak / bare_peak:.1f}x memory;"
        f" stats - CLI imports = {stats_wall - cli_wall:.3f} s"
    )
    met = stats_wall < CLI_TARGET_SECONDS and stats_peak < CLI_TARGET_MB
    print(
        f"{'':4}targets < {CLI_TARGET_SECONDS:.0f} s and < {CLI_TARGET_MB:.0f} MB: "
        + ("met" if met else "NOT met")
    )
    return met


_COUNT = "SELECT COUNT(*) FROM outcomes"


# --- a parent's reply while /stats draws -----------------------------------------------------


REPLY_TARGET = 2.0  # the p90 reply while drawing, over idle's, with the worker process
REPLY_LATENCY = 0.02  # seconds each Bot API call takes (a round trip to Telegram)
REPLY_PARENTS = 10  # tapping at once, each as soon as their reply came
STAFF_ID = 777


class ThreadRunner:
    """The statistics worker's runner as /stats worked before: in a thread of this process."""

    async def run(self, job: Callable[[Any], Any], request: Any) -> Any:
        return await asyncio.to_thread(job, request)

    def close(self) -> None:
        return None


def copy_database(source: Path, folder: Path) -> Path:
    """A copy the parents may write to (the built database stays as built, for --keep)."""
    target = folder / "replies.sqlite3"
    target.unlink(missing_ok=True)
    with (
        contextlib.closing(sqlite3.connect(source)) as src,
        contextlib.closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst)
    return target


async def reply_times(
    db_path: Path, runner: Any, presses: int, first_parent: int
) -> tuple[list[float], ...]:
    """(idle replies, replies while /stats is under way, seconds per /stats) in seconds."""
    from bot.config import Settings
    from bot.content import load_content
    from bot.tg.app import build_application

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.fakebot import ChatClient, FakeBotAPI
    from tests.parents import SCREENING_LOOP

    settings = Settings(
        token="123456:BENCH-token-0123456789abcdefghij",
        database_path=db_path,
        booking_url="https://book.example.org/consult",
        pseudonym_key=b"bench-pseudonym-key-0123456789abcdef",
        practice_name="Bench Advocacy",
        staff_ids=frozenset({STAFF_ID}),
    )
    storage = Storage(db_path)
    api = FakeBotAPI(latency=REPLY_LATENCY)
    app = build_application(
        settings, storage, load_content(DEFAULT_CONTENT_DIR), request=api,
        sweep_expired=False, stats_runner=runner,
    )  # fmt: skip
    await app.initialize()
    parents = [ChatClient(app, api, chat_id=first_parent + i) for i in range(REPLY_PARENTS)]
    staff = ChatClient(app, api, chat_id=STAFF_ID, user_id=STAFF_ID, first_name="Ana")

    # Each parent's taps go on where they stopped: a screening, its details, "Start over".
    taps = {parent.chat_id: itertools.cycle(SCREENING_LOOP) for parent in parents}

    async def keep_tapping(
        parent: ChatClient, into: list[float], going: Callable[[], bool]
    ) -> None:
        """Tap through screenings, each tap as soon as the reply came, while `going()`."""
        while going():
            started = time.perf_counter()
            await parent.press(next(taps[parent.chat_id]))
            into.append(time.perf_counter() - started)

    async def everyone(into: list[float], going: Callable[[], bool]) -> None:
        await asyncio.gather(*(keep_tapping(parent, into, going) for parent in parents))

    for parent in parents:
        await parent.send("/start")
        await parent.press("Start the screening")
    await staff.send("/stats")
    await staff.press("All time")  # warm up: the worker process starts, matplotlib loads
    await app.stats_worker.settled()
    idle: list[float] = []
    busy: list[float] = []
    seconds: list[float] = []
    try:
        for _ in range(presses):
            began = time.perf_counter()
            await staff.press("All time")
            await everyone(busy, lambda: app.stats_worker.pending > 0)
            took = time.perf_counter() - began
            seconds.append(took)
            ends = time.perf_counter() + took  # as long idle, in between
            await everyone(idle, lambda: time.perf_counter() < ends)  # noqa: B023
    finally:
        await app.stats_worker.finish()
        await app.shutdown()
        storage.close()
    assert len([m for m in staff.messages if m.is_photo]) == presses + 1, "a chart went missing"
    return idle, busy, seconds


def reply_figures(db_path: Path, rows: int, presses: int, folder: Path) -> bool:
    """A parent's reply while /stats draws against idle, worker process and thread; True when
    the worker process meets its target."""
    from bot.stats.worker import WorkerProcess

    copy = copy_database(db_path, folder)
    print(
        f"{rows:>11,} rows, a parent's reply while /stats (all time) is under way"
        f"{'p50 ms':>9}{'p90 ms':>8}{'max ms':>8}{'taps':>6}"
    )
    figures: dict[str, float] = {}  # medians by label, p90 ratios by runner
    runners = (("worker process", WorkerProcess()), ("thread (before)", ThreadRunner()))
    for i, (name, runner) in enumerate(runners):
        idle, busy, seconds = asyncio.run(reply_times(copy, runner, presses, 5000 + 100 * i))
        for label, times in ((f"{name}, idle", idle), (f"{name}, while drawing", busy)):
            p50, p90 = (statistics.quantiles(times, n=10)[q] for q in (4, 8))
            figures[label] = p50
            print(
                f"{'':4}{label:64}{p50 * 1e3:9.1f}{p90 * 1e3:8.1f}{max(times) * 1e3:8.1f}"
                f"{len(times):6}"
            )
        ratio = figures[f"{name}, while drawing"] / figures[f"{name}, idle"]
        tail = statistics.quantiles(busy, n=10)[8] / statistics.quantiles(idle, n=10)[8]
        print(
            f"{'':4}{name}: /stats took {statistics.median(seconds):.2f} s (median);"
            f" reply while drawing / idle: median {ratio:.2f}x, p90 {tail:.2f}x"
        )
        figures[name] = tail
    met = figures["worker process"] <= REPLY_TARGET
    verdict = "met" if met else "NOT met"
    print(f"{'':4}worker process p90 within {REPLY_TARGET}x of idle's: {verdict}")
    copy.unlink()
    return met


# --- what the rollup's triggers cost the writes ---------------------------------------------


WRITES, ROUNDS = 10_000, 5  # screenings finished per variant, in alternating rounds
WRITE_VARIANTS = ("with triggers", "without triggers")


def writing_database(path: Path, triggers: bool) -> Storage:
    """A migrated, empty database; its outcome triggers dropped unless `triggers`."""
    storage = Storage(path)
    storage.migrate()
    if not triggers:
        for (name,) in storage.db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'outcomes'"
        ).fetchall():
            storage.db.execute(f"DROP TRIGGER {name}")
    return storage


def screening(i: int) -> tuple[StoredSession, str | None]:
    """The i-th screening to finish, spread over days, languages, sources and outcomes."""
    session = StoredSession(
        chat_key=f"chat{i}",
        session_id=f"w{i:011x}",
        lang="es" if i % 10 < 3 else "en",
        source=SOURCES[i * 7 % len(SOURCES)],
        state=QUESTIONS[i * 13 % len(QUESTIONS)],
        answers={},
        history=[],
        started_day=(FIRST_DAY + dt.timedelta(days=i * 37 % DAYS)).isoformat(),
        updated_at=0.0,
    )
    return session, OUTCOMES[i * 11 % len(OUTCOMES)] if i % 10 < 7 else None


def write_round(storage: Storage, first: int, count: int, into: Timings) -> None:
    """Finish screenings first..first+count as the bot does, then press Book after 1 in 7."""
    answers = {q: "not_sure" for q in QUESTIONS[:3]}
    finished = [screening(i) for i in range(first, first + count)]
    booked = [session for session, outcome_id in finished[::7] if outcome_id]
    with timed(into["finish"]):
        for session, outcome_id in finished:
            storage.finish_session(session, outcome_id=outcome_id, answers=answers)
    with timed(into["book"]):
        for session in booked:
            storage.record_booking(session_id=session.session_id, lang=session.lang)
    # Per operation, from the whole round's seconds.
    for op, n in (("finish", len(finished)), ("book", len(booked))):
        wall, cpu = into[op][-1]
        into[op][-1] = (wall / n, cpu / n)


def write_cost(folder: Path) -> None:
    """µs per finished screening and per Book press, with and without the triggers."""
    stores = {
        name: writing_database(folder / f"writes_{i}.sqlite3", triggers=i == 0)
        for i, name in enumerate(WRITE_VARIANTS)
    }
    per_op: dict[str, Timings] = {name: {"finish": [], "book": []} for name in WRITE_VARIANTS}
    count = WRITES // ROUNDS
    for run in range(ROUNDS):
        # Alternating which goes first, so neither always runs on a warmer machine.
        for name in WRITE_VARIANTS[:: 1 if run % 2 == 0 else -1]:
            write_round(stores[name], run * count, count, per_op[name])
    for name, storage in stores.items():
        groups, rows = storage.db.execute(
            "SELECT (SELECT COUNT(*) FROM outcome_counts), (SELECT COUNT(*) FROM outcomes)"
        ).fetchone()
        assert rows == WRITES and (groups > 0) == (name == "with triggers"), (name, groups)
        storage.close()
    report_writes(per_op)


def report_writes(per_op: dict[str, Timings]) -> None:
    """Wall and CPU µs per operation for each variant, and what the triggers add."""
    heading = f"{WRITES:>11,} screenings finished through Storage, each"
    print(f"{heading:54}{'wall µs':>10}{'CPU µs':>8}")
    medians: dict[tuple[str, str], list[float]] = {}
    for op, label in (("finish", "finish_session"), ("book", "record_booking")):
        for name in WRITE_VARIANTS:
            runs = per_op[name][op]
            medians[op, name] = [statistics.median(run[i] for run in runs) * 1e6 for i in (0, 1)]
            wall, cpu = medians[op, name]
            print(f"{'':4}{label + ', ' + name:40}{wall:10.1f}{cpu:8.1f}")
    for op, label in (("finish", "finishing a screening"), ("book", "a Book press")):
        (wall, cpu), (bare_wall, bare_cpu) = (medians[op, name] for name in WRITE_VARIANTS)
        print(
            f"{'':4}the triggers add {wall - bare_wall:.1f} µs wall ({wall / bare_wall - 1:+.0%}),"
            f" {cpu - bare_cpu:.1f} µs CPU ({cpu / bare_cpu - 1:+.0%}) to {label}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="1000000,5000000", help="outcome rows, comma-separated")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="build databases here and reuse them")
    parser.add_argument("--before", type=Path, help="an older aggregate.py to time alongside")
    parser.add_argument(
        "--stats-presses", type=int, default=5, help="/stats asked for while the parent taps"
    )
    args = parser.parse_args()
    sizes = sorted(int(size) for size in args.sizes.split(","))
    versions: dict[str, Compute] = {"compute_stats": compute_stats}
    if args.before:
        versions = {f"before ({args.before.name})": load_before(args.before), **versions}

    with tempfile.TemporaryDirectory() as name:
        folder = args.keep or Path(name)
        folder.mkdir(parents=True, exist_ok=True)
        paths = {rows: database(folder, rows) for rows in sizes}
        print(f"{os.cpu_count()} CPUs; median of {args.runs} runs; compute_stats for all time")
        # Every size is reported, whether or not an earlier one met its target.
        met = [
            report_stats(rows, time_stats(path, args.runs, versions))
            for rows, path in paths.items()
        ]
        ok = all(met)
        ok = cli_figures(paths[sizes[0]], sizes[0], args.runs, Path(name)) and ok
        smallest = paths[sizes[0]]
        ok = reply_figures(smallest, sizes[0], args.stats_presses, Path(name)) and ok
        write_cost(Path(name))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
