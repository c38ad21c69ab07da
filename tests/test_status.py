"""Knowing it is alive: `iep-bot status` (any mode, another process) and the figures behind it.

The running bot writes its heartbeat (bot/health.py) with each lease renewal; `iep-bot status`
reads it, read-only, and says in one line whether the bot runs, exit status 0 only if so, so
a cron job or the container's HEALTHCHECK can act on it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import socket
import sqlite3
import time
import zoneinfo
from pathlib import Path
from typing import Any

import pytest

import bot.health
import bot.lease
from bot.health import Figures, Health, report_from_db, write_heartbeat
from bot.storage import Storage
from tests.botenv import BotEnv
from tests.clock import FakeClock
from tests.fakebot.server import FakeBotServer
from tests.killharness import BotRunner, bot_env, iep_bot

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")


def status(db_path: Path, *args: str, **settings: str) -> tuple[int, str]:
    """`iep-bot status` as a monitor runs it: (exit status, stdout); stderr must be empty."""
    env = bot_env(db_path, **settings)
    done = iep_bot(
        "status", *args, env=env, cwd=db_path.parent if db_path.parent.exists() else None
    )
    assert done.stderr == "", done.stderr
    return done.returncode, done.stdout


def migrated(path: Path) -> Storage:
    storage = Storage(path)
    storage.migrate()
    return storage


def beat(path: Path, **figures: Any) -> None:
    """Write a heartbeat as a running bot would."""
    now = time.time()
    values: dict[str, Any] = {
        "mode": "polling",
        "holder": "box:4242",
        "started_at": now - 3600,
        "beat_at": now - 3,
    }
    values.update(figures)
    storage = migrated(path)
    write_heartbeat(storage.db.conn, Figures(**values))
    storage.close()


# --- what it says ---------------------------------------------------------------------------


def test_no_database_is_never_ran_and_nothing_is_created(tmp_path: Path) -> None:
    db_path = tmp_path / "nowhere" / "bot.sqlite3"
    code, out = status(db_path)
    assert code == 1
    assert out.startswith(f"never ran: no database at {db_path}")
    assert not db_path.parent.exists()  # a monitor never creates a database somewhere else


def test_a_database_no_bot_ran_on_is_never_ran(tmp_path: Path) -> None:
    migrated(tmp_path / "bot.sqlite3").close()
    code, out = status(tmp_path / "bot.sqlite3")
    assert code == 1
    assert out.startswith("never ran: no heartbeat in this database")


def test_a_fresh_heartbeat_is_running_with_every_figure(tmp_path: Path) -> None:
    db_path = tmp_path / "bot.sqlite3"
    now = time.time()
    error_at = now - 600
    beat(
        db_path,
        updates_handled=240,
        last_handled_at=now - 12,
        updates_waiting=2,
        updates_in_progress=1,
        last_error="BadRequest",
        last_error_at=error_at,
    )
    storage = migrated(db_path)
    storage.db.execute(
        "INSERT INTO broadcasts (id, created_at, origin, audience, texts, status)"
        " VALUES (1, ?, 'cli', 'all', '{}', 'sending')",
        [now],
    )
    storage.db.conn.executemany(
        "INSERT INTO deliveries (broadcast_id, chat_key, status, attempts, updated_at)"
        " VALUES (1, ?, ?, 0, ?)",
        [(f"key-{i}", "pending" if i < 230 else "sent", now) for i in range(300)],
    )
    storage.close()
    code, out = status(db_path)
    assert code == 0
    [line] = out.splitlines()
    since = dt.datetime.fromtimestamp(now - 3600, CHICAGO).strftime("%Y-%m-%d %H:%M %Z")
    error_day = dt.datetime.fromtimestamp(error_at, CHICAGO)
    today = dt.datetime.fromtimestamp(now, CHICAGO).date()
    error_when = error_day.strftime("%H:%M" if error_day.date() == today else "%Y-%m-%d %H:%M")
    # The ages grow while the command starts: a second or so either way.
    expected = (
        f"running (polling) on box:4242 since {since}, heartbeat AGE ago;"
        " last update handled AGE ago (240 handled); waiting: 2 updates, 1 in progress;"
        f" broadcasts: 1 sending, 230 left; last error: BadRequest at {error_when}"
    )
    pattern = re.escape(expected).replace("AGE", r"\d{1,2} s")
    assert re.fullmatch(pattern, line), line


def test_json_for_machines_in_the_operators_time_zone(tmp_path: Path) -> None:
    db_path = tmp_path / "bot.sqlite3"
    beat(db_path, mode="webhook", updates_handled=5, last_handled_at=time.time() - 1)
    code, out = status(db_path, "--json", TIMEZONE="Europe/Madrid")
    assert code == 0
    report = json.loads(out)
    assert report["state"] == "running" and report["ok"] is True
    assert report["mode"] == "webhook" and report["holder"] == "box:4242"
    assert report["updates_handled"] == 5
    assert 3 <= report["heartbeat_age_s"] <= 10
    madrid = dt.datetime.fromisoformat(report["started_at"]).utcoffset()
    assert madrid in (dt.timedelta(hours=1), dt.timedelta(hours=2))
    assert report["broadcasts"] == {"sending": 0, "deliveries_left": 0, "waiting_to_start": 0}
    assert report["last_error"] is None


def test_a_stale_heartbeat_is_not_running(tmp_path: Path) -> None:
    db_path = tmp_path / "bot.sqlite3"
    beat(db_path, beat_at=time.time() - 3 * bot.health.BEAT_EVERY - 15)
    code, out = status(db_path)
    assert code == 1
    assert re.match(r"NOT RUNNING: last heartbeat 4\d s ago \(polling\) on box:4242", out)
    code, out = status(db_path, "--json")
    assert code == 1 and json.loads(out)["state"] == "stale"


def test_a_clean_stop_is_stopped(tmp_path: Path) -> None:
    db_path = tmp_path / "bot.sqlite3"
    beat(db_path, stopped_at=time.time() - 60)
    code, out = status(db_path)
    assert code == 1
    assert out.startswith("stopped (polling) on box:4242 at ")
    assert "cleanly" in out


def test_status_leaves_a_stopped_bots_database_as_it_was(tmp_path: Path) -> None:
    """No side files either: made by another user (root in `fly ssh console`), a -wal or a
    -shm would keep the bot's own user out of its database at the next start."""
    db_path = tmp_path / "bot.sqlite3"
    beat(db_path, stopped_at=time.time())
    before = sorted(p.name for p in tmp_path.iterdir())
    content = db_path.read_bytes()
    status(db_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == before == ["bot.sqlite3"]
    assert db_path.read_bytes() == content


# --- the running bot ---------------------------------------------------------------------------


def test_a_running_bot_is_running_then_stopped(tmp_path: Path) -> None:
    """The real `iep-bot run` writes its heartbeat at start and on a clean stop."""
    db_path = tmp_path / "bot.sqlite3"
    with FakeBotServer() as server:
        runner = BotRunner(server, tmp_path, bot_env(db_path))

        async def run_and_stop() -> tuple[str, tuple[int, str], int | None]:
            runner.start()
            await runner.wait_ready()
            assert runner.proc is not None
            holder = f"{socket.gethostname()}:{runner.proc.pid}"
            return holder, status(db_path), runner.stop()

        try:
            holder, (code, out), stopped = server.run(run_and_stop(), timeout=60)
        finally:
            runner.cleanup()
    assert code == 0, out
    assert out.startswith(f"running (polling) on {holder} since ")
    assert "no update handled yet" in out
    assert stopped == 0
    code, out = status(db_path)
    assert code == 1
    assert out.startswith(f"stopped (polling) on {holder} at ")


# --- the figures, in process -------------------------------------------------------------------


def test_the_heartbeat_beats_with_the_lease() -> None:
    assert bot.health.BEAT_EVERY == bot.lease.RENEW_EVERY


async def test_the_app_counts_updates_and_errors(env: BotEnv, clock: FakeClock) -> None:
    client = env.client()
    await client.send("/start")
    clock.advance(seconds=5)
    env.app.health.note_error("BadRequest")
    figures = env.app.figures()
    assert figures.updates_handled == 1
    assert figures.last_handled_at == clock.now - 5
    assert figures.last_error == "BadRequest" and figures.last_error_at == clock.now
    assert figures.updates_in_progress == 0 and figures.updates_waiting == 0
    assert figures.mode == "polling"


def test_a_heartbeat_round_trips(tmp_path: Path) -> None:
    clock = FakeClock()
    health = Health("webhook", "box:1", clock=clock)
    health.note_handled()
    clock.advance(seconds=4)
    storage = migrated(tmp_path / "bot.sqlite3")
    write_heartbeat(storage.db.conn, health.figures(in_progress=1, waiting=3))
    report = report_from_db(storage.db.conn, clock.now + 2)
    storage.close()
    assert report.state == "running"
    assert report.figures == Figures(
        mode="webhook",
        holder="box:1",
        started_at=clock.now - 4,
        beat_at=clock.now,
        updates_handled=1,
        last_handled_at=clock.now - 4,
        updates_in_progress=1,
        updates_waiting=3,
    )


def test_a_database_from_before_the_heartbeat_reads_as_never(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "old.sqlite3")
    report = report_from_db(db, time.time())
    db.close()
    assert report.state == "never" and not report.ok


@pytest.mark.parametrize(
    ("seconds", "said"), [(3, "3 s"), (119, "119 s"), (600, "10 min"), (7200, "2 h"), (3e5, "3 d")]
)
def test_ages_read_easily(seconds: float, said: str) -> None:
    assert bot.health._ago(1e6 + seconds, 1e6) == said
