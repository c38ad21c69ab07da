"""Stats benchmark: `iep-bot stats --format json` over 1,000,000 synthetic outcome rows.

Prints the median wall time and peak memory (RSS) of the command, against baselines measured
in the same run: Python importing the CLI, and a bare `sqlite3` count. Targets: < 1 s, < 150 MB.

    .venv/bin/python bench/stats_bench.py [--rows 1000000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from bot.storage import Storage

TARGET_SECONDS, TARGET_MB = 1.0, 150.0
QUESTIONS = ["plan", "school_said", "progress", "effort", "emotions", "attention", "services"]
OUTCOMES = [
    "iep_review",
    "current_504_not_enough",
    "iep_evaluation",
    "full_evaluation_first",
    "plan_504_may_fit",
    "no_strong_signs",
]
SOURCES = ["direct", "flyer", "pta", "clinic", "facebook", "school", "radio", "newsletter"]
TIME = shutil.which("time") or ("/usr/bin/time" if Path("/usr/bin/time").exists() else None)


def synthetic_rows(count: int, seed: int = 7) -> Iterator[tuple[object, ...]]:
    """Outcome rows spread over two years, ~70 % completed, realistic answer JSON."""
    rng = random.Random(seed)
    days = [f"2025-{m:02d}-{d:02d}" for m in range(1, 13) for d in range(1, 29)] + [
        f"2026-{m:02d}-{d:02d}" for m in range(1, 13) for d in range(1, 29)
    ]
    answers = json.dumps({q: "yes" for q in QUESTIONS}, sort_keys=True)
    for i in range(count):
        completed = rng.random() < 0.7
        yield (
            f"{i:012x}",
            rng.choice(days),
            "es" if rng.random() < 0.3 else "en",
            rng.choice(SOURCES),
            "completed" if completed else "abandoned",
            rng.choice(OUTCOMES) if completed else None,
            answers,
            None if completed else rng.choice(QUESTIONS),
            len(QUESTIONS),
            1 if completed and rng.random() < 0.15 else 0,
        )


def build_database(path: Path, rows: int) -> float:
    started = time.perf_counter()
    storage = Storage(path)
    storage.migrate()  # the indexes exist before the rows, as in production
    with storage.db.conn:
        storage.db.conn.execute("BEGIN")
        storage.db.conn.executemany(
            "INSERT INTO outcomes (session_id, day, lang, source, status, outcome_id, answers,"
            " stopped_at, questions_answered, booked) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            synthetic_rows(rows),
        )
    storage.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    storage.close()
    return time.perf_counter() - started


def measure(argv: Sequence[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MB, stdout) of one child process."""
    command = [TIME, "-f", "%M", *argv] if TIME else list(argv)
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {done.stderr.strip()}")
    if TIME:
        peak_kb = float(done.stderr.strip().splitlines()[-1])
    else:  # the largest child so far: good enough when the stats run is the biggest
        peak_kb = float(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    return wall, peak_kb / 1024, done.stdout


def median_of(runs: int, argv: Sequence[str], env: dict[str, str]) -> tuple[float, float, str]:
    results = [measure(argv, env) for _ in range(runs)]
    return (
        statistics.median(r[0] for r in results),
        max(r[1] for r in results),
        results[-1][2],
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    iep_bot = str(Path(sys.executable).parent / "iep-bot")
    with tempfile.TemporaryDirectory() as folder:
        db_path = Path(folder) / "bench.sqlite3"
        build_seconds = build_database(db_path, args.rows)
        size_mb = db_path.stat().st_size / 1e6
        print(
            f"built {args.rows:,} outcome rows in {build_seconds:.1f} s ({size_mb:.0f} MB)"
            f"; {os.cpu_count()} CPUs; peak memory via {'/usr/bin/time' if TIME else 'getrusage'}"
        )
        env = {**os.environ, "DATABASE_PATH": str(db_path)}
        env.pop("STATS_MIN_CELL", None)

        stats = median_of(args.runs, [iep_bot, "stats", "--format", "json"], env)
        startup = median_of(args.runs, [sys.executable, "-c", "import bot.cli"], env)
        sqlite = (
            median_of(args.runs, ["sqlite3", str(db_path), "SELECT COUNT(*) FROM outcomes"], env)
            if shutil.which("sqlite3")
            else None
        )
        data = json.loads(stats[2])
        assert data["sessions_started"] == args.rows, data["sessions_started"]

    print(f"{'':34}{'median s':>10}{'peak MB':>10}")
    rows = [("iep-bot stats --format json", stats), ("python -c 'import bot.cli'", startup)]
    if sqlite:
        rows.append(("sqlite3 SELECT COUNT(*)", sqlite))
    for name, (wall, peak, _) in rows:
        print(f"{name:34}{wall:10.3f}{peak:10.1f}")
    time_ratio, memory_ratio = stats[0] / startup[0], stats[1] / startup[1]
    print(f"stats / CLI startup: {time_ratio:.1f}x time, {memory_ratio:.1f}x memory")
    if sqlite:
        print(f"stats / bare sqlite3 count: {stats[0] / sqlite[0]:.1f}x time")
    ok = stats[0] < TARGET_SECONDS and stats[1] < TARGET_MB
    print(
        f"targets < {TARGET_SECONDS:.0f} s and < {TARGET_MB:.0f} MB: "
        + ("met" if ok else "NOT met")
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
