"""A broadcast per language: staff write each language the audience reads; a language left
without a text is skipped for its parents, or gets another language's text only after a
warning with the count and Confirm. What parents then receive, and the totals staff see."""

from __future__ import annotations

import json

from bot.callbacks import Action
from flows.compose import AWAITING_AUDIENCE, AWAITING_CONTENT, PREVIEWING
from tests.conftest import STAFF_ID
from tests.fakebot import ChatClient
from tests.staff import (
    PARENTS,
    TEXT,
    TEXT_ES,
    TEXT_HTML,
    Scene,
    deliver_due,
    received,
    texts_of,
)

ENGLISH = [chat_id for chat_id, lang, _ in PARENTS if lang == "en"]
SPANISH = [chat_id for chat_id, lang, _ in PARENTS if lang == "es"]
STALE = "That button is from an earlier step. It does nothing now."
MISSING = (
    "⚠️ No Spanish text: the 2 Spanish-reading parents in this audience will not get this message."
)
OTHERS = (
    "⚠️ 2 Spanish-reading parents will get the English text. Confirm only if that is what you want."
)


async def _english_then_skip(scene: Scene) -> None:
    await scene.staff.send("/broadcast")
    await scene.staff.press("Everyone · 5")
    await scene.staff.send(TEXT)
    await scene.staff.press("⏭ Skip Spanish")


def _spanish_staff(scene: Scene) -> ChatClient:
    return scene.env.client(
        chat_id=STAFF_ID, user_id=STAFF_ID, first_name="Ana", language_code="es-MX"
    )


# --- skipping a language ------------------------------------------------------------------------


async def test_skip_spanish_warns_with_the_count_and_spanish_parents_get_nothing(
    scene: Scene,
) -> None:
    staff = scene.staff
    await scene.staff.send("/broadcast")
    await scene.staff.press("Everyone · 5")
    await scene.staff.send(TEXT)
    asked = staff.last
    mark = staff.mark()
    await staff.press("⏭ Skip Spanish")
    pressed, preview_en, summary = staff.new_since(mark)
    assert pressed.message_id == asked.message_id and pressed.buttons == []
    assert pressed.text.endswith("✓ ⏭ Skip Spanish")
    # Only the English message: the Spanish parents get nothing, so there is nothing to show.
    assert preview_en.source == scene.recipient_text({"en": TEXT_HTML}, "en")
    assert summary.text.startswith(
        "Preview ☝️ Above: what parents will receive. English: 3 parents.\n\n" + MISSING
    )
    assert "Español" not in summary.text.split("\n")[0]
    assert "Audience: Everyone, 3 parents right now." in summary.text
    assert summary.buttons == [
        "✍️ Write the Spanish text",
        "↪ Send them the English text instead",
        "✅ Confirm and send",
        "🕒 Schedule for later",
        "✏️ Change the text",
        "👥 Change the audience",
        "✖ Cancel",
    ]

    await staff.press("✅ Confirm and send")  # the default: they are left out
    [row] = scene.broadcasts
    assert json.loads(row["texts"]) == {"en": TEXT_HTML}
    assert texts_of(staff.messages)[-2].startswith(
        f"✅ Broadcast #{row['id']} is queued for 3 parents."
    )
    svc = scene.env.app.services
    shown = svc.broadcasts.as_shown(svc.broadcasts.get(row["id"]))  # type: ignore[arg-type]
    assert shown.total == 3  # the status message counts only who will get it

    await deliver_due(scene)
    for chat_id in ENGLISH:
        [message] = received(scene, chat_id)
        assert message.text.startswith("IEP meeting soon?")
    for chat_id in SPANISH:
        assert received(scene, chat_id) == []
    [row] = scene.broadcasts
    assert (row["status"], row["total"], row["sent"], row["skipped"]) == ("done", 3, 3, 0)


async def test_a_spanish_parent_who_joins_after_the_confirm_is_not_sent_english(
    scene: Scene,
) -> None:
    await _english_then_skip(scene)
    await scene.staff.press("Confirm")
    svc = scene.env.app.services
    scene.env.storage.db["subscribers"].insert(  # type: ignore[union-attr]
        {
            "chat_key": svc.pseudonymize(2003),
            "chat_id": 2003,
            "lang": "es",
            "interest": None,
            "opted_in_day": "2026-11-28",
        }
    )
    await deliver_due(scene)
    assert received(scene, 2003) == []
    assert scene.broadcasts[0]["total"] == 3


