"""The container image and the platform files: what the image does, tested with or without an
engine.

With a container engine (`docker info` succeeds) the image is built and run against the fake
Bot API. Without one, which is the case on the development machines, the Dockerfile is read
and what the image does is done without it: the real `iep-bot run` as an unprivileged user,
with a fresh empty directory where the volume would be, must create and migrate the database
on its first start and answer a parent.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import sqlite3
import subprocess
import sys
import sysconfig
import tempfile
import time
import tomllib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakebot.api import FakeBotAPI
from tests.fakebot.server import FakeBotServer
from tests.killharness import bot_env

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
STOP_GRACE = 30  # seconds the bot may need to stop (docs/deploy.md)
NOBODY = 65534
CHAT = 737373


def directives(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    found: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        instruction, _, args = line.partition(" ")
        found.append((instruction.upper(), args.strip()))
    return found


def final_stage() -> list[tuple[str, str]]:
    """The directives of the last stage (the image that runs)."""
    steps = directives()
    last_from = max(i for i, (name, _) in enumerate(steps) if name == "FROM")
    return steps[last_from:]


def env_of(steps: list[tuple[str, str]]) -> dict[str, str]:
    values: dict[str, str] = {}
    for name, args in steps:
        if name == "ENV":
            for pair in shlex.split(args):
                key, _, value = pair.partition("=")
                values[key] = value
    return values


def exec_form(args: str) -> list[str]:
    parsed = json.loads(args)
    assert isinstance(parsed, list), f"exec form expected: {args}"
    return [str(part) for part in parsed]


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


# --- the Dockerfile, read ------------------------------------------------------------------


def test_the_image_is_slim_python_and_runs_as_a_user_of_its_own() -> None:
    steps = final_stage()
    image = steps[0][1]
    assert image in ("python:3.11-slim", "python:3.12-slim")
    users = [args for name, args in steps if name == "USER"]
    assert users and users[-1] not in ("root", "0", "0:0")


def test_the_database_is_on_the_volume_and_the_volume_is_the_users() -> None:
    steps = final_stage()
    env = env_of(steps)
    [volume] = [exec_form(args) for name, args in steps if name == "VOLUME"]
    assert volume == ["/data"]
    assert env["DATABASE_PATH"] == "/data/bot.sqlite3"
    assert str(Path(env["DATABASE_PATH"]).parent) == volume[0]
    user = [args for name, args in steps if name == "USER"][-1]
    runs = " ".join(args for name, args in steps if name == "RUN")
    assert f"chown {user}:{user} /data" in runs


def test_the_image_starts_as_the_procfile_worker_and_checks_itself_with_status() -> None:
    steps = final_stage()
    [cmd] = [exec_form(args) for name, args in steps if name == "CMD"]
    assert cmd == shlex.split(procfile()["worker"]) == ["iep-bot", "run"]
    [check] = [args for name, args in steps if name == "HEALTHCHECK"]
    assert check.split(" CMD ", 1)[1] == '["iep-bot", "status"]'
    env = env_of(steps)
    assert env["PYTHONUNBUFFERED"] == "1"
    assert env["PORT"] == "8080" and "EXPOSE" in dict(steps)


def test_no_secret_and_no_dev_tools_go_into_the_image() -> None:
    text = DOCKERFILE.read_text()
    for name in ("TELEGRAM_BOT_TOKEN", "PSEUDONYM_KEY", "WEBHOOK_SECRET", "BOOKING_URL"):
        assert name not in env_of(directives())
    assert ".env" not in " ".join(args for name, args in directives() if name in ("COPY", "ADD"))
    assert "[dev]" not in text and "pytest" not in text
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    for pattern in (".env", ".venv", "data/", "*.sqlite3", ".git", "tests/"):
        assert pattern in ignored


def test_the_procfile_has_both_modes_and_no_release_step() -> None:
    assert procfile() == {"web": "iep-bot run --webhook", "worker": "iep-bot run"}


def test_the_fly_config_mounts_the_volume_and_waits_for_a_clean_stop() -> None:
    fly: dict[str, Any] = tomllib.loads((ROOT / "fly.toml").read_text())
    image_env = env_of(final_stage())
    assert fly["mounts"]["destination"] == "/data"
    assert fly["env"]["DATABASE_PATH"] == image_env["DATABASE_PATH"]
    assert fly["kill_signal"] == "SIGTERM" and fly["kill_timeout"] >= STOP_GRACE
    service = fly["http_service"]
    assert str(service["internal_port"]) == fly["env"]["PORT"] == image_env["PORT"]
    assert service["auto_stop_machines"] == "off" and service["min_machines_running"] == 1
    [check] = service["checks"]
    assert check["path"] == "/health" and check["method"] == "GET"
    assert fly["env"]["WEBHOOK_URL"].startswith("https://")
    assert not fly["env"]["WEBHOOK_URL"].endswith("/health")


# --- what the image does, without an engine ------------------------------------------------


def start_update(api: FakeBotAPI) -> dict[str, Any]:
    return {
        "update_id": api.next_update_id(),
        "message": {
            "message_id": api.next_message_id(CHAT),
            "date": int(time.time()),
            "chat": {"id": CHAT, "type": "private", "first_name": "Rosa"},
            "from": {"id": CHAT, "is_bot": False, "first_name": "Rosa", "language_code": "es"},
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


@contextlib.contextmanager
def volume_owned_by(uid: int) -> Iterator[Path]:
    """A fresh empty directory where the volume would be, as the image's /data: owned by the
    user, under a home the user can enter (pytest's tmp_path is root's alone)."""
    home = Path(tempfile.mkdtemp(prefix="iep-bot-image-"))
    try:
        (home / "data").mkdir()
        for path in (home, home / "data"):
            os.chown(path, uid, uid)
        yield home
    finally:
        shutil.rmtree(home, ignore_errors=True)


AS_NOBODY: dict[str, Any] = {"user": NOBODY, "group": NOBODY, "extra_groups": []}


def python_for_nobody() -> tuple[str, dict[str, str]] | None:
    """An interpreter the unprivileged user may run, and the environment that finds the bot
    and its libraries (read-only to that user): this one, else the system's of the same
    version (this one may live under root's home, as pyenv's does), else None."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    libraries = os.pathsep.join([str(ROOT), sysconfig.get_path("purelib")])
    candidates: list[tuple[str, dict[str, str]]] = [
        (sys.executable, {}),
        (f"/usr/bin/python{version}", {"PYTHONPATH": libraries, "PYTHONNOUSERSITE": "1"}),
    ]
    for python, env in candidates:
        try:
            done = subprocess.run(
                [python, "-c", "import sys, bot; print(tuple(sys.version_info[:2]))"],
                cwd="/",
                env={"PATH": "/usr/bin:/bin", **env},
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
                **AS_NOBODY,
            )
        except OSError:  # not there, or not for this user
            continue
        if done.returncode == 0 and done.stdout.strip() == str(tuple(sys.version_info[:2])):
            return python, env
    return None


