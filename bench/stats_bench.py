"""Stats benchmark: `iep-bot stats --format json` over 1,000,000 synthetic outcome rows.

Builds a throwaway database with the production schema and indexes, then runs the real
command as a child process several times and prints its median wall time and peak memory
(the child's own ru_maxrss, from os.wait4 in a lean spawner), beside baselines measured in
the same run: the interpreter starting (`python -c "import sqlite3"`), the CLI's imports,
a bare `SELECT COUNT(*)`, and the statistics queries alone (in this process).
Targets: under 1 s and under 150 MB.

    .venv/bin/python bench/stats_bench.py [--rows 1000000] [--runs 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from sqlite_utils import Database

from bot.content import DEFAULT_CONTENT_DIR, load_yaml
from bot.stats.aggregate import compute_stats
from bot.storage import Storage
from flows.spec import parse_spec

TARGET_SECONDS, TARGET_MB = 1.0, 150.0
# The real screening's question and outcome ids, so the figures follow the content.
_SPEC = parse_spec(load_yaml(DEFAULT_CONTENT_DIR / "screening.yaml"))
QUESTIONS = list(_SPEC.questions)
OUTCOMES = list(_SPEC.outcome_ids)
# Deep-link sources: a few big campaigns and a long tail of one-off links (to be folded).
SOURCES = ["direct"] * 8 + ["flyer", "pta", "clinic", "facebook", "school", "radio"]
IN_PROGRESS = 2_000


def synthetic_rows(count: int, seed: int = 7) -> Iterator[tuple[object, ...]]:
    """Outcome rows over two years, ~70 % completed, answer JSON of a realistic size."""
    rng = random.Random(seed)
    first = dt.date(2025, 1, 1)
    days = [(first + dt.timedelta(days=i)).isoformat() for i in range(730)]
    answers = json.dumps({q: "not_sure" for q in QUESTIONS}, sort_keys=True)
    tail = [f"link{i}" for i in range(max(count // 200, 1))]  # 1 % of rows, ~2 per link
    for i in range(count):
        completed = rng.random() < 0.7
        source = rng.choice(tail) if rng.random() < 0.01 else rng.choice(SOURCES)
        yield (
            f"{i:012x}",
            rng.choice(days),
            "es" if rng.random() < 0.3 else "en",
            source,
            "completed" if completed else "abandoned",
            rng.choice(OUTCOMES) if completed else None,
            answers,
            None if completed else rng.choice(QUESTIONS),
            len(QUESTIONS) if completed else rng.randrange(1, len(QUESTIONS)),
            1 if completed and rng.random() < 0.15 else 0,
        )


def build_database(path: Path, rows: int) -> float:
    """The production schema (migrations), then the rows; seconds taken."""
    started = time.perf_counter()
    storage = Storage(path)
    storage.migrate()
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
    db.executemany(
        "INSERT INTO outcomes (session_id, day, lang, source, status, outcome_id, answers,"
        " stopped_at, questions_answered, booked) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        synthetic_rows(rows),
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
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return time.perf_counter() - started


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


def in_process_seconds(path: Path, runs: int) -> float:
    """The statistics queries alone, on an open read-only connection (median)."""
    timings = []
    for _ in range(runs):
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        started = time.perf_counter()
        compute_stats(Database(connection), since=None, until=None, min_cell=5).to_json()
        timings.append(time.perf_counter() - started)
        connection.close()
    return statistics.median(timings)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    iep_bot = str(Path(sys.executable).parent / "iep-bot")
    python = sys.executable
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        db_path = folder / "bench.sqlite3"
        build_seconds = build_database(db_path, args.rows)
        size_mb = db_path.stat().st_size / 1e6
        print(
            f"built {args.rows:,} outcome rows (+{IN_PROGRESS:,} in progress) in"
            f" {build_seconds:.1f} s, {size_mb:.0f} MB on disk; {os.cpu_count()} CPUs;"
            f" median of {args.runs} runs"
        )
        env = {**os.environ, "DATABASE_PATH": str(db_path), "STATS_MIN_CELL": "5"}
        count_sql = f"import sqlite3; sqlite3.connect({str(db_path)!r}).execute({_COUNT!r})"
        measured = {
            "iep-bot stats --format json": median_of(
                args.runs, [iep_bot, "stats", "--format", "json"], env, folder
            ),
            "python -c 'import sqlite3'": median_of(
                args.runs, [python, "-c", "import sqlite3"], env, folder
            ),
            "python -c 'import bot.cli'": median_of(
                args.runs, [python, "-c", "import bot.cli, bot.stats.cli"], env, folder
            ),
            "python: SELECT COUNT(*) FROM outcomes": median_of(
                args.runs, [python, "-c", count_sql], env, folder
            ),
        }
        queries = in_process_seconds(db_path, args.runs)
        data = json.loads(measured["iep-bot stats --format json"][2])
        assert data["sessions_started"] == args.rows + IN_PROGRESS, data["sessions_started"]
        sources = data["by_source"]
        shown = [name for name in sources if name != "other"]
        folded = "other" in sources and all(
            isinstance(cells["started"], int) and cells["started"] >= 5
            for cells in sources.values()
        )

    print(f"{'':40}{'median s':>10}{'peak MB':>10}")
    for name, (wall, peak, _) in measured.items():
        print(f"{name:40}{wall:10.3f}{peak:10.1f}")
    print(f"{'statistics queries alone (in process)':40}{queries:10.3f}")
    stats_wall, stats_peak, _ = measured["iep-bot stats --format json"]
    bare_wall, bare_peak, _ = measured["python -c 'import sqlite3'"]
    cli_wall, _, _ = measured["python -c 'import bot.cli'"]
    print(
        f"stats / bare interpreter: {stats_wall / bare_wall:.1f}x time,"
        f" {stats_peak / bare_peak:.1f}x memory;"
        f" stats - CLI imports = {stats_wall - cli_wall:.3f} s"
    )
    print(
        f"sources shown: {len(shown)} + 'other' (the one-off deep links): "
        + ("every shown group >= 5" if folded else "NOT folded")
    )
    ok = stats_wall < TARGET_SECONDS and stats_peak < TARGET_MB and folded
    print(
        f"targets < {TARGET_SECONDS:.0f} s and < {TARGET_MB:.0f} MB: "
        + ("met" if ok else "NOT met")
    )
    return 0 if ok else 1


_COUNT = "SELECT COUNT(*) FROM outcomes"


if __name__ == "__main__":
    raise SystemExit(main())