async def test_a_parent_who_switches_to_spanish_mid_broadcast_is_skipped_not_sent_english(
    scene: Scene,
) -> None:
    await _english_then_skip(scene)
    await scene.staff.press("Confirm")
    broadcasts = scene.env.app.services.broadcasts
    [row] = scene.broadcasts
    broadcasts.start(row["id"])  # recipients copied: three English readers
    scene.env.storage.db.execute("UPDATE subscribers SET lang = 'es' WHERE chat_id = 1001")
    await deliver_due(scene)
    assert received(scene, 1001) == []
    [row] = scene.broadcasts
    assert (row["total"], row["sent"], row["skipped"]) == (3, 2, 1)


# --- sending them another language's text ---------------------------------------------------------


async def test_send_them_the_english_text_only_after_the_warning_and_confirm(
    scene: Scene,
) -> None:
    staff = scene.staff
    await _english_then_skip(scene)
    skipped = staff.last
    mark = staff.mark()
    await staff.press("↪ Send them the English text instead")
    assert scene.broadcasts == []  # a choice, not a send
    pressed, preview_en, preview_es, summary = staff.new_since(mark)
    assert pressed.message_id == skipped.message_id and pressed.buttons == []
    # What the Spanish parents would get: the English text, with their own stop line.
    assert preview_en.source == scene.recipient_text({"en": TEXT_HTML}, "en")
    assert preview_es.source == scene.recipient_text({"*": TEXT_HTML}, "es")
    assert preview_es.text.endswith("Para dejar de recibir estos consejos, envíe /stop.")
    assert summary.text.startswith(
        "Preview ☝️ Above: what parents will receive. English: 3 parents. "
        "Español: 2 parents (the English text).\n\n" + OTHERS
    )
    assert "Audience: Everyone, 5 parents right now." in summary.text
    assert summary.buttons[:3] == [
        "✍️ Write the Spanish text",
        "↩ Leave them out instead",
        "✅ Confirm and send",
    ]

    await staff.press("✅ Confirm and send")
    [row] = scene.broadcasts
    assert json.loads(row["texts"]) == {"en": TEXT_HTML, "*": TEXT_HTML}
    assert texts_of(staff.messages)[-2].startswith(
        f"✅ Broadcast #{row['id']} is queued for 5 parents."
    )
    await deliver_due(scene)
    for chat_id in SPANISH:
        [message] = received(scene, chat_id)
        assert (message.source, message.text) == (preview_es.source, preview_es.text)


async def test_a_confirm_pressed_on_an_older_choice_is_stale(scene: Scene) -> None:
    staff = scene.staff
    await _english_then_skip(scene)
    skip_confirm = _button_data(staff, "✅ Confirm and send")
    await staff.press("↪ Send them the English text instead")
    others_confirm = _button_data(staff, "✅ Confirm and send")
    await staff.press_data(skip_confirm)  # shown with "left out": not what is chosen now
    assert staff.callback_answers[-1].text == STALE
    await staff.press("↩ Leave them out instead")
    assert staff.last_text.startswith(
        "Preview ☝️ Above: what parents will receive. English: 3 parents.\n\n" + MISSING
    )
    await staff.press_data(others_confirm)  # shown with "the English text": stale now
    assert staff.callback_answers[-1].text == STALE
    assert scene.broadcasts == []
    await staff.press("✅ Confirm and send")
    assert json.loads(scene.broadcasts[0]["texts"]) == {"en": TEXT_HTML}


async def test_write_the_spanish_text_after_all(scene: Scene) -> None:
    staff = scene.staff
    await _english_then_skip(scene)
    await staff.press("↪ Send them the English text instead")
    await staff.press("✍️ Write the Spanish text")
    assert staff.last_text == "✍️ Now the Spanish text for the 2 Spanish-reading parents."
    assert staff.buttons == ["⏭ Skip Spanish", "✖ Cancel"]
    mark = staff.mark()
    await staff.send(TEXT_ES)
    _, preview_es, summary = staff.new_since(mark)
    assert preview_es.source == scene.recipient_text({"es": TEXT_ES}, "es")
    assert "⚠️" not in summary.text
    assert "English: 3 parents. Español: 2 parents.\n" in summary.text
    await staff.press("Confirm")
    # Writing the text dropped the earlier choice: no "*" text for anyone.
    assert json.loads(scene.broadcasts[0]["texts"]) == {"en": TEXT_HTML, "es": TEXT_ES}