@pytest.mark.skipif(os.name != "posix" or os.geteuid() != 0, reason="needs root to become nobody")
def test_first_start_as_an_unprivileged_user_creates_the_database_and_answers() -> None:
    found = python_for_nobody()
    if found is None:
        pytest.skip("no Python of this version that the unprivileged user may run")
    python, python_env = found
    with FakeBotServer() as server, volume_owned_by(NOBODY) as home:
        db_path = home / "data" / "bot.sqlite3"
        env = bot_env(db_path, TELEGRAM_API_URL=server.url)
        env.update(
            HOME=str(home),
            PYTHONUNBUFFERED="1",
            PYTHONDONTWRITEBYTECODE="1",
            PORT="8080",
            **python_env,
        )
        # The Procfile's worker command (the image's CMD), through that Python.
        command = [python, "-m", "bot", *shlex.split(procfile()["worker"])[1:]]
        server.call(lambda: server.api.push_update(start_update(server.api)))
        proc = subprocess.Popen(
            command,
            cwd=home,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            **AS_NOBODY,
        )
        try:
            deadline = time.monotonic() + 30
            while not server.call(lambda: server.api.chats.get(CHAT)):
                assert proc.poll() is None, proc.communicate()[0]
                assert time.monotonic() < deadline, "no answer within 30 s"
                time.sleep(0.05)
            # What the image's HEALTHCHECK runs, as the same user.
            healthy = subprocess.run(
                [python, "-m", "bot", "status"],
                cwd=home,
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
                **AS_NOBODY,
            )
            proc.terminate()
            output, _ = proc.communicate(timeout=STOP_GRACE)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        [welcome] = server.call(lambda: [m.text for m in server.api.chats[CHAT]])
        assert proc.returncode == 0, output
        assert healthy.returncode == 0, healthy.stdout + healthy.stderr
        assert healthy.stdout.startswith("running (polling) on ")
        assert "504" in welcome
        assert db_path.stat().st_uid == NOBODY
        with contextlib.closing(sqlite3.connect(db_path)) as db:
            names = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        assert {"sessions", "subscribers", "broadcasts", "heartbeat"} <= names


