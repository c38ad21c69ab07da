"""Quiet, useful logs and error alerts for staff (issue 12, "knowing it is alive").

An operator reads one line per problem (type and place, never what a parent typed); the
traceback is there at LOG_LEVEL=DEBUG. Staff hear of an error in Telegram once per kind an
hour, with nothing of any parent in the alert.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import AsyncIterator

import pytest

from bot.alerts import AlertGate
from bot.config import Settings
from bot.content import Content
from bot.logs import configure_logging, log_failure
from tests.botenv import BotEnv
from tests.clock import FakeClock
from tests.conftest import STAFF_ID, TOKEN
from tests.parents import start_screening

PRIVATE = ("Jayden", "Mariposa", "mariposa_p")


def a_bug() -> None:
    raise KeyError("Jayden")  # an exception's message may hold what a parent typed


def caught() -> BaseException:
    try:
        a_bug()
    except KeyError as exc:
        return exc
    raise AssertionError("unreachable")


# --- the gate --------------------------------------------------------------------------------


def test_one_alert_per_kind_an_hour_with_the_count_of_the_quiet_ones() -> None:
    now = [0.0]
    gate = AlertGate(clock=lambda: now[0])
    assert gate.admit("KeyError at bot/x.py:1 in f") == 1
    assert gate.admit("ValueError at bot/y.py:2 in g") == 1  # another kind: its own hour
    now[0] = 1800
    assert gate.admit("KeyError at bot/x.py:1 in f") is None
    assert gate.admit("KeyError at bot/x.py:1 in f") is None
    now[0] = 3600
    assert gate.admit("KeyError at bot/x.py:1 in f") == 3  # two quiet ones and this one
    assert gate.admit("KeyError at bot/x.py:1 in f") is None
    now[0] = 7300
    assert gate.admit("KeyError at bot/x.py:1 in f") == 2


# --- log lines -------------------------------------------------------------------------------


def test_a_failure_is_one_line_naming_type_and_place_and_the_traceback_is_for_debug(
    capsys: pytest.CaptureFixture[str],
) -> None:
    log = logging.getLogger("bot.example")
    configure_logging("INFO")
    log_failure(log, "error while handling an update", caught())
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1
    assert "error while handling an update: KeyError at tests/test_logs_and_alerts.py:" in lines[0]
    assert "in a_bug" in lines[0]
    assert "Jayden" not in lines[0]

    configure_logging("DEBUG")
    log_failure(log, "error while handling an update", caught())
    shown = capsys.readouterr().err
    assert "Traceback (most recent call last)" in shown
    assert shown.splitlines()[0].endswith("in a_bug")


def test_json_lines_parse_and_keep_secrets_out(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", secrets=[TOKEN], json_lines=True)
    logging.getLogger("bot.example").warning("token %s in a message", TOKEN)
    log_failure(logging.getLogger("bot.example"), "broadcast engine error", caught())
    lines = capsys.readouterr().err.splitlines()
    entries = [json.loads(line) for line in lines]
    assert [e["level"] for e in entries] == ["WARNING", "ERROR"]
    assert entries[0]["message"] == "token [redacted] in a message"
    assert entries[1]["logger"] == "bot.example"
    assert {"time", "level", "logger", "message"} == set(entries[0])
    assert TOKEN not in "".join(lines)


def test_the_state_machine_library_is_quiet_by_default() -> None:
    configure_logging("INFO")
    assert not logging.getLogger("transitions").isEnabledFor(logging.INFO)
    assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)
    assert logging.getLogger("bot").isEnabledFor(logging.INFO)


# --- alerts through Telegram -----------------------------------------------------------------


@pytest.fixture
async def alerting(
    settings: Settings, content: Content, clock: FakeClock
) -> AsyncIterator[tuple[BotEnv, list[float]]]:
    env = await BotEnv(settings, content, clock).start()
    now = [0.0]
    env.app.alerts.gate.clock = lambda: now[0]
    yield env, now
    await env.stop()


async def settle(env: BotEnv) -> None:
    """Let the alert tasks (started by the error handler, never awaited by it) finish."""
    for task in list(env.app.alerts._sending):
        await task


async def test_an_error_reaches_staff_once_an_hour_with_nothing_of_the_parent(
    alerting: tuple[BotEnv, list[float]],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    env, now = alerting
    staff = env.client(chat_id=STAFF_ID, user_id=STAFF_ID, first_name="Ana", username="ana_staff")
    await staff.send("/help")  # Telegram knows the staff chat once they have written
    maria = env.client(first_name="Mariposa", username="mariposa_p")
    await start_screening(maria)

    def broken(*_args: object) -> None:
        a_bug()

    monkeypatch.setattr(env.app.services.conversation, "press", broken)
    mark = staff.mark()
    with caplog.at_level(logging.INFO):
        await maria.press("In kindergarten or older")
        await settle(env)
    assert "something went wrong" in maria.last_text
    alerts = [m.text for m in staff.new_since(mark)]
    assert len(alerts) == 1
    assert "The bot hit an error while answering someone: KeyError at" in alerts[0]
    assert "in a_bug" in alerts[0]
    for private in (*PRIVATE, "4242"):
        assert private not in alerts[0]
        assert private not in caplog.text

    # The same error again within the hour: the parent is told, staff are not.
    mark = staff.mark()
    await maria.press("In kindergarten or older")
    await settle(env)
    assert staff.new_since(mark) == []

    now[0] = 3601
    await maria.press("In kindergarten or older")
    await settle(env)
    again = [m.text for m in staff.new_since(mark)]
    assert len(again) == 1 and "It happened 2 times since the last alert" in again[0]


async def test_alerts_go_to_the_alert_chat_when_one_is_set(
    settings: Settings, content: Content, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    group = -1001234567890
    env = await BotEnv(dataclasses.replace(settings, alert_chat_id=group), content, clock).start()
    try:
        team = env.client(chat_id=group, user_id=STAFF_ID, language_code="es")
        await team.send("/help")
        staff = env.client(chat_id=STAFF_ID, user_id=STAFF_ID)
        await staff.send("/help")
        marks = team.mark(), staff.mark()
        env.app.alerts.report(caught(), "job")
        await settle(env)
        (alert,) = [m.text for m in team.new_since(marks[0])]
        assert "in a scheduled job" in alert  # a group has no language of its own: English
        assert staff.new_since(marks[1]) == []
    finally:
        await env.stop()


async def test_a_broadcast_engine_failure_alerts_staff(
    alerting: tuple[BotEnv, list[float]],
) -> None:
    env, _ = alerting
    staff = env.client(chat_id=STAFF_ID, user_id=STAFF_ID, language_code="es")
    await staff.send("/help")
    mark = staff.mark()
    env.app.engine.on_failure(caught())
    await settle(env)
    (alert,) = [m.text for m in staff.new_since(mark)]
    assert "El bot tuvo un error al enviar mensajes masivos: KeyError at" in alert
