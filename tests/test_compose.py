"""Staff compose a broadcast: what they see, what gets queued, what parents then get.

Exactly one broadcast on Confirm, nothing otherwise; also cancelling, photos and formatting,
and bad input. The texts per language (skipping one, sending another instead) are in
test_compose_languages.py.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.callbacks import Action
from bot.content import visible_text
from flows.compose import AWAITING_AUDIENCE, AWAITING_CONTENT, PREVIEWING
from tests.conftest import STAFF_ID
from tests.fakebot import ChatClient
from tests.staff import (
    AUDIENCE_BUTTONS,
    PARENTS,
    TEXT,
    TEXT_ES,
    TEXT_HTML,
    Scene,
    at,
    compose_to_preview,
    deliver_due,
    reach,
    received,
    texts_of,
)

# --- the happy path ---------------------------------------------------------------------------


async def test_compose_preview_confirm_queues_exactly_one_broadcast(scene: Scene) -> None:
    staff = scene.staff
    await staff.send("/broadcast")
    assert staff.last_text.startswith("New broadcast\nFirst choose who should receive it.")
    assert "preview" in staff.last_text and "/cancel" in staff.last_text
    assert "Who should receive it?" in staff.last_text
    assert staff.buttons == AUDIENCE_BUTTONS

    mark = staff.mark()
    await staff.press("Everyone · 5")
    prompt, ask_en = staff.new_since(mark)
    assert prompt.text.endswith("✓ Everyone") and prompt.buttons == []
    assert ask_en.text.startswith("✍️ Send me the English text for the 3 English-reading parents")
    assert ask_en.buttons == ["✖ Cancel"]  # the first text cannot be skipped
    await staff.send(TEXT)
    assert staff.last_text == "✍️ Now the Spanish text for the 2 Spanish-reading parents."
    assert staff.buttons == ["⏭ Skip Spanish", "✖ Cancel"]
    assert scene.broadcasts == []

    mark = staff.mark()
    await staff.send(TEXT_ES)
    preview_en, preview_es, summary = staff.new_since(mark)
    # The exact messages parents get: each language's own text and footer.
    assert preview_en.source == scene.recipient_text({"en": TEXT_HTML}, "en")
    assert preview_es.source == scene.recipient_text({"es": TEXT_ES}, "es")
    assert preview_en.text.startswith("IEP meeting soon? Bring your questions & a copy")
    assert preview_es.text.startswith("¿Reunión del IEP pronto?")
    assert {"type": "bold", "offset": 0, "length": 17} in preview_en.entities
    assert summary.text.startswith(
        "Preview ☝️ Above: what parents will receive. English: 3 parents. Español: 2 parents.\n"
    )
    assert "⚠️" not in summary.text
    assert "Everyone, 5 parents right now." in summary.text
    assert "When: right after you confirm." in summary.text
    assert "America/Chicago" in summary.text
    assert summary.buttons == [
        "✅ Confirm and send",
        "🕒 Schedule for later",
        "✏️ English text",
        "✏️ Spanish text",
        "👥 Change the audience",
        "✖ Cancel",
    ]
    assert scene.broadcasts == []  # nothing before Confirm

    await staff.press("✅ Confirm and send")
    [row] = scene.broadcasts
    assert row["audience"] == "all"
    assert json.loads(row["texts"]) == {"en": TEXT_HTML, "es": TEXT_ES}
    assert (row["origin"], row["created_by"], row["photo"], row["tip_id"]) == (
        "telegram",
        STAFF_ID,
        None,
        None,
    )
    assert row["not_before"] is None
    done = staff.api.message(STAFF_ID, summary.message_id)
    assert done is not None and done.buttons == []
    assert done.text.startswith(f"✅ Broadcast #{row['id']} is queued for 5 parents.")
    status = staff.last
    assert (row["status_chat_id"], row["status_message_id"]) == (STAFF_ID, status.message_id)
    assert scene.drafts == []


async def test_a_second_press_on_confirm_queues_nothing_more(scene: Scene) -> None:
    await compose_to_preview(scene)
    summary = scene.staff.last
    confirm = next(b for row in summary.reply_markup for b in row if b.text.startswith("✅"))
    await scene.staff.press("✅ Confirm and send")
    await scene.staff.press_data(confirm.callback_data or "", scene.staff.last.message_id)
    assert len(scene.broadcasts) == 1
    assert (
        scene.staff.callback_answers[-1].text
        == "That button is from an earlier step. It does nothing now."
    )


async def test_audience_one_language_asks_and_previews_that_language_only(scene: Scene) -> None:
    await scene.staff.send("/broadcast")
    await scene.staff.press("Español only · 2")
    assert scene.staff.last_text.startswith(
        "✍️ Send me the Spanish text for the 2 Spanish-reading parents"
    )
    mark = scene.staff.mark()
    await scene.staff.send(TEXT_ES)
    preview, summary = scene.staff.new_since(mark)
    assert preview.source == scene.recipient_text({"es": TEXT_ES}, "es")
    assert "Above: what parents will receive. Español: 2 parents." in summary.text
    assert "Audience: Español only, 2 parents right now." in summary.text
    assert "✏️ Change the text" in summary.buttons
    await scene.staff.press("Confirm")
    [row] = scene.broadcasts
    assert (row["audience"], json.loads(row["texts"])) == ("lang:es", {"es": TEXT_ES})


async def test_an_empty_audience_is_said_plainly(scene: Scene) -> None:
    await scene.staff.send("/broadcast")
    await scene.staff.press("Has an IEP · 0")
    assert scene.staff.last_text.startswith(
        "✍️ Send me the English text (no parent is in this audience yet)"
    )
    await scene.staff.send(TEXT)  # nobody reads Spanish here: not asked
    assert "No parent is in this audience yet" in scene.staff.last_text


async def test_change_text_keeps_the_audience_and_change_audience_keeps_the_text(
    scene: Scene,
) -> None:
    staff = scene.staff
    await compose_to_preview(scene, audience="Has a 504 plan · 2")
    await staff.press("✏️ English text")
    assert staff.last_text.startswith("✍️ Send me the English text for the 1 English-reading")
    assert staff.last_text.endswith("Your new message replaces the text you wrote before.")
    await staff.send("A shorter note.")
    assert "Audience: Has a 504 plan, 2 parents right now." in staff.last_text
    await staff.press("👥 Change the audience")
    assert staff.last_text.startswith("Who should receive it?")
    assert staff.buttons == AUDIENCE_BUTTONS
    await staff.press("English only · 3")  # the English text is there: straight to the preview
    assert "Audience: English only, 3 parents right now." in staff.last_text
    await staff.press("Confirm")
    [row] = scene.broadcasts
    assert (row["audience"], json.loads(row["texts"])) == ("lang:en", {"en": "A shorter note."})


async def test_a_restart_in_the_middle_loses_nothing(scene: Scene) -> None:
    await scene.staff.send("/broadcast")
    await scene.staff.press("Everyone · 5")
    await scene.staff.send(TEXT)
    await scene.env.restart()
    staff = scene.env.client(chat_id=STAFF_ID, user_id=STAFF_ID, first_name="Ana")
    await staff.send(TEXT_ES)
    assert "Everyone, 5 parents right now." in staff.last_text
    await staff.press("Confirm")
    [row] = scene.broadcasts
    assert json.loads(row["texts"]) == {"en": TEXT_HTML, "es": TEXT_ES}


async def test_staff_see_their_own_language(scene: Scene) -> None:
    staff = scene.env.client(
        chat_id=STAFF_ID, user_id=STAFF_ID, first_name="Ana", language_code="es-MX"
    )
    await staff.send("/broadcast")
    assert staff.last_text.startswith("Nuevo envío")
    assert staff.buttons[0] == "Todos · 5"
    await staff.press("Todos · 5")
    await staff.send("Hello")
    await staff.send("Hola")
    assert "Cuándo: justo después de que usted confirme." in staff.last_text


# --- what parents then get -------------------------------------------------------------------


async def test_the_status_message_has_the_engine_buttons(scene: Scene) -> None:
    await compose_to_preview(scene)
    await scene.staff.press("Confirm")
    status = scene.staff.last
    assert status.message_id == scene.broadcasts[0]["status_message_id"]
    assert status.text.startswith(f"📣 Broadcast #{scene.broadcasts[0]['id']}: waiting to start.")
    assert status.buttons == ["⏸ Pause", "✖ Cancel"]


async def test_parents_receive_exactly_the_preview(scene: Scene) -> None:
    await scene.staff.send("/broadcast")
    await scene.staff.press("Everyone · 5")
    await scene.staff.send(TEXT)
    mark = scene.staff.mark()
    await scene.staff.send(TEXT_ES)
    preview_en, preview_es, _ = scene.staff.new_since(mark)
    await scene.staff.press("Confirm")
    status_id = scene.broadcasts[0]["status_message_id"]
    await deliver_due(scene)
    for chat_id, lang, _ in PARENTS:
        [message] = received(scene, chat_id)
        preview = preview_en if lang == "en" else preview_es
        assert (message.source, message.text, message.entities) == (
            preview.source,
            preview.text,
            preview.entities,
        )
    status = scene.env.api.message(STAFF_ID, status_id)
    assert status is not None and status.text.startswith(
        f"✅ Broadcast #{scene.broadcasts[0]['id']}"
    )


async def test_parents_receive_the_photo_of_the_preview(scene: Scene) -> None:
    await scene.staff.send("/broadcast")
    await scene.staff.press("Español only · 2")
    mark = scene.staff.mark()
    await scene.staff.send_photo(caption="La oficina abre <b>de lunes a viernes</b>.")
    preview, _ = scene.staff.new_since(mark)
    await scene.staff.press("Confirm")
    await deliver_due(scene)
    [message] = received(scene, 2001)
    assert message.is_photo and message.photo_file_id == preview.photo_file_id
    assert (message.source, message.text) == (preview.source, preview.text)
    assert received(scene, 1001) == []


async def test_a_broadcast_confirmed_at_night_goes_out_in_the_morning(scene: Scene) -> None:
    scene.clock.now = at(2026, 11, 28, 21, 0)
    await compose_to_preview(scene)
    await scene.staff.press("✅ Confirm (sends Sun 08:00)")
    await deliver_due(scene)
    assert received(scene, 1001) == []
    scene.clock.now = at(2026, 11, 29, 8, 0)
    await deliver_due(scene)
    assert len(received(scene, 1001)) == 1


# --- cancel ---------------------------------------------------------------------------------


@pytest.mark.parametrize("step", ["content", "audience", "preview", "time"])
@pytest.mark.parametrize("how", ["button", "command"])
async def test_cancel_at_every_step_queues_nothing(scene: Scene, step: str, how: str) -> None:
    await reach(scene, step)
    if how == "button":
        await scene.staff.press("✖ Cancel")
    else:
        await scene.staff.send("/cancel")
    assert scene.staff.last_text == "Cancelled. Nothing was sent."
    assert scene.broadcasts == [] and scene.drafts == []
    # Afterwards the staff member's text is ordinary text again, not a draft.
    await scene.staff.send("hello")
    assert scene.drafts == [] and scene.broadcasts == []
    assert "Sorry, I can only answer the buttons" in texts_of(scene.staff.messages)[-2]


async def test_cancel_without_a_draft(scene: Scene) -> None:
    await scene.staff.send("/cancel")
    assert scene.staff.last_text == "There is nothing to cancel."


async def test_a_new_broadcast_replaces_an_unfinished_one_and_says_so(scene: Scene) -> None:
    await scene.staff.send("/broadcast")
    await scene.staff.press("Everyone · 5")
    await scene.staff.send(TEXT)
    await scene.staff.send("/broadcast")
    assert "Your earlier unfinished draft was discarded." in texts_of(scene.staff.messages)
    assert len(scene.drafts) == 1 and scene.drafts[0]["state"] == AWAITING_AUDIENCE


async def test_a_day_old_draft_is_discarded_not_sent(scene: Scene) -> None:
    await reach(scene, "preview")
    scene.clock.advance(hours=25)
    await scene.staff.press("Confirm")
    assert scene.staff.last_text.startswith("That draft was more than a day old")
    assert scene.broadcasts == [] and scene.drafts == []


# --- photos and formatting ------------------------------------------------------------------


async def test_a_photo_with_a_caption_then_the_other_captions(scene: Scene) -> None:
    await scene.staff.send("/broadcast")
    await scene.staff.press("Everyone · 5")
    caption = "Our office is open <b>Mon to Fri</b>."
    update = await scene.staff.send_photo(caption=caption)
    assert update.message is not None
    file_id = update.message.photo[-1].file_id
    assert scene.staff.last_text == (
        "✍️ Now the Spanish text for the 2 Spanish-reading parents. "
        "It goes with the same photo, as its caption."
    )
    mark = scene.staff.mark()
    caption_es = "La oficina abre <b>de lunes a viernes</b>."
    await scene.staff.send(caption_es)
    preview_en, preview_es, _ = scene.staff.new_since(mark)
    assert preview_en.is_photo and preview_en.photo_file_id == file_id
    assert preview_es.is_photo and preview_es.photo_file_id == file_id
    assert preview_en.source == scene.recipient_text({"en": caption}, "en")
    assert preview_es.source == scene.recipient_text({"es": caption_es}, "es")
    await scene.staff.press("Confirm")
    [row] = scene.broadcasts
    assert row["photo"] == file_id
    assert json.loads(row["texts"]) == {"en": caption, "es": caption_es}


async def test_telegram_formatting_is_kept_and_unsupported_formatting_removed(
    scene: Scene,
) -> None:
    await scene.staff.send("/broadcast")
    await scene.staff.press("English only · 3")
    text = "Read the plan. Ask for changes. Details here"
    entities = [
        {"type": "bold", "offset": 0, "length": 14},
        {"type": "underline", "offset": 15, "length": 16},
        {"type": "text_link", "offset": 40, "length": 4, "url": "https://example.org/a?b=1&c=2"},
    ]
    await send_formatted(scene.staff, text, entities)
    assert "Other formatting (underline" in texts_of(scene.staff.messages)[-2]
    await scene.staff.press("Confirm")
    assert json.loads(scene.broadcasts[0]["texts"]) == {
        "en": '<b>Read the plan.</b> Ask for changes. Details <a href="https://example.org/a?b=1&amp;c=2">here</a>'
    }


async def test_an_apostrophe_in_formatted_text_is_fine(scene: Scene) -> None:
    await scene.staff.send("/broadcast")
    await scene.staff.press("English only · 3")
    await send_formatted(scene.staff, "Don't wait", [{"type": "italic", "offset": 0, "length": 10}])
    await scene.staff.press("Confirm")
    assert json.loads(scene.broadcasts[0]["texts"]) == {"en": "<i>Don't wait</i>"}


async def send_formatted(client: ChatClient, text: str, entities: list[dict[str, Any]]) -> None:
    """A text formatted with Telegram's own menu (the fake client sends plain text only)."""
    from telegram import Update

    message = {
        "message_id": client.api.next_message_id(client.chat_id),
        "from": client.user,
        "chat": client.chat,
        "date": 1_800_000_000,
        "text": text,
        "entities": entities,
    }
    data = {"update_id": client.api.next_update_id(), "message": message}
    await client.deliver(Update.de_json(data, client.app.bot))


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("send", "expected"),
    [
        ("<b> </b>", "The message is empty."),
        ("<b>Unclosed", "“<b>” is never closed (near “<b>Unclosed”). Add “</b>” where"),
        ("<u>under</u>", "Telegram would refuse “<u>” (near “<u>under</u>”). Broadcasts can"),
        ('<a href="tg://x">x</a>', 'The link “<a href="tg://x">” would not work.'),
        ("<b>Hi</b>&nbsp;there", "Telegram does not know “&nbsp;” (near “<b>Hi</b>&nbsp;there”)"),
        ("word " * 820, "Telegram allows 4096. Please shorten it by"),
    ],
)
async def test_bad_text_is_explained_and_nothing_is_queued(
    scene: Scene, send: str, expected: str
) -> None:
    await scene.staff.send("/broadcast")
    await scene.staff.press("Everyone · 5")
    await scene.staff.send(send)
    assert expected in scene.staff.last_text
    assert scene.broadcasts == []
    assert scene.drafts[0]["state"] == AWAITING_CONTENT  # still waiting: send it again
    await scene.staff.send("A good text.")
    assert scene.staff.last_text.startswith("✍️ Now the Spanish text")
    await scene.staff.send(send)  # the same check for the Spanish text
    assert expected in scene.staff.last_text
    await scene.staff.send("Un buen texto.")
    assert scene.staff.buttons[0] == "✅ Confirm and send"


