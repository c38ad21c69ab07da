"""A broadcast's status message as staff see it: when it goes (in TIMEZONE), how far it got,
and what Pause, Resume and Cancel did, in English and Spanish, through the fake Bot API."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.broadcast.queue import Broadcasts
from bot.content import load_content
from bot.storage import Storage
from bot.tg.handlers.broadcast_compose import post_status
from tests.conftest import STAFF_ID
from tests.fakebot import ChatClient, SentMessage
from tests.shell import run
from tests.staff import TEXTS, Scene, at, deliver_due, make_engine, queue

SCHEDULED_EN = (
    "🕒 Broadcast #1: scheduled for Tue 8 Dec 2026, 09:30 (America/Chicago)."
    " Nothing has been sent yet.\n"
    "To: Everyone, 5 parents right now.\n"
    "Message: IEP meeting soon? Bring your questions & a copy of the plan."
)
SCHEDULED_ES = (
    "🕒 Envío #1: programado para el mar 8 de dic de 2026, 09:30 (America/Chicago)."
    " Todavía no se ha enviado nada.\n"
    "Para: Todos, 5 padres en este momento.\n"
    "Mensaje: ¿Reunión del IEP pronto? Traiga sus preguntas y una copia…"
)


def staff_in(scene: Scene, lang: str) -> ChatClient:
    """The staff member, their Telegram set to `lang`."""
    return scene.env.client(
        chat_id=STAFF_ID, user_id=STAFF_ID, first_name="Ana", language_code=lang
    )


async def show_status(scene: Scene, broadcast_id: int, lang: str = "en") -> SentMessage:
    """Post the live status message, as Confirm and the /broadcasts buttons do."""
    await post_status(scene.env.app, broadcast_id, STAFF_ID, lang)
    return scene.staff.last


def status_of(scene: Scene, message_id: int) -> SentMessage:
    shown = scene.env.api.message(STAFF_ID, message_id)
    assert shown is not None
    return shown


async def test_a_broadcast_scheduled_11_hours_ahead_says_when_it_goes_and_no_eta(
    scene: Scene,
) -> None:
    scene.clock.now = at(2026, 12, 7, 22, 30)  # Monday evening, quiet hours
    broadcast_id = queue(scene, not_before=at(2026, 12, 8, 9, 30))
    status = await show_status(scene, broadcast_id)
    assert status.text == SCHEDULED_EN
    assert status.buttons == ["⏸ Pause", "✖ Cancel"]
    for misleading in ("left", "Remaining", "Sent ", "finished", "░"):
        assert misleading not in status.text


async def test_the_scheduled_status_in_spanish(scene: Scene) -> None:
    scene.clock.now = at(2026, 12, 7, 22, 30)
    broadcast_id = queue(scene, not_before=at(2026, 12, 8, 9, 30))
    status = await show_status(scene, broadcast_id, "es")
    assert status.text == SCHEDULED_ES
    assert status.buttons == ["⏸ Pausar", "✖ Cancelar"]


@pytest.mark.parametrize(
    ("lang", "paused", "resumed", "toasts"),
    [
        (
            "en",
            "⏸ Broadcast #1: paused. It was scheduled for Tue 8 Dec 2026, 09:30"
            " (America/Chicago); nothing goes out until you press Resume.",
            SCHEDULED_EN,
            [
                "Paused. Nothing more goes out until you press Resume.",
                "Resumed: scheduled for Tue 8 Dec, 09:30.",
            ],
        ),
        (
            "es",
            "⏸ Envío #1: en pausa. Estaba programado para el mar 8 de dic de 2026, 09:30"
            " (America/Chicago); no sale nada hasta que toque Reanudar.",
            SCHEDULED_ES,
            [
                "En pausa. No sale nada más hasta que toque Reanudar.",
                "Reanudado: programado para el mar 8 de dic, 09:30.",
            ],
        ),
    ],
)
async def test_pause_then_resume_says_scheduled_for_its_time(
    scene: Scene, lang: str, paused: str, resumed: str, toasts: list[str]
) -> None:
    scene.clock.now = at(2026, 12, 7, 22, 30)
    broadcast_id = queue(scene, not_before=at(2026, 12, 8, 9, 30))
    staff = staff_in(scene, lang)
    status = await show_status(scene, broadcast_id, lang)
    await staff.press("⏸ Pause" if lang == "en" else "⏸ Pausar")
    shown = status_of(scene, status.message_id)
    assert shown.text.split("\n")[0] == paused
    buttons = ["▶ Resume", "✖ Cancel"] if lang == "en" else ["▶ Reanudar", "✖ Cancelar"]
    assert shown.buttons == buttons
    await staff.press("▶ Resume" if lang == "en" else "▶ Reanudar")
    assert status_of(scene, status.message_id).text == resumed
    assert [a.text for a in staff.callback_answers] == toasts
    row = scene.env.app.services.broadcasts.get(broadcast_id)
    assert row is not None and row.status == "scheduled"


async def test_paused_past_its_time_says_resume_sends_it_at_once(scene: Scene) -> None:
    scene.clock.now = at(2026, 12, 7, 22, 30)
    broadcast_id = queue(scene, not_before=at(2026, 12, 8, 9, 30))
    status = await show_status(scene, broadcast_id)
    await scene.staff.press("⏸ Pause")
    scene.clock.now = at(2026, 12, 8, 11, 0)  # its time came while it was paused
    await deliver_due(scene)  # nothing goes: it is paused
    assert scene.env.api.chats.get(1001) is None
    await scene.staff.press("▶ Resume")
    assert scene.staff.callback_answers[-1].text == "Resumed: it starts now."
    assert status_of(scene, status.message_id).text.startswith(
        "📣 Broadcast #1: waiting to start.\nTo: Everyone, 5 parents right now."
    )


async def test_resumed_at_night_past_its_time_it_waits_for_the_end_of_quiet_hours(
    scene: Scene,
) -> None:
    scene.clock.now = at(2026, 12, 7, 18, 0)
    broadcast_id = queue(scene, not_before=at(2026, 12, 7, 19, 0))
    status = await show_status(scene, broadcast_id)
    await scene.staff.press("⏸ Pause")
    scene.clock.now = at(2026, 12, 7, 22, 30)  # its time passed; now it is quiet hours
    await scene.staff.press("▶ Resume")
    assert scene.staff.callback_answers[-1].text == "Resumed: scheduled for Tue 8 Dec, 08:00."
    assert status_of(scene, status.message_id).text.startswith(
        "🕒 Broadcast #1: scheduled for Tue 8 Dec 2026, 08:00 (America/Chicago)."
    )
    await deliver_due(scene)
    assert scene.env.api.chats.get(1001) is None  # nothing at night
    scene.clock.now = at(2026, 12, 8, 8, 0)
    await deliver_due(scene)
    assert len(scene.env.api.chats[1001]) == 1


async def test_the_paused_status_says_when_its_time_has_passed(scene: Scene) -> None:
    scene.clock.now = at(2026, 12, 7, 22, 30)
    broadcast_id = queue(scene, not_before=at(2026, 12, 8, 9, 30))
    scene.env.app.services.broadcasts.pause(broadcast_id)
    scene.clock.now = at(2026, 12, 8, 11, 0)
    status = await show_status(scene, broadcast_id)
    assert status.text.startswith(
        "⏸ Broadcast #1: paused. It was scheduled for Tue 8 Dec 2026, 09:30 (America/Chicago),"
        " which has passed: Resume sends it right away (after quiet hours, if it is night)."
    )
    assert status.buttons == ["▶ Resume", "✖ Cancel"]


async def test_the_live_message_turns_from_scheduled_to_progress_to_sent(scene: Scene) -> None:
    scene.clock.now = at(2026, 12, 7, 22, 30)
    broadcast_id = queue(scene, not_before=at(2026, 12, 8, 9, 30))
    status = await show_status(scene, broadcast_id)
    await deliver_due(scene)  # not yet
    assert status_of(scene, status.message_id).text == SCHEDULED_EN
    scene.clock.now = at(2026, 12, 8, 9, 30)
    engine = make_engine(scene)
    seen: list[str] = []
    send = engine.sender.send

    async def noting(message: Any, *args: Any, **kwargs: Any) -> Any:
        if message.edit == status.message_id:
            seen.append(message.text)
        return await send(message, *args, **kwargs)

    engine.sender.send = noting  # type: ignore[method-assign]
    await engine.work()
    assert seen[0] == (
        "📣 Broadcast #1: sending since Tue 8 Dec 2026, 09:30 (America/Chicago).\n"
        "To: Everyone.\n"
        "Message: <i>IEP meeting soon? Bring your questions &amp; a copy of the plan.</i>\n"
        "░░░░░░░░░░░░░░░░░░░░ 0/5\n"
        "Sent 0 · Remaining 5 · Blocked 0 · Failed 0\n"
        "About 1 s left."
    )
    final = status_of(scene, status.message_id)
    assert final.text == (
        "✅ Broadcast #1: sent. It finished on Tue 8 Dec 2026, 09:30 (America/Chicago).\n"
        "To: Everyone.\n"
        "Message: IEP meeting soon? Bring your questions & a copy of the plan.\n"
        "████████████████████ 5/5\n"
        "Sent 5 · Blocked 0 · Failed 0"
    )
    assert final.buttons == []


async def test_a_paused_broadcast_shows_its_progress_without_an_estimate(scene: Scene) -> None:
    broadcasts: Broadcasts = scene.env.app.services.broadcasts
    scene.clock.now = at(2026, 12, 8, 10, 0)
    broadcast_id = queue(scene)
    status = await show_status(scene, broadcast_id)
    engine = make_engine(scene)
    claims = 0
    claim = broadcasts.claim

    def pausing_claim(broadcast_id: int, chat_key: str) -> tuple[int, str] | None:
        nonlocal claims
        claims += 1
        if claims == 3:
            broadcasts.pause(broadcast_id)  # pressed while the third parent's message goes
        return claim(broadcast_id, chat_key)

    engine.broadcasts.claim = pausing_claim  # type: ignore[method-assign]
    engine.settings.workers = 1
    await engine.work()
    shown = status_of(scene, status.message_id)
    assert shown.text.split("\n")[0] == (
        "⏸ Broadcast #1: paused. It started on Tue 8 Dec 2026, 10:00 (America/Chicago);"
        " nothing more goes out until you press Resume."
    )
    assert "████████████░░░░░░░░ 3/5" in shown.text
    assert "Sent 3 · Remaining 2 · Blocked 0 · Failed 0" in shown.text
    assert "left" not in shown.text
    assert shown.buttons == ["▶ Resume", "✖ Cancel"]
    await scene.staff.press("▶ Resume")
    assert scene.staff.callback_answers[-1].text == "Resumed: sending again."
    assert status_of(scene, status.message_id).text.startswith(
        "📣 Broadcast #1: sending since Tue 8 Dec 2026, 10:00 (America/Chicago)."
    )


async def test_cancel_before_the_start_says_nothing_was_sent_in_both_languages(
    scene: Scene,
) -> None:
    scene.clock.now = at(2026, 12, 7, 22, 30)
    first = queue(scene, not_before=at(2026, 12, 8, 9, 30))
    second = queue(scene, not_before=at(2026, 12, 8, 9, 30), audience="lang:es")
    status = await show_status(scene, first)
    scene.clock.now = at(2026, 12, 7, 22, 31)
    await scene.staff.press("✖ Cancel")
    assert scene.staff.callback_answers[-1].text == "Cancelled. Nothing more will be sent."
    shown = status_of(scene, status.message_id)
    assert shown.text.split("\n")[:2] == [
        "✖ Broadcast #1: cancelled on Mon 7 Dec 2026, 22:31 (America/Chicago), before it"
        " started. Nothing was sent.",
        "To: Everyone.",
    ]
    assert shown.buttons == []
    spanish = staff_in(scene, "es")
    status = await show_status(scene, second, "es")
    await spanish.press("✖ Cancelar")
    assert spanish.callback_answers[-1].text == "Cancelado. No se enviará nada más."
    assert status_of(scene, status.message_id).text.split("\n")[:2] == [
        "✖ Envío #2: cancelado el lun 7 de dic de 2026, 22:31 (America/Chicago), antes de"
        " empezar. No se envió nada.",
        "Para: Solo Español.",
    ]


async def test_a_stale_button_says_where_the_broadcast_stands(scene: Scene) -> None:
    scene.clock.now = at(2026, 12, 8, 10, 0)
    broadcast_id = queue(scene, audience="lang:en")
    status = await show_status(scene, broadcast_id)
    old_keyboard = status.reply_markup
    await deliver_due(scene)  # sent meanwhile: the message lost its buttons
    assert status_of(scene, status.message_id).buttons == []
    pause = next(b for row in old_keyboard for b in row if b.text == "⏸ Pause")
    await scene.staff.press_data(pause.callback_data or "", status.message_id)
    assert scene.staff.callback_answers[-1].text == (
        "Nothing changed: broadcast #1 has already been sent."
    )
    assert status_of(scene, status.message_id).text.startswith("✅ Broadcast #1: sent.")
    spanish = staff_in(scene, "es")
    await spanish.press_data(pause.callback_data or "", status.message_id)
    assert spanish.callback_answers[-1].text == "No cambió nada: el envío #1 ya se envió."


async def test_a_finished_broadcast_counts_who_blocked_the_bot(scene: Scene) -> None:
    scene.clock.now = at(2026, 12, 8, 10, 0)
    broadcast_id = queue(scene, audience="lang:es")
    await staff_in(scene, "es").send("/help")  # the engine then writes to her in Spanish
    status = await show_status(scene, broadcast_id, "es")
    scene.env.api.block(2002)
    scene.clock.now = at(2026, 12, 8, 10, 2)
    await deliver_due(scene)
    assert status_of(scene, status.message_id).text == (
        "✅ Envío #1: enviado; terminado el mar 8 de dic de 2026, 10:02 (America/Chicago).\n"
        "Para: Solo Español.\n"
        "Mensaje: ¿Reunión del IEP pronto? Traiga sus preguntas y una copia…\n"
        "████████████████████ 2/2\n"
        "Enviados 1 · Bloqueados 1 · Fallidos 0"
    )


async def test_a_ready_made_tip_is_named_by_its_title(scene: Scene) -> None:
    content = scene.env.content
    tip = content.pack("en").tips[0]
    texts = {code: pack.tips[0].text for code, pack in content.languages.items()}
    scene.clock.now = at(2026, 12, 7, 12, 0)
    broadcast_id = queue(scene, texts=texts, tip_id=tip.id, not_before=at(2026, 12, 8, 10, 0))
    status = await show_status(scene, broadcast_id)
    assert "Ready-made tip: Asking for an evaluation" in status.text


@pytest.mark.parametrize(
    ("now", "ahead", "shown"),
    [
        # 11 hours after 23:00 on the night clocks go forward is 11:00, not 10:00.
        (at(2026, 3, 7, 23, 0), 11 * 3600, "Sun 8 Mar 2026, 11:00"),
        # And after they go back, 10:00 the next day is 25 hours away.
        (at(2026, 10, 31, 9, 0), 25 * 3600, "Sun 1 Nov 2026, 09:00"),
    ],
)
async def test_times_stay_on_the_practice_clock_across_a_dst_change(
    scene: Scene, now: float, ahead: float, shown: str
) -> None:
    scene.clock.now = now
    broadcast_id = queue(scene, not_before=now + ahead)
    status = await show_status(scene, broadcast_id)
    assert status.text.startswith(f"🕒 Broadcast #1: scheduled for {shown} (America/Chicago).")


def test_the_command_line_prints_the_same_words_in_the_time_zone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no developer .env
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "bot.sqlite3"))
    monkeypatch.setenv("TIMEZONE", "Europe/Madrid")
    storage = Storage(tmp_path / "bot.sqlite3")
    storage.migrate()
    when = time.time() + 11 * 3600
    try:
        Broadcasts(storage, load_content()).queue(
            audience="all", texts=TEXTS, created_by=None, origin="cli", not_before=when
        )
    finally:
        storage.close()
    code, out, err = run(capsys, "broadcast", "status")
    local = dt.datetime.fromtimestamp(when, ZoneInfo("Europe/Madrid"))
    expected = f"{local:%a} {local.day} {local:%b} {local.year}, {local:%H:%M}"  # C locale
    assert (code, err) == (0, "")
    assert f"🕒 Broadcast #1: scheduled for {expected} (Europe/Madrid)." in out
    assert "To: Everyone, 0 parents right now." in out
    assert "left" not in out and "Remaining" not in out
