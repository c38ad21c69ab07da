"""`iep-bot stats` starts light: no Telegram, no httpx, and matplotlib only for --chart."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.storage import Storage
from tests.stats_helpers import outcome

HEAVY = ("telegram", "httpx", "matplotlib")
# A fresh interpreter runs the command as the console script would, then reports what loaded.
PROBE = (
    "import json, sys\n"
    "from bot.cli import main\n"
    "code = main(sys.argv[1:])\n"
    f"print(json.dumps([code, sorted(m for m in {HEAVY!r} if m in sys.modules)]))\n"
)


@pytest.fixture
def seeded_db(tmp_path: Path) -> Path:
    path = tmp_path / "bot.sqlite3"
    storage = Storage(path)
    storage.migrate()
    storage.db.table("outcomes").insert_all(
        outcome(12) + outcome(6, outcome_id=None, stopped_at="effort", lang="es")
    )
    storage.close()
    return path


def probe(db: Path, *argv: str) -> tuple[int, list[str]]:
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        cwd=db.parent,  # no developer .env
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root), "DATABASE_PATH": str(db)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    code, loaded = json.loads(done.stdout.strip().splitlines()[-1])
    return code, loaded


@pytest.mark.parametrize("shape", ["table", "json", "csv"])
def test_stats_imports_no_telegram_httpx_or_matplotlib(seeded_db: Path, shape: str) -> None:
    assert probe(seeded_db, "stats", "--format", shape) == (0, [])


def test_export_imports_no_telegram_httpx_or_matplotlib(seeded_db: Path) -> None:
    assert probe(seeded_db, "export", "--out", str(seeded_db.parent / "out")) == (0, [])


def test_only_the_chart_loads_matplotlib(seeded_db: Path) -> None:
    chart = seeded_db.parent / "stats.png"
    assert probe(seeded_db, "stats", "--format", "json", "--chart", str(chart)) == (
        0,
        ["matplotlib"],
    )
    assert chart.read_bytes().startswith(b"\x89PNG")
