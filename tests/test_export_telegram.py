"""/export in Telegram: staff pick a period and get one zip of the CSV files `iep-bot export`
writes (the same function builds both); everyone else gets nothing of it."""

from __future__ import annotations

import io
import logging
import zipfile
from pathlib import Path
from typing import Any

import pytest

from bot.callbacks import Action, CallbackCodec, Kind
from bot.content import Content
from bot.stats.worker import StatsUnavailable
from tests.botenv import BotEnv
from tests.fakebot import ChatClient, SentMessage
from tests.fakebot.api import CAPTION_LIMIT
from tests.shell import run
from tests.stats_helpers import (
    EXPORT_FILES,
    PERIOD_BUTTONS,
    after_period,
    in_progress,
    outcome,
    staff_client,
)

ZIP_30_DAYS = "iep-bot-export-2026-10-30-to-2026-11-28.zip"


def seed(env: BotEnv) -> None:
    """The clock says 2026-11-28 15:00 UTC (09:00 in Chicago)."""
    assert env.storage is not None
    env.storage.db["outcomes"].insert_all(
        outcome(9, day="2026-11-27", outcome_id="iep_evaluation", booked=1)
        + outcome(2, day="2026-11-25", outcome_id="iep_review", source="flyer")
        + outcome(3, day="2026-11-25", outcome_id="no_strong_signs", source="pta-smith-family")
        + outcome(6, day="2026-11-20", outcome_id=None, stopped_at="effort", lang="es")
        + outcome(40, day="2026-10-29", outcome_id="plan_504_may_fit")  # 31 days ago
    )
    env.storage.db["sessions"].insert_all(in_progress(1, day="2026-11-28"))


async def export(client: ChatClient, period: str) -> list[SentMessage]:
    """/export, press a period, return what that press brought once its job ended."""
    return await after_period(client, "/export", period)


def unzipped(message: SentMessage) -> dict[str, bytes]:
    assert message.document is not None
    with zipfile.ZipFile(io.BytesIO(message.document)) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}


def rows(file: bytes) -> list[list[str]]:
    import csv

    assert file.startswith(b"\xef\xbb\xbf")  # a BOM: spreadsheets then read UTF-8
    return list(csv.reader(io.StringIO(file.decode("utf-8-sig"))))


async def test_staff_get_one_zip_of_the_csv_files_with_a_caption(env: BotEnv) -> None:
    seed(env)
    staff = staff_client(env)
    await staff.send("/export")
    assert "Statistics for a spreadsheet" in staff.last_text
    assert "Which period? Each one ends today." in staff.last_text
    assert staff.buttons == PERIOD_BUTTONS

    (sent,) = await export(staff, "30 days")
    assert staff.callback_answers[-1] == (None, False, None)  # answered at once
    assert sent.is_document and sent.document_filename == ZIP_30_DAYS
    assert sent.document_mime_type == "application/zip"
    assert sent.text.splitlines() == [
        "Last 30 days (2026-10-30 to 2026-11-28)",
        "A zip of 10 tables (CSV) for a spreadsheet:",
        "• summary: the totals",
        "• outcomes: results of finished screenings",
        "• booking_by_outcome: who tapped “Book” after each result",
        "• dropoff: where unfinished screenings stopped",
        "• by_language: screenings by language",
        "• by_source: screenings by link (source)",
        "• timeline: screenings over time",
        "• letters_by_type: letters made, by letter",
        "• letters_by_language: letters made, by language (en+es is both side by side)",
        "• followup_by_outcome: check-ins by result (sent, answered, asked the school, the school"
        " agreed), by the day they were sent",
        "Totals only, never anyone's answers. Counts under 5 show as “<5”, and small groups"
        " are joined in “other”, so that no parent can be picked out.",
    ]
    assert len(sent.text) <= CAPTION_LIMIT
    assert sent.buttons == PERIOD_BUTTONS  # another period is one tap away
    actions = env.api.calls_to("sendChatAction")
    assert [call.params["action"] for call in actions] == ["upload_document"]

    files = unzipped(sent)
    assert list(files) == EXPORT_FILES
    assert ["sessions_started", "21"] in rows(files["summary.csv"])
    assert ["period_since", "2026-10-30"] in rows(files["summary.csv"])
    assert ["period_until", "2026-11-28"] in rows(files["summary.csv"])
    assert rows(files["outcomes.csv"]) == [
        ["outcome_id", "name", "screenings"],
        ["iep_evaluation", "An IEP evaluation looks worth it", "9"],
        ["other", "other (smaller groups together)", "5"],  # 2 + 3: neither on its own
    ]
    # Nothing of a parent: not a one-off link, not a session, not an answer.
    everything = b"".join(files.values()).decode("utf-8-sig")
    for leak in ("pta-smith-family", "flyer", "session_id", "chat_key", "answers", "{}"):
        assert leak not in everything, leak


