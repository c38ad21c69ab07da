"""/broadcasts in Telegram: scheduled, sending and recent broadcasts on one phone screen, each
one tap from its live status message; for anyone not on staff, nothing of it exists."""

from __future__ import annotations

from bot.broadcast.queue import Broadcasts
from bot.callbacks import Action, Kind
from bot.parent.layout import SCREEN_LINES, screen_lines
from tests.conftest import STAFF_ID
from tests.fakebot import CallbackAnswer, ChatClient, SentMessage
from tests.staff import Scene, at, deliver_due, queue


async def one_of_each(scene: Scene) -> None:
    """#1 sent, #2 cancelled, #3 sending, #4 scheduled for Tue 09:30, #5 a tip scheduled
    for Wed 10:00, paused; the clock then says Mon 7 Dec 2026, 22:30 in Chicago."""
    broadcasts: Broadcasts = scene.env.app.services.broadcasts
    scene.clock.now = at(2026, 12, 7, 10, 0)
    queue(scene)
    scene.env.api.block(1003)
    scene.clock.now = at(2026, 12, 7, 10, 2)
    await deliver_due(scene)
    scene.clock.now = at(2026, 12, 7, 11, 15)
    broadcasts.cancel(queue(scene, audience="lang:es", not_before=at(2026, 12, 7, 18, 0)))
    scene.clock.now = at(2026, 12, 7, 12, 0)
    broadcasts.start(queue(scene, audience="interest:has_504"))  # the engine just took it
    scene.clock.now = at(2026, 12, 7, 22, 30)
    queue(scene, not_before=at(2026, 12, 8, 9, 30))
    content = scene.env.content
    tip = content.pack("en").tips[0]
    texts = {code: pack.tips[0].text for code, pack in content.languages.items()}
    tip_broadcast = queue(scene, texts=texts, tip_id=tip.id, not_before=at(2026, 12, 9, 10, 0))
    broadcasts.pause(tip_broadcast)


def staff_in(scene: Scene, lang: str) -> ChatClient:
    return scene.env.client(
        chat_id=STAFF_ID, user_id=STAFF_ID, first_name="Ana", language_code=lang
    )


def fits_one_screen(message: SentMessage) -> bool:
    return screen_lines(message.text, len(message.reply_markup)) <= SCREEN_LINES


async def test_the_list_shows_scheduled_sending_and_recent_with_a_button_each(
    scene: Scene,
) -> None:
    await one_of_each(scene)
    await scene.staff.send("/broadcasts")
    shown = scene.staff.last
    assert shown.text == (
        "Broadcasts (America/Chicago time)\n"
        "Scheduled\n"
        "🕒 #4 Tue 8 Dec, 09:30 · Everyone · 4 parents · IEP meeting soon?…\n"
        "⏸ #5 Wed 9 Dec, 10:00, paused · Everyone · 4 parents · Asking for an…\n"
        "Sending now\n"
        "📣 #3 since Mon 7 Dec, 12:00 · Has a 504 plan · 0/2 sent · IEP meeting…\n"
        "Recent\n"
        "✖ #2 cancelled Mon 7 Dec, 11:15 · Español only · nothing sent · IEP meeting…\n"
        "✅ #1 sent Mon 7 Dec, 10:02 · Everyone · 4/5 sent · 1 blocked · IEP meeting…"
    )
    assert shown.buttons == ["🕒 #4", "⏸ #5", "📣 #3", "✖ #2", "✅ #1"]
    assert fits_one_screen(shown)