async def test_too_long_counts_the_stop_line(scene: Scene) -> None:
    footer = len(visible_text(scene.recipient_text({"*": "x"}, "es"))) - 1
    text = "a" * (4096 - footer + 1)  # fits alone, not with the line on how to stop
    await scene.staff.send("/broadcast")
    await scene.staff.press("Español only · 2")
    await scene.staff.send(text)
    assert "Please shorten it by" in scene.staff.last_text


async def test_a_caption_over_1024_is_refused(scene: Scene) -> None:
    await scene.staff.send("/broadcast")
    await scene.staff.press("Everyone · 5")
    await scene.staff.send_photo(caption="word " * 200)
    assert "Telegram allows 1024" in scene.staff.last_text
    await scene.staff.send_photo(caption="A short caption.")
    await scene.staff.send("palabra " * 200)  # a later caption has the same limit
    assert "Telegram allows 1024" in scene.staff.last_text
    assert scene.broadcasts == []


async def test_a_photo_without_caption_or_a_sticker_is_refused(scene: Scene) -> None:
    await scene.staff.send("/broadcast")
    await scene.staff.press("English only · 3")
    await scene.staff.send_photo()
    assert scene.staff.last_text.startswith("Please send the photo again with a caption.")
    await scene.staff.send_sticker()
    assert scene.staff.last_text.startswith("Please send text, or a photo with a caption.")
    await scene.staff.send_voice()
    assert scene.staff.last_text.startswith("Please send text, or a photo with a caption.")
    assert scene.broadcasts == []


