"""Start-up stays light: `--help` loads click and little else, nothing loads numpy but the chart.

The figures themselves (seconds, megabytes) are bench/startup_bench.py's; these tests check
what makes them, without a clock: which modules a fresh interpreter has loaded, that the
numpy hook only hides numpy from sqlite_utils, and that the command menus go out at once.
"""

from __future__ import annotations

import ast
import asyncio
import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from telegram.error import InvalidToken

import bot.cli
import bot.lease
import bot.run_cli
from bot.content import DEFAULT_CONTENT_DIR, load_yaml
from bot.storage import Storage
from flows.spec import ContentError
from tests.botenv import BotEnv
from tests.fakebot import FakeBotAPI
from tests.fakebot.server import Exchange, FakeBotServer
from tests.killharness import bot_env
from tests.stats_helpers import outcome

ROOT = Path(__file__).resolve().parent.parent
WATCHED = ("numpy", "pandas", "matplotlib", "telegram", "httpx", "sqlite_utils", "yaml")
# Appended to a probe: which WATCHED modules the interpreter has loaded, as its last line.
REPORT = f"import json, sys; print(json.dumps(sorted(m for m in {WATCHED!r} if m in sys.modules)))"


def loaded_after(code: str, cwd: Path, **env: str) -> list[str]:
    """The WATCHED modules a fresh interpreter has loaded after running `code`."""
    done = subprocess.run(
        [sys.executable, "-c", f"{code}\n{REPORT}"],
        cwd=cwd,  # no developer .env
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


def command(*argv: str) -> str:
    """A probe that runs the command line as the console script does (exit status 0)."""
    return f"from bot.cli import main\nassert main({list(argv)!r}) == 0"


# --- the command line ----------------------------------------------------------------------


def test_importing_the_command_line_loads_no_telegram_database_or_yaml(tmp_path: Path) -> None:
    assert loaded_after("import bot.cli", tmp_path) == []


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["run", "--help"], ["broadcast", "send", "--help"], ["stats", "--help"]],
    ids=" ".join,
)
def test_help_loads_no_telegram_database_or_yaml(tmp_path: Path, argv: list[str]) -> None:
    assert loaded_after(command(*argv), tmp_path) == []


def test_a_command_loads_what_it_needs_and_not_numpy(tmp_path: Path) -> None:
    db = str(tmp_path / "bot.sqlite3")
    loaded = loaded_after(command("db", "migrate"), tmp_path, DATABASE_PATH=db)
    assert "sqlite_utils" in loaded
    assert not {"numpy", "pandas", "telegram", "httpx"} & set(loaded)


@pytest.fixture
def seeded_db(tmp_path: Path) -> Path:
    path = tmp_path / "bot.sqlite3"
    storage = Storage(path)
    storage.migrate()
    storage.db.table("outcomes").insert_all(outcome(12))
    storage.close()
    return path


def test_the_chart_still_gets_numpy(seeded_db: Path) -> None:
    chart = seeded_db.parent / "stats.png"
    code = command("stats", "--format", "json", "--chart", str(chart))
    code += "\nimport numpy, sqlite_utils.db\nassert sqlite_utils.db.np is None"
    loaded = loaded_after(code, seeded_db.parent, DATABASE_PATH=str(seeded_db))
    assert {"matplotlib", "numpy", "sqlite_utils"} <= set(loaded)
    assert chart.read_bytes().startswith(b"\x89PNG")


def test_the_lease_wait_outlasts_the_lease() -> None:
    # bot.run_cli holds the number itself (bot.lease loads the database library).
    assert bot.run_cli.LEASE_WAIT == bot.lease.TTL + 15


# --- the numpy hook (bot/__init__.py) ------------------------------------------------------


def test_sqlite_utils_loads_without_numpy_and_numpy_still_loads(tmp_path: Path) -> None:
    code = (
        "import bot.storage, sqlite_utils.db\n"
        "assert sqlite_utils.db.np is None and 'numpy' not in sys.modules\n"
        "import numpy\n"
        "assert numpy.zeros(3).sum() == 0"
    )
    assert loaded_after(f"import sys\n{code}", tmp_path) == ["numpy", "sqlite_utils"]


def test_numpy_loaded_first_is_left_alone(tmp_path: Path) -> None:
    code = "import numpy, bot.storage, sqlite_utils.db\nassert sqlite_utils.db.np is numpy"
    assert loaded_after(code, tmp_path) == ["numpy", "sqlite_utils"]


@pytest.mark.skipif(sys.platform == "win32", reason="the Windows zones are real there")
def test_dateutil_skips_the_windows_zones_without_loading_ctypes(tmp_path: Path) -> None:
    code = (
        "import sys, bot.storage, sqlite_utils.db, dateutil.tz.tz as tz\n"
        "assert tz.tzwin is None and 'ctypes' not in sys.modules, sorted(sys.modules)\n"
        "try:\n    import dateutil.tz.win\nexcept ImportError:\n    pass\n"
        "else:\n    raise AssertionError('the zones load here: the hook changed something')"
    )
    assert loaded_after(code, tmp_path) == ["sqlite_utils"]


def _guarded_by_if_np(tree: ast.Module) -> list[int]:
    """Lines where a module reads `np` outside an `if np:` block (the import itself aside)."""
    unguarded: list[int] = []

    def visit(node: ast.AST, guarded: bool) -> None:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "np":
            for child in node.body:
                visit(child, True)
            for child in node.orelse:
                visit(child, guarded)
            return
        reads_np = isinstance(node, ast.Name) and node.id == "np" and isinstance(node.ctx, ast.Load)
        if reads_np and not guarded:
            unguarded.append(node.lineno)
        for child in ast.iter_child_nodes(node):
            visit(child, guarded)

    visit(tree, False)
    return unguarded