async def test_the_list_in_spanish(scene: Scene) -> None:
    await one_of_each(scene)
    staff = staff_in(scene, "es")
    await staff.send("/broadcasts")
    lines = staff.last_text.split("\n")
    assert lines[0] == "Envíos (hora de America/Chicago)"
    assert lines[1] == "Programados"
    assert lines[2] == "🕒 #4 mar 8 de dic, 09:30 · Todos · 4 padres · ¿Reunión del IEP…"
    assert lines[3] == "⏸ #5 mié 9 de dic, 10:00, en pausa · Todos · 4 padres · Cómo pedir…"
    assert lines[4] == "Enviándose ahora"
    assert lines[5] == (
        "📣 #3 desde el lun 7 de dic, 12:00 · Tienen un plan 504 · 0/2 enviados · ¿Reunión…"
    )
    assert lines[6] == "Recientes"
    assert lines[7] == (
        "✖ #2 cancelado el lun 7 de dic, 11:15 · Solo Español · no se envió nada · ¿Reunión…"
    )
    # #1 is on the next page: Spanish lines are longer, and a page fits one phone screen.
    assert fits_one_screen(staff.last)
    assert staff.buttons == ["🕒 #4", "⏸ #5", "📣 #3", "✖ #2", "Más ▶"]
    await staff.press("Más ▶")
    assert staff.last_text.split("\n")[1:] == [
        "Recientes",
        "✅ #1 enviado el lun 7 de dic, 10:02 · Todos · 4/5 enviados · bloqueados 1 · ¿Reunión…",
    ]
    assert staff.buttons == ["✅ #1", "◀ Más recientes"]


async def test_tapping_a_broadcast_posts_its_live_status(scene: Scene) -> None:
    await one_of_each(scene)
    await scene.staff.send("/broadcasts")
    listed = scene.staff.last
    mark = scene.staff.mark()
    await scene.staff.press("🕒 #4")
    assert scene.staff.callback_answers[-1] == CallbackAnswer(None, False, None)
    [status] = scene.staff.new_since(mark)
    assert status.message_id != listed.message_id
    assert status.text.startswith(
        "🕒 Broadcast #4: scheduled for Tue 8 Dec 2026, 09:30 (America/Chicago)."
    )
    assert status.buttons == ["⏸ Pause", "✖ Cancel"]
    row = scene.env.app.services.broadcasts.get(4)
    assert row is not None and (row.status_chat_id, row.status_message_id) == (
        STAFF_ID,
        status.message_id,
    )
    # The engine keeps that message up to date: at its time it goes, and it says so.
    scene.clock.now = at(2026, 12, 8, 9, 30)
    await deliver_due(scene)
    shown = scene.env.api.message(STAFF_ID, status.message_id)
    assert shown is not None and shown.text.startswith(
        "✅ Broadcast #4: sent. It finished on Tue 8 Dec 2026, 09:30 (America/Chicago)."
    )
    # Tapped again from the list, it is posted anew: the newest message is the live one.
    await scene.staff.press_on(listed.message_id, "🕒 #4")
    again = scene.staff.last
    assert again.message_id != status.message_id and again.text.startswith("✅ Broadcast #4: sent.")
    row = scene.env.app.services.broadcasts.get(4)
    assert row is not None and row.status_message_id == again.message_id


async def test_the_status_posted_from_the_list_speaks_spanish(scene: Scene) -> None:
    await one_of_each(scene)
    staff = staff_in(scene, "es")
    await staff.send("/broadcasts")
    await staff.press("⏸ #5")
    assert staff.last_text.startswith(
        "⏸ Envío #5: en pausa. Estaba programado para el mié 9 de dic de 2026, 10:00"
        " (America/Chicago)"
    )
    assert staff.buttons == ["▶ Reanudar", "✖ Cancelar"]
    await staff.press("▶ Reanudar")
    assert staff.callback_answers[-1].text == "Reanudado: programado para el mié 9 de dic, 10:00."


async def test_an_empty_list_says_how_to_start(scene: Scene) -> None:
    await scene.staff.send("/broadcasts")
    assert scene.staff.last_text == (
        "Broadcasts\n"
        "Nothing is scheduled, sending or sent yet.\n\n"
        "Write a message to parents with /broadcast, or send a ready-made tip with /tips."
    )
    assert scene.staff.last.buttons == []
    spanish = staff_in(scene, "es")
    await spanish.send("/broadcasts")
    assert spanish.last_text.startswith("Envíos\nTodavía no hay nada programado")