async def test_the_zip_holds_exactly_what_iep_bot_export_writes(
    env: BotEnv,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    seed(env)
    (sent,) = await export(staff_client(env), "30 days")
    monkeypatch.chdir(tmp_path)  # no developer .env
    monkeypatch.setenv("DATABASE_PATH", str(env.settings.database_path))
    monkeypatch.delenv("STATS_MIN_CELL", raising=False)
    folder = tmp_path / "export"
    code, out, _ = run(
        capsys, "export", "--out", str(folder), "--since", "2026-10-30", "--until", "2026-11-28"
    )
    assert code == 0, out
    written = {path.name: path.read_bytes() for path in folder.iterdir()}
    assert unzipped(sent) == written  # the same files, byte for byte


async def test_spanish_staff_get_spanish_names_and_caption(env: BotEnv) -> None:
    seed(env)
    staff = staff_client(env, language_code="es")
    await staff.send("/export")
    assert "Estadísticas para una hoja de cálculo" in staff.last_text
    assert staff.buttons == ["7 días", "30 días", "90 días", "Todo"]
    (sent,) = await export(staff, "30 días")
    lines = sent.text.splitlines()
    assert lines[:3] == [
        "Últimos 30 días (del 2026-10-30 al 2026-11-28)",
        "Un zip con 10 tablas (CSV) para una hoja de cálculo:",
        "• summary: los totales",
    ]
    assert "• dropoff: dónde se detuvieron los cuestionarios sin terminar" in lines
    assert lines[-1].startswith("Solo totales, nunca las respuestas de nadie.")
    assert "«<5»" in lines[-1]
    files = unzipped(sent)
    assert list(files) == EXPORT_FILES  # the same files; only the `name` column is in Spanish
    assert rows(files["outcomes.csv"])[1:] == [
        ["iep_evaluation", "Parece útil pedir una evaluación", "9"],
        ["other", "otros (grupos pequeños juntos)", "5"],
    ]
    assert rows(files["dropoff.csv"])[1] == ["effort", "Esfuerzo para seguir el ritmo", "6"]


async def test_all_time_is_named_so(env: BotEnv) -> None:
    seed(env)
    (sent,) = await export(staff_client(env), "All time")
    assert sent.document_filename == "iep-bot-export-all-time-to-2026-11-28.zip"
    assert sent.text.startswith("All time, up to 2026-11-28")
    assert ["sessions_started", "61"] in rows(unzipped(sent)["summary.csv"])


async def test_an_empty_period_says_so_and_sends_no_file(env: BotEnv) -> None:
    (reply,) = await export(staff_client(env), "7 days")
    assert "No screenings in this period." in reply.text
    assert reply.buttons == PERIOD_BUTTONS
    assert env.api.calls_to("sendDocument") == []


def test_every_exported_file_is_explained_in_every_language(content: Content) -> None:
    from bot.stats.export import export_files

    data: dict[str, Any] = {
        "period": {"since": None, "until": "2026-11-28"},
        "min_cell": 5,
        **dict.fromkeys(("sessions_started", "sessions_completed", "sessions_abandoned"), "<5"),
        "sessions_in_progress": "<5",
        "completion_rate": None,
        "outcomes": {},
        "booking_presses": {
            "total": "<5",
            "after_result": "<5",
            "after_result_rate": None,
            "from_menu": "<5",
            "by_outcome": {},
        },
        "by_language": {},
        "by_source": {},
        "dropoff": {},
        "timeline": {"unit": None, "buckets": []},
        "subscribers": {"now": "<5", "joined": "<5", "left": "<5"},
        "broadcasts": {"sent": "<5", "cancelled": "<5", "messages_delivered": "<5"},
        "letters": {"total": "<5", "by_type": {}, "by_language": {}},
        "follow_through": {
            **dict.fromkeys(
                ("deadlines_set", "reminders_sent", "checkins_offered", "checkins_sent"), "<5"
            ),
            **dict.fromkeys(("checkins_answered", "asked_school", "school_agreed"), "<5"),
            **dict.fromkeys(("answered_of_sent", "asked_of_answered", "agreed_of_asked"), None),
            "agreed_of_answered": None,
            "by_outcome": {},
        },
    }
    for name in export_files(data, names={}):
        for pack in content.languages.values():
            assert pack.t(f"stats.export.files.{name.removesuffix('.csv')}"), (name, pack)


@pytest.mark.parametrize(
    ("fault", "calls"),
    [
        ("429", 2),  # Telegram asked to wait: sent again after the wait
        ("refused", 2),  # the upload never left: sent again
        ("reset_after", 1),  # it may have arrived: never sent twice
    ],
)
async def test_the_zip_goes_through_the_sender_with_its_retries(
    env: BotEnv, caplog: pytest.LogCaptureFixture, fault: str, calls: int
) -> None:
    seed(env)
    if fault == "429":
        env.api.fail("sendDocument", 429, retry_after=2)
    else:
        env.api.fail_network("sendDocument", fault)  # type: ignore[arg-type]
    staff = staff_client(env)
    with caplog.at_level(logging.INFO):
        await export(staff, "30 days")
    attempts = env.api.calls_to("sendDocument")
    assert len(attempts) == calls
    assert [m.document_filename for m in staff.messages if m.is_document] == [ZIP_30_DAYS]
    if fault == "reset_after":  # delivered, but the bot could not know: one line says so
        assert any("statistics not delivered" in r.getMessage() for r in caplog.records)


async def test_a_failed_export_is_a_kind_line_and_the_periods_again(env: BotEnv) -> None:
    class Failing:
        async def run(self, job: Any, request: Any) -> Any:
            raise StatsUnavailable("the worker process stopped")

        def close(self) -> None:
            return None

    seed(env)
    env.app.stats_worker.runner = Failing()
    for lang, period, line in (
        ("en", "7 days", "Sorry, the files could not be made just now."),
        ("es", "7 días", "Lo sentimos, no se pudieron preparar los archivos ahora."),
    ):
        (reply,) = await export(staff_client(env, language_code=lang), period)
        assert line in reply.text and len(reply.buttons) == 4
    assert env.api.calls_to("sendDocument") == []


async def test_a_forged_export_button_is_treated_as_stale_for_staff(env: BotEnv) -> None:
    seed(env)
    staff = staff_client(env)
    await staff.send("/export")
    await staff.press_data("1|E|7|forged")
    await env.app.stats_worker.settled()  # type: ignore[attr-defined]
    assert staff.callback_answers[-1].text  # the usual "that button is old" toast
    assert env.api.calls_to("sendDocument") == []


# --- anyone else ---------------------------------------------------------------------------------


async def unknown_command_reply(client: ChatClient) -> tuple[str, list[str]]:
    await client.send("/nonsense")
    return client.last_text, client.buttons


async def test_parents_get_the_unknown_command_reply_for_export(env: BotEnv) -> None:
    seed(env)
    parent = env.client()
    expected = await unknown_command_reply(parent)
    mark = parent.mark()
    await parent.send("/export")
    (reply,) = parent.new_since(mark)
    assert (reply.text, reply.buttons) == expected


@pytest.mark.parametrize("data", ["valid", "1|E|30|forged", "0|E|all|abcdef"])
async def test_parents_pressing_any_export_button_get_the_same_reply(
    env: BotEnv, data: str
) -> None:
    seed(env)
    parent = env.client(language_code="es")
    expected = await unknown_command_reply(parent)
    if data == "valid":
        data = CallbackCodec(env.settings.pseudonym_key).encode(Action(Kind.EXPORT_PERIOD, ("7",)))
    mark = parent.mark()
    await parent.press_data(data)
    await env.app.stats_worker.settled()  # type: ignore[attr-defined]
    (reply,) = parent.new_since(mark)
    assert (reply.text, reply.buttons) == expected
    assert parent.callback_answers[-1] == (None, False, None)
    assert env.api.calls_to("sendDocument") == env.api.calls_to("sendChatAction") == []