def test_the_installed_sqlite_utils_uses_numpy_only_behind_if_np() -> None:
    """What the hook relies on: with numpy hidden, sqlite_utils sets np = None and never
    touches it. A newer sqlite-utils that does would fail here, not in production."""
    import sqlite_utils

    package = Path(sqlite_utils.__file__).parent
    for path in sorted(package.glob("*.py")):
        source = path.read_text(encoding="utf-8")
        if path.name != "db.py":
            assert "numpy" not in source, path
            continue
        assert 'importlib.import_module("numpy")' in source
        assert _guarded_by_if_np(ast.parse(source)) == [], path


# --- `iep-bot run` --------------------------------------------------------------------------


def test_run_polls_without_loading_numpy_or_matplotlib(tmp_path: Path) -> None:
    """The real `iep-bot run`, until its first long poll, then stopped as an operator does;
    it reports what it loaded as it exits."""
    polled: list[str] = []

    def before(exchange: Exchange) -> None:
        polled.append(exchange.method)

    probe = (
        f"import atexit\natexit.register(exec, {REPORT!r}, {{}})\n"
        "from bot.cli import main\nraise SystemExit(main(['run']))"
    )
    with FakeBotServer() as server:
        server.before = before
        env = bot_env(tmp_path / "bot.sqlite3", TELEGRAM_API_URL=server.url)
        proc = subprocess.Popen(
            [sys.executable, "-c", probe],
            cwd=tmp_path,
            env={**env, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 30
            while "getUpdates" not in polled and proc.poll() is None:
                assert time.monotonic() < deadline, "the bot did not poll within 30 s"
                time.sleep(0.02)
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert proc.returncode == 0, err[-2000:]
    loaded = set(json.loads(out.strip().splitlines()[-1]))
    assert {"telegram", "sqlite_utils"} <= loaded  # it did run
    assert not {"numpy", "pandas", "matplotlib"} & loaded


def _menus_in_flight(api: FakeBotAPI) -> list[int]:
    """Make every setMyCommands wait a moment; the list fills with how many were waiting as
    each arrived."""
    waiting = [0]
    seen: list[int] = []

    async def sleep(_seconds: float) -> None:
        waiting[0] += 1
        seen.append(waiting[0])
        for _ in range(20):  # a few turns of the loop: time for the others to arrive
            await asyncio.sleep(0)
        waiting[0] -= 1

    api.sleep = sleep
    api.slow("setMyCommands", 1.0, times=100)
    return seen


async def test_every_command_menu_goes_out_at_once(env: BotEnv) -> None:
    in_flight = _menus_in_flight(env.api)
    await env.app.post_init(env.app)
    await env.app.post_shutdown(env.app)  # post_init started both engines
    menus = len(env.api.calls_to("setMyCommands"))
    assert menus == 4  # two languages, for everyone and in the staff member's chat
    assert max(in_flight) == menus  # all at once, not one after another
    assert len(env.api.my_commands) == menus


async def test_a_token_refused_at_the_menus_still_stops_start_up(env: BotEnv) -> None:
    env.api.fail("setMyCommands", 401, description="Unauthorized")  # the first menu call
    _menus_in_flight(env.api)  # the others take a moment: they are on the way meanwhile
    with pytest.raises(InvalidToken):
        await env.app.post_init(env.app)
    # Every other menu call was answered before start-up stopped: none is left running.
    assert len(env.api.calls_to("setMyCommands")) == 4
    assert len(env.api.my_commands) == 3


# --- content -------------------------------------------------------------------------------


class _PurePython(yaml.SafeLoader):
    """PyYAML's own parser, in Python, with the content's booleans (only true/false)."""


_PurePython.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_PurePython.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile("^(?:true|false)$"), list("tf")
)


@pytest.mark.parametrize(
    "path", sorted(DEFAULT_CONTENT_DIR.rglob("*.yaml")), ids=lambda p: str(p.relative_to(ROOT))
)
def test_every_content_file_reads_as_pyyaml_reads_it(path: Path) -> None:
    with path.open(encoding="utf-8") as fh:
        expected: Any = yaml.load(fh, Loader=_PurePython)
    assert load_yaml(path) == expected


def test_only_true_and_false_are_booleans(tmp_path: Path) -> None:
    path = tmp_path / "ui.yaml"
    path.write_text("a: yes\nb: on\nc: no\nd: true\ne: false\n", encoding="utf-8")
    assert load_yaml(path) == {"a": "yes", "b": "on", "c": "no", "d": True, "e": False}


def test_a_syntax_error_is_told_in_pyyaml_words(tmp_path: Path) -> None:
    """As before libyaml: PyYAML says what it found where ("but got ':'")."""
    path = tmp_path / "ui.yaml"
    path.write_text("menu:\n  start: [Start\n  help: Help\n", encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        load_yaml(path)
    with path.open(encoding="utf-8") as fh, pytest.raises(yaml.YAMLError) as pyyaml:
        yaml.load(fh, Loader=_PurePython)
    words = str(pyyaml.value).replace("\n", " ")
    assert str(caught.value) == str(ContentError(str(path), "(syntax)", words))
    assert "but got ':'" in words and "line 3, column 7" in words