async def test_in_a_spanish_staff_chat(scene: Scene) -> None:
    staff = _spanish_staff(scene)
    await staff.send("/broadcast")
    await staff.press("Todos · 5")
    assert staff.last_text.startswith(
        "✍️ Envíeme el texto en inglés para los 3 padres que leen inglés"
    )
    await staff.send(TEXT)
    assert staff.last_text == "✍️ Ahora el texto en español para los 2 padres que leen español."
    await staff.press("⏭ Omitir español")
    assert staff.last_text.startswith(
        "Vista previa ☝️ Arriba: lo que recibirán los padres. English: 3 padres.\n\n"
        "⚠️ No hay texto en español: los 2 padres de este público que leen español no "
        "recibirán este mensaje."
    )
    assert staff.buttons[:3] == [
        "✍️ Escribir el texto en español",
        "↪ Enviarles el texto en inglés",
        "✅ Confirmar y enviar",
    ]
    await staff.press("↪ Enviarles el texto en inglés")
    assert staff.last_text.startswith(
        "Vista previa ☝️ Arriba: lo que recibirán los padres. English: 3 padres. "
        "Español: 2 padres (el texto en inglés).\n\n"
        "⚠️ 2 padres que leen español recibirán el texto en inglés. Confirme solo si eso es lo "
        "que quiere."
    )
    assert "↩ Mejor no enviarles nada" in staff.buttons
    await staff.press("✅ Confirmar y enviar")
    assert json.loads(scene.broadcasts[0]["texts"]) == {"en": TEXT_HTML, "*": TEXT_HTML}


async def test_each_language_in_a_spanish_staff_chat(scene: Scene) -> None:
    staff = _spanish_staff(scene)
    await staff.send("/broadcast")
    await staff.press("Todos · 5")
    await staff.send(TEXT)
    mark = staff.mark()
    await staff.send(TEXT_ES)
    preview_en, preview_es, summary = staff.new_since(mark)
    assert preview_en.source == scene.recipient_text({"en": TEXT_HTML}, "en")
    assert preview_es.source == scene.recipient_text({"es": TEXT_ES}, "es")
    assert summary.text.startswith(
        "Vista previa ☝️ Arriba: lo que recibirán los padres. English: 3 padres. Español: 2 padres."
    )
    assert summary.buttons[2:5] == [
        "✏️ Texto en inglés",
        "✏️ Texto en español",
        "👥 Cambiar el público",
    ]


# --- which languages are asked ------------------------------------------------------------------


async def test_a_one_language_audience_asks_one_text(scene: Scene) -> None:
    await scene.staff.send("/broadcast")
    await scene.staff.press("English only · 3")
    assert scene.staff.last_text.startswith(
        "✍️ Send me the English text for the 3 English-reading parents"
    )
    mark = scene.staff.mark()
    await scene.staff.send(TEXT)
    _, summary = scene.staff.new_since(mark)  # straight to the preview
    assert summary.text.startswith("Preview ☝️ Above: what parents will receive. English: 3")
    assert summary.buttons[2:4] == ["✏️ Change the text", "👥 Change the audience"]


async def test_a_language_nobody_in_the_audience_reads_is_not_asked(scene: Scene) -> None:
    staff = scene.staff
    await staff.send("/broadcast")
    mark = staff.mark()
    await staff.press("Just starting · 1")  # one English-reading parent
    _, note, ask = staff.new_since(mark)
    assert note.text == (
        "No Spanish-reading parent is in this audience right now, so I won't ask for a "
        "Spanish text."
    )
    assert ask.text.startswith("✍️ Send me the English text for the 1 English-reading parents")
    await staff.send(TEXT)
    assert "⚠️" not in staff.last_text
    await staff.press("Confirm")
    assert json.loads(scene.broadcasts[0]["texts"]) == {"en": TEXT_HTML}