async def test_typing_instead_of_pressing_shows_the_step_again(scene: Scene) -> None:
    await reach(scene, "audience")
    await scene.staff.send(TEXT)  # the text first, out of habit: the audience comes first
    assert texts_of(scene.staff.messages)[-2] == (
        "First choose who should receive it, with the buttons below. Then I will ask for the text."
    )
    assert "Who should receive it?" in scene.staff.last_text
    assert scene.staff.buttons == AUDIENCE_BUTTONS
    assert scene.drafts[0]["state"] == AWAITING_AUDIENCE
    await scene.staff.press("Everyone · 5")
    await scene.staff.send(TEXT)
    await scene.staff.send(TEXT_ES)
    await scene.staff.send("send it")
    assert "Please use the buttons above, or /cancel to stop." in texts_of(scene.staff.messages)
    assert scene.staff.buttons[0] == "✅ Confirm and send"
    assert scene.drafts[0]["state"] == PREVIEWING and scene.broadcasts == []


async def test_an_edit_is_not_taken_for_the_draft(scene: Scene) -> None:
    await scene.staff.send("/broadcast")
    await scene.staff.press("English only · 3")
    await scene.staff.send("Meeting on Tuesday")
    await scene.staff.edit_last_sent("Meeting on Wednesday")
    assert scene.staff.last_text.startswith("I can't use an edited message.")
    await scene.staff.press("Confirm")
    assert json.loads(scene.broadcasts[0]["texts"]) == {"en": "Meeting on Tuesday"}


async def test_an_unknown_audience_is_refused(scene: Scene) -> None:
    await reach(scene, "audience")
    data = scene.encode(Action("C", (scene.draft_id(), "a", "interest:astronauts")))
    await scene.staff.press_data(data)
    assert scene.staff.callback_answers[-1].text == (
        "That audience is not available. Please choose one of the buttons."
    )
    assert scene.staff.buttons == AUDIENCE_BUTTONS
    assert scene.broadcasts == [] and scene.drafts[0]["state"] == AWAITING_AUDIENCE


async def test_forged_staff_button_from_staff_is_answered_and_ignored(scene: Scene) -> None:
    await reach(scene, "preview")
    await scene.staff.press_data("1|C|abcdef|ok|AAAAAA")
    assert scene.staff.callback_answers[-1].text == (
        "That button is from an earlier step. It does nothing now."
    )
    assert scene.broadcasts == []