async def test_more_turns_the_page_in_place_and_every_broadcast_is_listed_once(
    scene: Scene,
) -> None:
    scene.clock.now = at(2026, 12, 1, 9, 0)
    for _ in range(12):
        queue(scene)
        scene.clock.advance(hours=1)
        await deliver_due(scene)
    await scene.staff.send("/broadcasts")
    page = scene.staff.last
    seen: list[str] = []
    while True:
        assert fits_one_screen(page)
        numbers = [b for b in page.buttons if b.startswith("✅")]
        assert numbers and all(b in page.text for b in (n.split()[1] for n in numbers))
        seen += numbers
        if "More ▶" not in page.buttons:
            break
        await scene.staff.press("More ▶")
        assert scene.staff.last.message_id == page.message_id  # the same message, edited
        page = scene.staff.last
        assert "◀ Newest" in page.buttons
    assert seen == [f"✅ #{n}" for n in range(12, 0, -1)]
    await scene.staff.press("◀ Newest")
    assert scene.staff.last.buttons[0] == "✅ #12"


async def test_forged_and_stale_buttons_do_nothing(scene: Scene) -> None:
    await one_of_each(scene)
    await scene.staff.send("/broadcasts")
    staff, codec = scene.staff, scene.env.app.services.codec
    mark = staff.mark()
    stale = "That button is out of date. It does nothing now."
    for data in [
        "1|B|s|4|AAAAAA",  # not signed by us
        "1|B|",
        codec.encode(Action(Kind.BROADCASTS_LIST, ("s", "999"))),  # no such broadcast
        codec.encode(Action(Kind.BROADCASTS_LIST, ("x", "4"))),
        codec.encode(Action(Kind.BROADCASTS_LIST, ("s", "4x"))),
        codec.encode(Action(Kind.BROADCASTS_LIST, ("s", "9" * 30))),
        codec.encode(Action(Kind.BROADCASTS_LIST, ("s",))),
    ]:
        await staff.press_data(data)
        assert staff.callback_answers[-1] == CallbackAnswer(stale, True, None), data
    assert staff.new_since(mark) == []
    # A "More" from a list that has since shrunk shows the list from the top.
    await staff.press_data(codec.encode(Action(Kind.BROADCASTS_LIST, ("p", "40"))))
    assert staff.last.buttons == ["🕒 #4", "⏸ #5", "📣 #3", "✖ #2", "✅ #1"]
    spanish = staff_in(scene, "es")
    await spanish.press_data("1|B|s|4|AAAAAA")
    assert spanish.callback_answers[-1].text == "Ese botón ya no está al día. No hace nada."


async def _unknown_command_reply(client: ChatClient) -> list[tuple[str, list[str]]]:
    mark = client.mark()
    await client.send("/frobnicate")
    return [(m.text, m.buttons) for m in client.new_since(mark)]


async def test_non_staff_get_only_the_unknown_command_reply(scene: Scene) -> None:
    await one_of_each(scene)
    await scene.staff.send("/broadcasts")  # genuine buttons exist
    parent = scene.parent
    await parent.send("/start")
    expected = await _unknown_command_reply(parent)
    assert expected[0][0].startswith("I don't know that command.")
    for command in ("/broadcasts", "/broadcasts@iep_test_bot", "/broadcasts 2"):
        mark = parent.mark()
        await parent.send(command)
        assert [(m.text, m.buttons) for m in parent.new_since(mark)] == expected, command
    codec = scene.env.app.services.codec
    for data in [
        codec.encode(Action(Kind.BROADCASTS_LIST, ("s", "4"))),
        codec.encode(Action(Kind.BROADCASTS_LIST, ("p", "0"))),
        "1|B|s|4|AAAAAA",
        "1|B|",
    ]:
        mark = parent.mark()
        await parent.press_data(data)
        assert [(m.text, m.buttons) for m in parent.new_since(mark)] == expected, data
        assert parent.callback_answers[-1] == CallbackAnswer(None, False, None), data
    row = scene.env.app.services.broadcasts.get(4)
    assert row is not None and row.status_message_id is None  # nothing posted anywhere


async def test_times_are_on_the_practice_clock_on_both_sides_of_a_dst_change(
    scene: Scene,
) -> None:
    scene.clock.now = at(2026, 3, 6, 10, 0)  # Friday, standard time
    queue(scene)
    await deliver_due(scene)
    queue(scene, not_before=at(2026, 3, 9, 9, 30))  # Monday, daylight saving time
    await scene.staff.send("/broadcasts")
    text = scene.staff.last_text
    assert "🕒 #2 Mon 9 Mar, 09:30 · " in text
    assert "✅ #1 sent Fri 6 Mar, 10:00 · " in text
