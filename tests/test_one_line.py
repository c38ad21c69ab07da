"""Every start-up and command-line failure is one line on stderr: the problem and the fix.

Each case runs the real console script, as an operator would, in a clean environment, and
checks what the operator sees: exit status 2, exactly one non-empty line on stderr, no
traceback, no secret, and the words that name the problem. The cases are issue 12's: a
database that cannot be used (for each way it can fail), odd settings, odd files and numbers.

At the end: the check that no test's output holds a secret (tests/conftest.py SecretScan).
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.storage import Storage
from tests.conftest import PSEUDONYM_KEY, SECRETS, TOKEN
from tests.killharness import bot_command
from tests.stats_helpers import outcome

pytest_plugins = ["pytester"]  # the secret scan's own test runs pytest on leaky tests

ROOT = Path(__file__).resolve().parent.parent
SKIPPED = 77  # the launcher's status when it cannot take root's power to write anywhere
# Runs the command with limits an operator's machine may impose: a file-size limit (a full
# disk, as SQLite sees it: its writes fail) and, for root, no power to write where the mode
# bits forbid it (root ignores them otherwise). Then it becomes the command (exec).
LAUNCH = textwrap.dedent(
    """
    import ctypes, os, resource, signal, sys
    file_size, as_user, *argv = sys.argv[1:]
    if int(file_size):
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write fails instead of killing us
        resource.setrlimit(resource.RLIMIT_FSIZE, (int(file_size), int(file_size)))
    if as_user == "1" and os.geteuid() == 0:
        libc = ctypes.CDLL(None, use_errno=True)
        # PR_CAPBSET_DROP (24): CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, gone for good.
        if any(libc.prctl(24, cap, 0, 0, 0) != 0 for cap in (1, 2, 3)):
            sys.exit(77)
    os.execv(argv[0], argv)
    """
)

Prepare = Callable[[Path, contextlib.ExitStack], dict[str, str]]


def nothing(tmp: Path, stack: contextlib.ExitStack) -> dict[str, str]:
    return {}


def database(tmp: Path) -> Path:
    """A migrated database with a dozen screenings, at the default DATABASE_PATH of a case."""
    path = tmp / "bot.sqlite3"
    storage = Storage(path)
    storage.migrate()
    storage.db.table("outcomes").insert_all(outcome(12))
    storage.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # everything in the file itself
    storage.close()
    return path


def seeded(tmp: Path, stack: contextlib.ExitStack) -> dict[str, str]:
    database(tmp)
    return {}


def read_only_folder(tmp: Path, stack: contextlib.ExitStack) -> dict[str, str]:
    folder = tmp / "read-only"
    folder.mkdir(mode=0o555)
    stack.callback(folder.chmod, 0o755)
    return {"DATABASE_PATH": str(folder / "bot.sqlite3")}


def in_read_only_folder(tmp: Path, stack: contextlib.ExitStack) -> dict[str, str]:
    folder = Path(read_only_folder(tmp, stack)["DATABASE_PATH"]).parent
    return {"DATABASE_PATH": str(folder / "new" / "bot.sqlite3")}


def under_a_file(tmp: Path, stack: contextlib.ExitStack) -> dict[str, str]:
    (tmp / "notes.txt").write_text("a file, not a folder")
    return {"DATABASE_PATH": str(tmp / "notes.txt" / "data" / "bot.sqlite3")}


def under_proc(tmp: Path, stack: contextlib.ExitStack) -> dict[str, str]:
    if not Path("/proc/self").is_dir():
        pytest.skip("no /proc here")
    return {"DATABASE_PATH": "/proc/iep-bot-test/bot.sqlite3"}


def a_folder(tmp: Path, stack: contextlib.ExitStack) -> dict[str, str]:
    (tmp / "data").mkdir()
    return {"DATABASE_PATH": str(tmp / "data")}


def junk(tmp: Path, stack: contextlib.ExitStack) -> dict[str, str]:
    (tmp / "bot.sqlite3").write_text("name,count\nnot,a database\n" * 50)
    return {}


def corrupted(tmp: Path, stack: contextlib.ExitStack) -> dict[str, str]:
    path = database(tmp)
    data = bytearray(path.read_bytes())
    page = 4096  # the first page (the header, the schema's root) stays; the rest is damaged
    data[page:] = b"\x55" * (len(data) - page)
    path.write_bytes(bytes(data))
    return {}


def read_only_file(tmp: Path, stack: contextlib.ExitStack) -> dict[str, str]:
    path = tmp / "bot.sqlite3"  # a database the migrations have not touched: they must write
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE notes (line TEXT)")
        db.commit()
    path.chmod(0o444)
    return {}


def locked(tmp: Path, stack: contextlib.ExitStack) -> dict[str, str]:
    """Another program holds the database exclusively for as long as the case runs."""
    path = database(tmp)
    holder = stack.enter_context(contextlib.closing(sqlite3.connect(path, isolation_level=None)))
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("CREATE TABLE IF NOT EXISTS held (x)")  # a write takes the lock, and keeps it
    return {}


def text_file(content: bytes) -> Prepare:
    def prepare(tmp: Path, stack: contextlib.ExitStack) -> dict[str, str]:
        (tmp / "tip.html").write_bytes(content)
        return {}

    return prepare


def fifo(tmp: Path, stack: contextlib.ExitStack) -> dict[str, str]:
    os.mkfifo(tmp / "tip.html")  # nobody ever writes: reading it would wait forever
    return {}


@dataclass(frozen=True)
class Case:
    id: str
    argv: tuple[str, ...]  # "{tmp}" stands for the case's folder
    words: tuple[str, ...]  # the line says all of these
    prepare: Prepare = nothing
    env: tuple[tuple[str, str], ...] = ()
    file_size: int = 0  # bytes a file may grow to (0: no limit)
    as_user: bool = False  # without root's power to write anywhere


def case(
    id: str,
    argv: str,
    *words: str,
    prepare: Prepare = nothing,
    file_size: int = 0,
    as_user: bool = False,
    **env: str,
) -> Case:
    return Case(id, tuple(argv.split()), words, prepare, tuple(env.items()), file_size, as_user)


DATABASE = [
    case(
        "read-only-folder",
        "db migrate",
        "Database problem",
        "cannot open or create",
        "writable",
        prepare=read_only_folder,
        as_user=True,
    ),
    case(
        "read-only-folder/status",
        "broadcast status",
        "Database problem",
        "writable",
        prepare=read_only_folder,
        as_user=True,
    ),
    case(
        "folder-under-a-file",
        "db migrate",
        "Database problem",
        "notes.txt is a file",
        prepare=under_a_file,
    ),
    case("folder-under-a-file/chat", "chat", "notes.txt is a file", prepare=under_a_file),
    case(
        "folder-under-proc",
        "db migrate",
        "Database problem",
        "cannot create the folder",
        prepare=under_proc,
    ),
    case(
        "folder-not-permitted",
        "broadcast status",
        "Database problem",
        "may not create",
        "Permission denied",
        prepare=in_read_only_folder,
        as_user=True,
    ),
    case(
        "path-is-a-folder",
        "db migrate",
        "Database problem",
        "is a folder",
        "bot.sqlite3",
        prepare=a_folder,
    ),
    case("path-is-a-folder/stats", "stats", "is a folder", prepare=a_folder),
    case("path-is-a-folder/status", "broadcast status", "is a folder", prepare=a_folder),
    case("junk-file", "db migrate", "Database problem", "not an SQLite database", prepare=junk),
    case("junk-file/stats", "stats", "not an SQLite database", prepare=junk),
    case("junk-file/status", "broadcast status", "not an SQLite database", prepare=junk),
    case(
        "corrupted", "db migrate", "Database problem", "is damaged", ".recover", prepare=corrupted
    ),
    case("corrupted/stats", "stats", "is damaged", prepare=corrupted),
    case("corrupted/status", "broadcast status", "is damaged", prepare=corrupted),
    case(
        "read-only-file",
        "db migrate",
        "Database problem",
        "read-only",
        prepare=read_only_file,
        as_user=True,
    ),
    case(
        "read-only-file/status",
        "broadcast status",
        "read-only",
        prepare=read_only_file,
        as_user=True,
    ),
    # stats waits 5 s for the lock (bot/stats/aggregate.py); open_storage's 30 s wait is
    # tests/test_delivery_trust.py's (with a short patience).
    case("locked", "stats", "Database problem", "locked by another program", prepare=locked),
    case("disk-full", "db migrate", "Database problem", "is the disk full", file_size=100_000),
]
SETTINGS = [
    *(
        case(f"timezone-{zone}", "stats", "TIMEZONE", "America/Chicago", TIMEZONE=zone)
        for zone in ("America", "../x", "America/", "Etc/../UTC")
    ),
    *(
        case(f"{name}-{url}", "stats", name, "URL", **{name: url})
        for name in ("BOOKING_URL", "TELEGRAM_API_URL", "WEBHOOK_URL")
        for url in ("https://[::1", "http://[bad]/", "https://h.org:99999/", "https://h.org:port/")
    ),
    case(
        "readme-env/key",
        "run",
        "PSEUDONYM_KEY",
        "README",
        "token_hex",
        PSEUDONYM_KEY='<python -c "import secrets; print(secrets.token_hex(32))">',
        BOOKING_URL="https://your-practice.example/book",
        PRACTICE_NAME="Bright Path Advocacy",
    ),
    case(
        "readme-env/booking",
        "run",
        "BOOKING_URL",
        "example address",
        BOOKING_URL="https://your-practice.example/book",
        PRACTICE_NAME="Bright Path Advocacy",
    ),
    case(
        "no-practice-name",
        "run",
        "PRACTICE_NAME is not set",
        BOOKING_URL="https://book.brightpath-advocacy.com/consult",
    ),
    case("key-not-random", "stats", "PSEUDONYM_KEY", "token_hex", PSEUDONYM_KEY="0" * 64),
    case(
        "staff-group-id",
        "stats",
        "STAFF_IDS",
        "group or channel",
        "/whoami",
        STAFF_IDS="-1001234567890",
    ),
    case("staff-23-digits", "stats", "STAFF_IDS", "not a Telegram user id", STAFF_IDS="1" * 23),
]
FILES = [
    case(
        "text-not-utf8",
        "broadcast --text-file {tmp}/tip.html",
        "not UTF-8",
        prepare=text_file(b"\xff\xfeTip"),
    ),
    case("text-endless", "broadcast --text-file /dev/zero", "not a regular file"),
    case(
        "text-too-big",
        "broadcast --text-file {tmp}/tip.html",
        "larger than 64 KB",
        prepare=text_file(b"a" * 70_000),
    ),
    case(
        "text-fifo",
        "broadcast --text-file {tmp}/tip.html --dry-run",
        "not a regular file",
        prepare=fifo,
    ),
    case("text-folder", "broadcast --text-file {tmp}", "not a regular file"),
    case("text-missing", "broadcast --text-file {tmp}/nowhere.html", "No such file"),
    case(
        "out-is-a-file",
        "export --out {tmp}/tip.html",
        "--out",
        "is a file",
        prepare=text_file(b"x"),
    ),
    case(
        "out-under-a-file",
        "export --out {tmp}/tip.html/2026",
        "--out",
        "cannot write",
        prepare=lambda t, s: text_file(b"x")(t, s) | seeded(t, s),
    ),
    case("out-in-proc", "export --out /proc/iep-bot-test", "--out", "cannot write", prepare=seeded),
]
NUMBERS = [
    *(
        case(f"{action}-{number}", f"broadcast {action} {number}", "not a broadcast number")
        for action in ("pause", "resume", "cancel")
        for number in (str(10**25), "0", "-1")
    ),
    *(
        case(f"{command}{option}-{day}", f"{command} {option} {day}", option, words)
        for command in ("stats", "export --out {tmp}/out")
        for option in ("--since", "--until")
        for day, words in (
            ("9999-12-31", "out of range"),
            ("0001-01-01", "out of range"),
            ("2026-02-30", "expected a date like 2026-11-28"),
        )
    ),
]


def run_case(case: Case, tmp: Path) -> subprocess.CompletedProcess[str]:
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "CONTENT_DIR", "TMPDIR")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env |= {
        "TELEGRAM_BOT_TOKEN": TOKEN,  # every case has the secrets to keep: none may show
        "PSEUDONYM_KEY": PSEUDONYM_KEY,
        "DATABASE_PATH": str(tmp / "bot.sqlite3"),
        "QUIET_HOURS": "off",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    with contextlib.ExitStack() as stack:
        env |= case.prepare(tmp, stack) | dict(case.env)
        argv = [part.replace("{tmp}", str(tmp)) for part in case.argv]
        launch = [sys.executable, "-c", LAUNCH, str(case.file_size), str(int(case.as_user))]
        return subprocess.run(
            [*launch, *bot_command(), *argv],
            cwd=tmp,  # no developer .env
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )


@pytest.mark.parametrize("case", DATABASE + SETTINGS + FILES + NUMBERS, ids=lambda c: c.id)
def test_a_failure_is_one_line_naming_the_problem(case: Case, tmp_path: Path) -> None:
    done = run_case(case, tmp_path)
    if done.returncode == SKIPPED and case.as_user:
        pytest.skip("root cannot give up its power to write anywhere here")
    # Shown, so that the secret scan (tests/conftest.py) reads the outputs too.
    print(done.stdout)
    print(done.stderr, file=sys.stderr)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].strip(), done.stderr
    assert not any(secret in done.stderr + done.stdout for secret in SECRETS)
    assert TOKEN.partition(":")[2] not in done.stderr
    missing = [word for word in case.words if word not in lines[0]]
    assert not missing, lines[0]


# --- no secret in any test's output (tests/conftest.py SecretScan) ----------------------------

TOKEN_SHAPE = re.compile(r"\b\d{3,12}:[A-Za-z0-9_-]{30,64}\b")


def test_every_token_the_tests_use_is_a_listed_secret() -> None:
    found = {
        match
        for path in (ROOT / "tests").rglob("*.py")
        for match in TOKEN_SHAPE.findall(path.read_text(encoding="utf-8"))
    }
    assert found and found <= set(SECRETS), sorted(found - set(SECRETS))


CANARY = "canary-secret-0123456789abcdef"
LEAKY_TESTS = f"""
import logging
from click.testing import CliRunner
import click

def test_prints():
    print("the token is {CANARY}")

def test_logs():
    logging.getLogger("x").warning("calling /bot%s/getMe", "{CANARY}")

def test_reads_it_back(capsys):
    print("{CANARY}")
    assert capsys.readouterr().out.strip() == "{CANARY}"

def test_through_click():
    @click.command()
    def show():
        click.echo("{CANARY}", err=True)
    assert CliRunner().invoke(show).exit_code == 0

def test_says_nothing_secret():
    print("nothing to see")
"""


def test_the_secret_scan_fails_each_test_that_shows_a_secret(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        "from tests.conftest import SecretScan\n\n"
        "def pytest_configure(config):\n"
        f"    config.pluginmanager.register(SecretScan([{CANARY!r}]), 'secret-scan')\n"
    )
    pytester.makepyfile(test_leaks=LEAKY_TESTS)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("PYTHONPATH", str(ROOT))
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=4)
    output = result.stdout.str()
    assert "reached this test's output during call" in output
    assert CANARY not in output  # the report shows [secret] where it was