async def test_a_photo_comes_with_the_first_text_only(scene: Scene) -> None:
    await scene.staff.send("/broadcast")
    await scene.staff.press("Everyone · 5")
    await scene.staff.send(TEXT)
    await scene.staff.send_photo(caption="Hola")
    assert scene.staff.last_text == (
        "A photo can only come with the first text (English), so everyone gets the same one. "
        "Please send the Spanish text as a message."
    )
    assert scene.drafts[0]["state"] == AWAITING_CONTENT
    await scene.staff.send(TEXT_ES)
    await scene.staff.press("Confirm")
    assert scene.broadcasts[0]["photo"] is None


async def test_changing_the_audience_asks_only_the_missing_language(scene: Scene) -> None:
    staff = scene.staff
    await staff.send("/broadcast")
    await staff.press("English only · 3")
    await staff.send(TEXT)
    await staff.press("👥 Change the audience")
    assert scene.drafts[0]["state"] == AWAITING_AUDIENCE
    await staff.press("Everyone · 5")
    assert staff.last_text == "✍️ Now the Spanish text for the 2 Spanish-reading parents."
    await staff.send(TEXT_ES)
    assert scene.drafts[0]["state"] == PREVIEWING
    await staff.press("Confirm")
    assert json.loads(scene.broadcasts[0]["texts"]) == {"en": TEXT_HTML, "es": TEXT_ES}


# --- stale, forged and typed ----------------------------------------------------------------------


async def test_an_older_skip_button_does_nothing(scene: Scene) -> None:
    staff = scene.staff
    await staff.send("/broadcast")
    await staff.press("Everyone · 5")
    await staff.send(TEXT)
    skip = _button_data(staff, "⏭ Skip Spanish")
    await staff.send(TEXT_ES)
    await staff.press_data(skip)
    assert staff.callback_answers[-1].text == STALE
    assert scene.drafts[0]["state"] == PREVIEWING
    assert set(json.loads(scene.drafts[0]["text"])["texts"]) == {"en", "es"}


async def test_forged_language_buttons_are_stale(scene: Scene) -> None:
    staff = scene.staff
    await _english_then_skip(scene)
    draft = scene.draft_id()
    for args in [("o", "es"), ("o", "fr"), ("e", "fr"), ("k", "es"), ("ok", "es")]:
        await staff.press_data(scene.encode(Action("C", (draft, *args))))
        assert staff.callback_answers[-1].text == STALE, args
    assert scene.broadcasts == [] and scene.drafts[0]["state"] == PREVIEWING


async def test_typing_while_a_button_is_expected_says_so(scene: Scene) -> None:
    await _english_then_skip(scene)
    await scene.staff.send("send them english")
    assert texts_of(scene.staff.messages)[-2] == "Please use the buttons above, or /cancel to stop."
    assert MISSING in scene.staff.last_text
    assert json.loads(scene.drafts[0]["text"])["others_get"] is None


async def test_a_draft_from_an_earlier_version_is_dropped_kindly(scene: Scene) -> None:
    await scene.staff.send("/broadcast")
    await scene.staff.press("Everyone · 5")
    # As the bot before texts per language stored it: the HTML itself in `text`.
    scene.env.storage.db.execute(
        "UPDATE compose_drafts SET text = ?, state = 'previewing'", [TEXT_HTML]
    )
    await scene.staff.send("Hello")
    assert scene.staff.last_text == (
        "That draft was made by an earlier version of the bot, so I discarded it. Nothing was "
        "sent. Start again with /broadcast or /tips."
    )
    assert scene.drafts == [] and scene.broadcasts == []


async def test_an_old_draft_button_is_dropped_kindly_too(scene: Scene) -> None:
    await scene.staff.send("/broadcast")
    await scene.staff.press("Everyone · 5")
    scene.env.storage.db.execute("UPDATE compose_drafts SET text = NULL")
    await scene.staff.press("✖ Cancel")
    assert scene.staff.last_text.startswith("That draft was made by an earlier version")
    assert scene.drafts == []


def _button_data(client: ChatClient, label: str) -> str:
    for row in client.last.reply_markup:
        for button in row:
            if button.text == label:
                return button.callback_data or ""
    raise AssertionError(f"no {label!r} on the last message")