# --- the image itself, with an engine -------------------------------------------------------


def engine_available() -> bool:
    if shutil.which("docker") is None:
        return False
    done = subprocess.run(["docker", "info"], capture_output=True, timeout=30, check=False)
    return done.returncode == 0


@pytest.mark.skipif(
    not engine_available(),
    reason="no container engine here (`docker info` fails): the image is read and its start"
    " is run without it above",
)
def test_the_image_builds_runs_as_its_user_and_answers(tmp_path: Path) -> None:
    tag = f"iep-bot-test:{uuid.uuid4().hex[:8]}"
    volume = f"iep-bot-test-{uuid.uuid4().hex[:8]}"
    name = f"iep-bot-test-{uuid.uuid4().hex[:8]}"
    subprocess.run(["docker", "build", "-t", tag, str(ROOT)], check=True, timeout=900)
    try:
        with FakeBotServer() as server:
            server.call(lambda: server.api.push_update(start_update(server.api)))
            settings = bot_env(Path("/data/bot.sqlite3"), TELEGRAM_API_URL=server.url)
            env_file = tmp_path / "bot.env"
            keep = (
                "TELEGRAM_BOT_TOKEN",
                "PSEUDONYM_KEY",
                "BOOKING_URL",
                "PRACTICE_NAME",
                "TELEGRAM_API_URL",
                "STAFF_IDS",
                "QUIET_HOURS",
            )
            env_file.write_text("".join(f"{k}={settings[k]}\n" for k in keep))
            subprocess.run(
                ["docker", "run", "-d", "--name", name, "--network", "host",
                 "-v", f"{volume}:/data", "--env-file", str(env_file), tag],
                check=True, timeout=60,
            )  # fmt: skip
            deadline = time.monotonic() + 60
            while not server.call(lambda: server.api.chats.get(CHAT)):
                assert time.monotonic() < deadline, "the container did not answer in 60 s"
                time.sleep(0.2)
            whoami = subprocess.run(
                ["docker", "exec", name, "id", "-u"], capture_output=True, text=True, check=True
            )
            assert whoami.stdout.strip() != "0"
            status = subprocess.run(["docker", "exec", name, "iep-bot", "status"], check=False)
            assert status.returncode == 0
            subprocess.run(["docker", "stop", "-t", str(STOP_GRACE), name], check=True)
            code = subprocess.run(
                ["docker", "inspect", "-f", "{{.State.ExitCode}}", name],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            assert code.stdout.strip() == "0"
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)
        subprocess.run(["docker", "volume", "rm", volume], capture_output=True, check=False)
        subprocess.run(["docker", "rmi", tag], capture_output=True, check=False)
