"""Staff compose a broadcast, send or schedule tips, and the weekly tip: through the fake Bot API.

A staff member (user 777, conftest's STAFF_ID) and parents drive the real Application. The
delivery engine is not running here: these tests check what staff see and what gets queued
(exactly one broadcast on Confirm, nothing otherwise); delivery has its own tests.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import AsyncIterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.broadcast.queue import DeliveryEngine, EngineSettings, render_text
from bot.callbacks import Action
from bot.config import Settings
from bot.content import Content, visible_text
from bot.tg.app import PARENT_COMMANDS, STAFF_COMMANDS
from bot.tg.handlers.broadcast_compose import desk, post_weekly_tip
from flows.compose import (
    AWAITING_AUDIENCE,
    AWAITING_CONTENT,
    AWAITING_TIME,
    CANCELLED,
    CONFIRMED,
    PREVIEWING,
    Compose,
    Draft,
)
from flows.machine import NotAllowed
from tests.botenv import BotEnv
from tests.clock import FakeClock
from tests.conftest import STAFF_ID
from tests.fakes import CallbackAnswer, ChatClient, SentMessage

CHICAGO = ZoneInfo("America/Chicago")
PARENTS = [  # chat id, language, interest
    (1001, "en", "just_starting"),
    (1002, "en", "has_504"),
    (1003, "en", None),
    (2001, "es", "has_504"),
    (2002, "es", None),
]
AUDIENCE_BUTTONS = [
    "Everyone · 5",
    "English only · 3",
    "Español only · 2",
    "Just starting · 1",
    "Waiting for an evaluation · 0",
    "Has a 504 plan · 2",
    "Has an IEP · 0",
    "✖ Cancel",
]
TEXT = "<b>IEP meeting soon?</b> Bring your questions & a copy of the plan."
TEXT_HTML = "<b>IEP meeting soon?</b> Bring your questions &amp; a copy of the plan."


def at(*args: int) -> float:
    """A Chicago wall time as a unix time."""
    return dt.datetime(*args, tzinfo=CHICAGO).timestamp()


class Scene:
    """The bot, its clock, a staff member and a parent, with subscribers seeded."""

    def __init__(self, env: BotEnv, clock: FakeClock) -> None:
        self.env, self.clock = env, clock
        self.staff = env.client(
            chat_id=STAFF_ID, user_id=STAFF_ID, first_name="Ana", username="ana_adv"
        )
        self.parent = env.client()

    def seed(self) -> None:
        svc = self.env.app.bot_data["services"]
        rows = [
            {
                "chat_key": svc.pseudonymize(chat_id),
                "chat_id": chat_id,
                "lang": lang,
                "interest": interest,
                "opted_in_day": "2026-11-01",
            }
            for chat_id, lang, interest in PARENTS
        ]
        self.env.storage.db["subscribers"].insert_all(rows)  # type: ignore[union-attr]

    @property
    def broadcasts(self) -> list[dict[str, Any]]:
        return self.env.rows("broadcasts")

    @property
    def drafts(self) -> list[dict[str, Any]]:
        return self.env.rows("compose_drafts")

    def recipient_text(self, texts: dict[str, str], lang: str) -> str:
        """What a parent with this language receives, as the delivery engine renders it."""
        return render_text(texts, lang, self.env.content)

    def encode(self, action: Action) -> str:
        return self.env.app.bot_data["services"].codec.encode(action)

    def draft_id(self) -> str:
        return str(self.drafts[0]["draft_id"])


async def make_scene(
    settings: Settings, content: Content, clock: FakeClock, **changes: Any
) -> Scene:
    env = await BotEnv(dataclasses.replace(settings, **changes), content, clock).start()
    scene = Scene(env, clock)
    scene.seed()
    return scene


@pytest.fixture
async def scene(settings: Settings, content: Content, clock: FakeClock) -> AsyncIterator[Scene]:
    found = await make_scene(settings, content, clock)
    yield found
    await found.env.stop()


async def compose_to_preview(
    scene: Scene, text: str = TEXT, audience: str = "Everyone · 5"
) -> None:
    await scene.staff.send("/broadcast")
    await scene.staff.send(text)
    await scene.staff.press(audience)


def texts_of(messages: list[SentMessage]) -> list[str]:
    return [m.text for m in messages]


# --- the happy path ---------------------------------------------------------------------------


async def test_compose_preview_confirm_queues_exactly_one_broadcast(scene: Scene) -> None:
    staff = scene.staff
    await staff.send("/broadcast")
    assert staff.last_text.startswith("New broadcast")
    assert "preview" in staff.last_text and "/cancel" in staff.last_text
    await staff.send(TEXT)
    assert staff.last_text.startswith("Who should receive it?")
    assert staff.buttons == AUDIENCE_BUTTONS
    assert scene.broadcasts == []

    mark = staff.mark()
    await staff.press("Everyone · 5")
    shown = staff.new_since(mark)
    prompt, preview_en, preview_es, summary = shown
    assert prompt.text.endswith("✓ Everyone") and prompt.buttons == []
    # The exact messages parents get: each language's footer on the staff's text.
    assert preview_en.source == scene.recipient_text({"*": TEXT_HTML}, "en")
    assert preview_es.source == scene.recipient_text({"*": TEXT_HTML}, "es")
    assert preview_en.text.startswith("IEP meeting soon? Bring your questions & a copy")
    assert {"type": "bold", "offset": 0, "length": 17} in preview_en.entities
    assert "Everyone, 5 parents right now." in summary.text
    assert "When: right after you confirm." in summary.text
    assert "(English, Español)" in summary.text
    assert "America/Chicago" in summary.text
    assert summary.buttons == [
        "✅ Confirm and send",
        "🕒 Schedule for later",
        "✏️ Change the text",
        "👥 Change the audience",
        "✖ Cancel",
    ]
    assert scene.broadcasts == []  # nothing before Confirm

    await staff.press("✅ Confirm and send")
    [row] = scene.broadcasts
    assert row["audience"] == "all"
    assert json.loads(row["texts"]) == {"*": TEXT_HTML}
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


async def test_audience_one_language_previews_that_language_only(scene: Scene) -> None:
    await scene.staff.send("/broadcast")
    await scene.staff.send(TEXT)
    mark = scene.staff.mark()
    await scene.staff.press("Español only · 2")
    _, preview, summary = scene.staff.new_since(mark)
    assert preview.source == scene.recipient_text({"*": TEXT_HTML}, "es")
    assert "Audience: Español only, 2 parents right now." in summary.text
    await scene.staff.press("Confirm")
    assert scene.broadcasts[0]["audience"] == "lang:es"


async def test_an_empty_audience_is_said_plainly(scene: Scene) -> None:
    await compose_to_preview(scene, audience="Has an IEP · 0")
    assert "No parent is in this audience yet" in scene.staff.last_text


async def test_change_text_keeps_the_audience_and_change_audience_keeps_the_text(
    scene: Scene,
) -> None:
    staff = scene.staff
    await compose_to_preview(scene, audience="Has a 504 plan · 2")
    await staff.press("✏️ Change the text")
    assert staff.last_text.startswith("New broadcast")
    await staff.send("A shorter note.")
    assert "Audience: Has a 504 plan, 2 parents right now." in staff.last_text
    await staff.press("👥 Change the audience")
    assert staff.buttons == AUDIENCE_BUTTONS
    await staff.press("English only · 3")
    await staff.press("Confirm")
    [row] = scene.broadcasts
    assert (row["audience"], json.loads(row["texts"])) == ("lang:en", {"*": "A shorter note."})


async def test_a_restart_in_the_middle_loses_nothing(scene: Scene) -> None:
    await scene.staff.send("/broadcast")
    await scene.staff.send(TEXT)
    await scene.env.restart()
    staff = scene.env.client(chat_id=STAFF_ID, user_id=STAFF_ID, first_name="Ana")
    await staff.press("Everyone · 5")
    assert "Everyone, 5 parents right now." in staff.last_text
    await staff.press("Confirm")
    assert len(scene.broadcasts) == 1


async def test_staff_see_their_own_language(scene: Scene) -> None:
    staff = scene.env.client(
        chat_id=STAFF_ID, user_id=STAFF_ID, first_name="Ana", language_code="es-MX"
    )
    await staff.send("/broadcast")
    assert staff.last_text.startswith("Nuevo envío")
    await staff.send("Hola")
    assert staff.buttons[0] == "Todos · 5"
    await staff.press("Todos · 5")
    assert "Cuándo: justo después de que usted confirme." in staff.last_text


# --- what parents then get -------------------------------------------------------------------


def make_engine(scene: Scene) -> DeliveryEngine:
    """The real delivery engine, on the test clock."""
    svc = scene.env.app.bot_data["services"]

    async def sleep(seconds: float) -> None:
        scene.clock.advance(seconds=seconds)

    return DeliveryEngine(
        svc.broadcasts,
        scene.env.app.bot,
        svc.content,
        svc.codec,
        settings=EngineSettings(rate=1000),
        clock=scene.clock,
        sleep=sleep,
    )


async def deliver_due(scene: Scene) -> None:
    """One pass of the delivery engine over what is due."""
    await make_engine(scene).work()


async def test_the_status_message_has_the_engine_buttons(scene: Scene) -> None:
    scene.env.app.bot_data["engine"] = make_engine(scene)  # as post_init does
    await compose_to_preview(scene)
    await scene.staff.press("Confirm")
    status = scene.staff.last
    assert status.message_id == scene.broadcasts[0]["status_message_id"]
    assert status.text.startswith(f"📣 Broadcast #{scene.broadcasts[0]['id']}: waiting to start.")
    assert status.buttons == ["⏸ Pause", "✖ Cancel"]


def received(scene: Scene, chat_id: int) -> list[SentMessage]:
    return scene.env.api.chats.get(chat_id, [])


async def test_parents_receive_exactly_the_preview(scene: Scene) -> None:
    await scene.staff.send("/broadcast")
    await scene.staff.send(TEXT)
    mark = scene.staff.mark()
    await scene.staff.press("Everyone · 5")
    _, preview_en, preview_es, _ = scene.staff.new_since(mark)
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
    await scene.staff.send_photo(caption="Our office is open <b>Mon to Fri</b>.")
    mark = scene.staff.mark()
    await scene.staff.press("Español only · 2")
    _, preview, _ = scene.staff.new_since(mark)
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


async def _reach(scene: Scene, step: str) -> None:
    await scene.staff.send("/broadcast")
    if step == "content":
        return
    await scene.staff.send(TEXT)
    if step == "audience":
        return
    await scene.staff.press("Everyone · 5")
    if step == "preview":
        return
    await scene.staff.press("🕒 Schedule for later")
    assert step == "time"


@pytest.mark.parametrize("step", ["content", "audience", "preview", "time"])
@pytest.mark.parametrize("how", ["button", "command"])
async def test_cancel_at_every_step_queues_nothing(scene: Scene, step: str, how: str) -> None:
    await _reach(scene, step)
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
    await scene.staff.send(TEXT)
    await scene.staff.send("/broadcast")
    assert "Your earlier unfinished draft was discarded." in texts_of(scene.staff.messages)
    assert len(scene.drafts) == 1 and scene.drafts[0]["state"] == AWAITING_CONTENT


async def test_a_day_old_draft_is_discarded_not_sent(scene: Scene) -> None:
    await _reach(scene, "preview")
    scene.clock.advance(hours=25)
    await scene.staff.press("Confirm")
    assert scene.staff.last_text.startswith("That draft was more than a day old")
    assert scene.broadcasts == [] and scene.drafts == []


# --- photos and formatting ------------------------------------------------------------------


async def test_a_photo_with_a_caption(scene: Scene) -> None:
    await scene.staff.send("/broadcast")
    update = await scene.staff.send_photo(caption="Our office is open <b>Mon to Fri</b>.")
    assert update.message is not None
    file_id = update.message.photo[-1].file_id
    mark = scene.staff.mark()
    await scene.staff.press("Everyone · 5")
    _, preview_en, preview_es, _ = scene.staff.new_since(mark)
    assert preview_en.is_photo and preview_en.photo_file_id == file_id
    caption = "Our office is open <b>Mon to Fri</b>."
    assert preview_en.source == scene.recipient_text({"*": caption}, "en")
    assert preview_es.source == scene.recipient_text({"*": caption}, "es")
    await scene.staff.press("Confirm")
    [row] = scene.broadcasts
    assert row["photo"] == file_id and json.loads(row["texts"]) == {"*": caption}


async def test_telegram_formatting_is_kept_and_unsupported_formatting_removed(
    scene: Scene,
) -> None:
    await scene.staff.send("/broadcast")
    text = "Read the plan. Ask for changes. Details here"
    entities = [
        {"type": "bold", "offset": 0, "length": 14},
        {"type": "underline", "offset": 15, "length": 16},
        {"type": "text_link", "offset": 40, "length": 4, "url": "https://example.org/a?b=1&c=2"},
    ]
    await send_formatted(scene.staff, text, entities)
    assert "Other formatting (underline" in texts_of(scene.staff.messages)[-2]
    await scene.staff.press("Everyone · 5")
    await scene.staff.press("Confirm")
    assert json.loads(scene.broadcasts[0]["texts"]) == {
        "*": '<b>Read the plan.</b> Ask for changes. Details <a href="https://example.org/a?b=1&amp;c=2">here</a>'
    }


async def test_an_apostrophe_in_formatted_text_is_fine(scene: Scene) -> None:
    await scene.staff.send("/broadcast")
    await send_formatted(scene.staff, "Don't wait", [{"type": "italic", "offset": 0, "length": 10}])
    await scene.staff.press("Everyone · 5")
    await scene.staff.press("Confirm")
    assert json.loads(scene.broadcasts[0]["texts"]) == {"*": "<i>Don't wait</i>"}


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
        ("<b>Unclosed", "Telegram would not accept this formatting: <b> is never closed."),
        ("<u>under</u>", "Telegram would not accept this formatting: <u> is not allowed"),
        (
            '<a href="tg://x">x</a>',
            "Telegram would not accept this formatting: <a> needs an http(s) href",
        ),
        ("<b>Hi</b>&nbsp;there", "Telegram would not accept this formatting: &nbsp; is not"),
        ("word " * 820, "Telegram allows 4096. Please shorten it by"),
    ],
)
async def test_bad_text_is_explained_and_nothing_is_queued(
    scene: Scene, send: str, expected: str
) -> None:
    await scene.staff.send("/broadcast")
    await scene.staff.send(send)
    assert expected in scene.staff.last_text
    assert scene.broadcasts == []
    assert scene.drafts[0]["state"] == AWAITING_CONTENT  # still waiting: send it again
    await scene.staff.send("A good text.")
    assert scene.staff.buttons == AUDIENCE_BUTTONS


async def test_too_long_counts_the_stop_line(scene: Scene) -> None:
    footer = len(visible_text(scene.recipient_text({"*": "x"}, "es"))) - 1
    text = "a" * (4096 - footer + 1)  # fits alone, not with the line on how to stop
    await scene.staff.send("/broadcast")
    await scene.staff.send(text)
    assert "Please shorten it by" in scene.staff.last_text


async def test_a_caption_over_1024_is_refused(scene: Scene) -> None:
    await scene.staff.send("/broadcast")
    await scene.staff.send_photo(caption="word " * 200)
    assert "Telegram allows 1024" in scene.staff.last_text
    assert scene.broadcasts == []


async def test_a_photo_without_caption_or_a_sticker_is_refused(scene: Scene) -> None:
    await scene.staff.send("/broadcast")
    await scene.staff.send_photo()
    assert scene.staff.last_text.startswith("Please send the photo again with a caption.")
    await scene.staff.send_sticker()
    assert scene.staff.last_text.startswith("Please send text, or a photo with a caption.")
    await scene.staff.send_voice()
    assert scene.staff.last_text.startswith("Please send text, or a photo with a caption.")
    assert scene.broadcasts == []


async def test_typing_instead_of_pressing_shows_the_step_again(scene: Scene) -> None:
    await _reach(scene, "audience")
    await scene.staff.send("everyone")
    assert "Please use the buttons above, or /cancel to stop." in texts_of(scene.staff.messages)
    assert scene.staff.buttons == AUDIENCE_BUTTONS


async def test_an_edit_is_not_taken_for_the_draft(scene: Scene) -> None:
    await scene.staff.send("/broadcast")
    await scene.staff.send("Meeting on Tuesday")
    await scene.staff.edit_last_sent("Meeting on Wednesday")
    assert scene.staff.last_text.startswith("I can't use an edited message.")
    await scene.staff.press("Everyone · 5")
    await scene.staff.press("Confirm")
    assert json.loads(scene.broadcasts[0]["texts"]) == {"*": "Meeting on Tuesday"}


async def test_an_unknown_audience_is_refused(scene: Scene) -> None:
    await _reach(scene, "audience")
    data = scene.encode(Action("C", (scene.draft_id(), "a", "interest:astronauts")))
    await scene.staff.press_data(data)
    assert scene.staff.callback_answers[-1].text == (
        "That audience is not available. Please choose one of the buttons."
    )
    assert scene.staff.buttons == AUDIENCE_BUTTONS
    assert scene.broadcasts == [] and scene.drafts[0]["state"] == AWAITING_AUDIENCE


async def test_forged_staff_button_from_staff_is_answered_and_ignored(scene: Scene) -> None:
    await _reach(scene, "preview")
    await scene.staff.press_data("1|C|abcdef|ok|AAAAAA")
    assert scene.staff.callback_answers[-1].text == (
        "That button is from an earlier step. It does nothing now."
    )
    assert scene.broadcasts == []


# --- scheduling, quiet hours --------------------------------------------------------------------


async def test_schedule_a_broadcast(scene: Scene) -> None:
    staff = scene.staff
    await _reach(scene, "time")
    assert "When should it go? Send a date and time in America/Chicago" in staff.last_text
    for typed, answer in [
        ("2020-01-01 10:00", "That time has already passed."),
        ("someday", "I could not read that time. Please write it like 2026-11-29 09:30"),
        ("2026-02-30 10:00", "That date does not exist."),
    ]:
        await staff.send(typed)
        assert staff.last_text.startswith(answer)
    assert scene.drafts[0]["state"] == AWAITING_TIME
    await staff.send("2026-12-01 09:30")
    summary = staff.last_text
    assert "When: Tue 1 Dec 2026, 09:30." in summary
    assert staff.buttons[:3] == [
        "✅ Confirm (sends Tue 09:30)",
        "🕒 Change the time",
        "⚡ Send as soon as allowed",
    ]
    await staff.press("✅ Confirm (sends Tue 09:30)")
    [row] = scene.broadcasts
    assert row["not_before"] == at(2026, 12, 1, 9, 30)
    assert (
        "is scheduled for Tue 1 Dec 2026, 09:30 (5 parents right now)"
        in texts_of(staff.messages)[-2]
    )


async def test_a_schedule_can_be_dropped_again(scene: Scene) -> None:
    await _reach(scene, "time")
    await scene.staff.send("tomorrow 9:00")
    await scene.staff.press("⚡ Send as soon as allowed")
    assert "When: right after you confirm." in scene.staff.last_text
    await scene.staff.press("Confirm")
    assert scene.broadcasts[0]["not_before"] is None


async def test_confirmed_in_quiet_hours_it_waits_for_the_morning(scene: Scene) -> None:
    scene.clock.now = at(2026, 11, 28, 21, 0)  # Saturday 21:00 in Chicago
    await compose_to_preview(scene)
    assert (
        "When: it is quiet hours now (20:00–08:00), so it will wait until Sun 29 Nov 2026, 08:00."
        in scene.staff.last_text
    )
    assert scene.staff.buttons[:2] == ["✅ Confirm (sends Sun 08:00)", "⚡ Send now anyway"]
    await scene.staff.press("✅ Confirm (sends Sun 08:00)")
    assert scene.broadcasts[0]["not_before"] == at(2026, 11, 29, 8, 0)


async def test_send_now_anyway_ignores_quiet_hours(scene: Scene) -> None:
    scene.clock.now = at(2026, 11, 28, 21, 0)
    await compose_to_preview(scene)
    await scene.staff.press("⚡ Send now anyway")
    [row] = scene.broadcasts
    assert row["not_before"] is None
    assert "is queued for 5 parents" in texts_of(scene.staff.messages)[-2]


async def test_quiet_hours_are_judged_at_confirm_not_at_preview(scene: Scene) -> None:
    scene.clock.now = at(2026, 11, 28, 19, 58)
    await compose_to_preview(scene)
    assert "right after you confirm" in scene.staff.last_text
    scene.clock.advance(seconds=180)  # 20:01: quiet hours began while staff read the preview
    await scene.staff.press("Confirm")
    assert scene.broadcasts[0]["not_before"] == at(2026, 11, 29, 8, 0)


async def test_quiet_hours_across_the_fall_back_night(scene: Scene) -> None:
    """Sat 31 Oct 2026, 21:00 CDT: the morning is 08:00 CST, twelve real hours later."""
    scene.clock.now = at(2026, 10, 31, 21, 0)
    await compose_to_preview(scene)
    assert "wait until Sun 1 Nov 2026, 08:00" in scene.staff.last_text
    await scene.staff.press("Confirm")
    assert scene.broadcasts[0]["not_before"] - scene.clock.now == 12 * 3600


async def test_a_time_scheduled_inside_quiet_hours_moves_to_the_morning(scene: Scene) -> None:
    await _reach(scene, "time")
    await scene.staff.send("2026-12-01 22:00")
    assert (
        "you chose Tue 1 Dec 2026, 22:00, which is inside quiet hours (20:00–08:00), "
        "so it will go at Wed 2 Dec 2026, 08:00." in scene.staff.last_text
    )
    assert "⚡ Send at Tue 22:00 anyway" in scene.staff.buttons
    await scene.staff.press("✅ Confirm (sends Wed 08:00)")
    assert scene.broadcasts[0]["not_before"] == at(2026, 12, 2, 8, 0)


async def test_a_time_scheduled_inside_quiet_hours_can_be_kept(scene: Scene) -> None:
    await _reach(scene, "time")
    await scene.staff.send("2026-12-01 22:00")
    await scene.staff.press("⚡ Send at Tue 22:00 anyway")
    assert scene.broadcasts[0]["not_before"] == at(2026, 12, 1, 22, 0)


async def test_a_time_skipped_by_spring_forward_is_refused(scene: Scene) -> None:
    scene.clock.now = at(2027, 3, 1, 9, 0)
    await _reach(scene, "time")
    await scene.staff.send("2027-03-14 02:30")
    assert scene.staff.last_text.startswith("That time does not exist on that day")


# --- /tips --------------------------------------------------------------------------------------


async def test_tips_are_listed_in_every_language_on_pages_that_fit(
    scene: Scene, content: Content
) -> None:
    staff = scene.staff
    await staff.send("/tips")
    listing = staff.last
    pages = int(listing.text.split("page 1 of ")[1].split(".")[0])
    assert pages > 1
    seen = [listing.text]
    for _ in range(pages - 1):
        await staff.press("Next ▶")
        assert staff.last.message_id == listing.message_id  # paged in place
        seen.append(staff.last.text)
    assert "Next ▶" not in staff.buttons
    assert all(len(page) <= 4096 for page in seen)
    everything = "\n".join(seen)
    for code, pack in content.languages.items():
        for tip in pack.tips:
            assert visible_text(tip.text).strip() in everything, (code, tip.id)
    count = len(content.pack("en").tips)
    for number in range(1, count + 1):
        assert sum(f"\n{number}. " in f"\n{page}" for page in seen) == 1
    assert "Weekly tip: off." in listing.text


async def test_send_a_tip_now_each_parent_in_their_language(scene: Scene, content: Content) -> None:
    staff = scene.staff
    first = content.pack("en").tips[0]
    texts = {code: pack.tips[0].text for code, pack in content.languages.items()}
    await staff.send("/tips")
    mark = staff.mark()
    await staff.press("📤 Send 1")
    preview_en, preview_es, summary = staff.new_since(mark)
    assert preview_en.source == scene.recipient_text(texts, "en")
    assert preview_es.source == scene.recipient_text(texts, "es")
    assert "Ready-made tip: Asking for an evaluation." in summary.text
    assert "✏️ Change the text" not in summary.buttons
    assert scene.broadcasts == []
    await staff.press("Confirm")
    [row] = scene.broadcasts
    assert (row["tip_id"], row["origin"], row["audience"]) == (first.id, "tip", "all")
    assert json.loads(row["texts"]) == texts
    await staff.send("/tips")
    assert "1. Asking for an evaluation\n✓ already sent" in staff.last_text


async def test_schedule_a_tip(scene: Scene, content: Content) -> None:
    second = content.pack("en").tips[1]
    await scene.staff.send("/tips")
    await scene.staff.press("🕒 Schedule 2")
    assert scene.staff.last_text.startswith("When should it go?")
    await scene.staff.send("2026-12-03 10:00")
    assert "When: Thu 3 Dec 2026, 10:00." in scene.staff.last_text
    await scene.staff.press("Confirm")
    [row] = scene.broadcasts
    assert (row["tip_id"], row["not_before"]) == (second.id, at(2026, 12, 3, 10, 0))


async def test_an_unknown_tip_is_refused(scene: Scene) -> None:
    await scene.staff.send("/tips")
    await scene.staff.press_data(scene.encode(Action("Y", ("n", "no_such_tip"))))
    assert any(
        t.startswith("That tip is no longer in the content.")
        for t in texts_of(scene.staff.messages)
    )
    assert scene.staff.last_text.startswith("Ready-made tips")
    assert scene.broadcasts == [] and scene.drafts == []


# --- the weekly tip -------------------------------------------------------------------------------


@pytest.fixture
async def drip_scene(
    settings: Settings, content: Content, clock: FakeClock
) -> AsyncIterator[Scene]:
    found = await make_scene(settings, content, clock, drip_weekday=1, drip_hour=10)
    yield found
    await found.env.stop()


async def test_the_weekly_tip_sends_the_next_unsent_tip_once_per_week(
    drip_scene: Scene, content: Content
) -> None:
    scene, tips = drip_scene, content.pack("en").tips
    scene.clock.now = at(2026, 12, 1, 9, 59)  # Tuesday, before the hour
    assert await post_weekly_tip(scene.env.app) is None
    scene.clock.now = at(2026, 12, 1, 10, 5)
    run = await post_weekly_tip(scene.env.app)
    assert run is not None and (run.week, run.tip_id) == ("2026-W49", tips[0].id)
    [row] = scene.broadcasts
    assert (row["origin"], row["tip_id"], row["created_by"], row["audience"]) == (
        "drip",
        tips[0].id,
        None,
        "all",
    )
    assert row["not_before"] is None
    told = texts_of(scene.staff.messages)
    assert (
        f"🗓 Weekly tip queued for everyone (5 parents): Asking for an evaluation. "
        f"Broadcast #{row['id']}." in told
    )
    assert row["status_message_id"] == scene.staff.last.message_id
    # Again the same day, and after a restart: nothing more.
    scene.clock.advance(hours=1)
    assert await post_weekly_tip(scene.env.app) is None
    await scene.env.restart()
    assert await post_weekly_tip(scene.env.app) is None
    assert len(scene.broadcasts) == 1
    # Next Tuesday: the next tip.
    scene.clock.now = at(2026, 12, 8, 10, 0)
    run = await post_weekly_tip(scene.env.app)
    assert run is not None and run.tip_id == tips[1].id


async def test_the_weekly_tip_note_is_in_the_staff_members_language(drip_scene: Scene) -> None:
    staff = drip_scene.env.client(
        chat_id=STAFF_ID, user_id=STAFF_ID, first_name="Ana", language_code="es"
    )
    await staff.send("/tips")
    drip_scene.clock.now = at(2026, 12, 1, 10, 0)
    await post_weekly_tip(drip_scene.env.app)
    assert texts_of(staff.messages)[-2].startswith(
        "🗓 Consejo semanal en cola para todos (5 padres)"
    )


async def test_the_weekly_tip_skips_tips_sent_by_hand(drip_scene: Scene, content: Content) -> None:
    scene, tips = drip_scene, content.pack("en").tips
    await scene.staff.send("/tips")
    await scene.staff.press("📤 Send 1")
    await scene.staff.press("Confirm")
    scene.clock.now = at(2026, 12, 1, 10, 0)
    run = await post_weekly_tip(scene.env.app)
    assert run is not None and run.tip_id == tips[1].id


async def test_the_weekly_tip_is_not_sent_a_day_late(drip_scene: Scene) -> None:
    drip_scene.clock.now = at(2026, 12, 2, 10, 0)  # Wednesday
    assert await post_weekly_tip(drip_scene.env.app) is None
    assert drip_scene.broadcasts == []


async def test_when_every_tip_was_sent_staff_are_told_once(
    drip_scene: Scene, content: Content
) -> None:
    scene = drip_scene
    for tip in content.pack("en").tips:
        desk(scene.env.app).broadcasts.queue(
            audience="all", texts={"en": tip.text}, tip_id=tip.id, created_by=None, origin="cli"
        )
    before = len(scene.broadcasts)
    scene.clock.now = at(2026, 12, 1, 10, 0)
    run = await post_weekly_tip(scene.env.app)
    assert run is not None and run.broadcast_id is None
    assert scene.staff.last_text.startswith("🗓 This week's tip was skipped")
    assert await post_weekly_tip(scene.env.app) is None
    assert len(scene.broadcasts) == before


async def test_the_weekly_tip_respects_quiet_hours(
    settings: Settings, content: Content, clock: FakeClock
) -> None:
    scene = await make_scene(settings, content, clock, drip_weekday=1, drip_hour=21)
    try:
        scene.clock.now = at(2026, 12, 1, 21, 0)
        await post_weekly_tip(scene.env.app)
        assert scene.broadcasts[0]["not_before"] == at(2026, 12, 2, 8, 0)
    finally:
        await scene.env.stop()


async def test_tips_list_shows_the_weekly_tip(drip_scene: Scene) -> None:
    await drip_scene.staff.send("/tips")
    text = drip_scene.staff.last_text
    assert (
        "Weekly tip: every Tue at 10:00, the next tip not yet sent. Next: Tue 1 Dec 2026, 10:00."
        in text
    )
    assert "1. Asking for an evaluation\nnot sent yet · next weekly tip" in text


# --- only staff ----------------------------------------------------------------------------


async def _unknown_command_reply(client: ChatClient) -> list[tuple[str, list[str]]]:
    mark = client.mark()
    await client.send("/frobnicate")
    return [(m.text, m.buttons) for m in client.new_since(mark)]


async def test_non_staff_get_only_the_unknown_command_reply(scene: Scene) -> None:
    parent = scene.parent
    expected = await _unknown_command_reply(parent)
    assert expected[0][0].startswith("I don't know that command.")
    for command in ("/broadcast", "/tips", "/cancel", "/broadcast@iep_test_bot"):
        mark = parent.mark()
        await parent.send(command)
        assert [(m.text, m.buttons) for m in parent.new_since(mark)] == expected, command
    # A parent's text afterwards is a parent's text: no draft was opened for them.
    assert scene.drafts == []


async def test_non_staff_pressing_staff_buttons_get_only_the_unknown_command_reply(
    scene: Scene,
) -> None:
    # A real staff draft exists, so its genuine signed buttons are live.
    await _reach(scene, "preview")
    draft = scene.draft_id()
    parent = scene.parent
    expected = await _unknown_command_reply(parent)
    genuine = [
        scene.encode(Action("C", (draft, op, *extra)))
        for op, *extra in [("ok",), ("now",), ("x",), ("a", "all"), ("t",), ("e",), ("w",), ("u",)]
    ] + [scene.encode(Action("Y", args)) for args in [("p", "1"), ("n", "iee"), ("s", "iee")]]
    forged = ["1|C|abcdef|ok|AAAAAA", "1|Y|n|iee|zzzzzz", "2|C|x|y", "1|Y|"]
    for data in genuine + forged:
        mark = parent.mark()
        await parent.press_data(data)
        assert [(m.text, m.buttons) for m in parent.new_since(mark)] == expected, data
        assert parent.callback_answers[-1] == CallbackAnswer(None, False, None), data
    assert scene.broadcasts == []
    assert [row["state"] for row in scene.drafts] == [PREVIEWING]  # staff's draft untouched


async def test_a_parent_is_never_caught_by_a_staff_draft(scene: Scene) -> None:
    await scene.staff.send("/broadcast")
    await scene.parent.send("hello")
    assert scene.parent.last_text == "What would you like to do?"
    assert scene.drafts[0]["state"] == AWAITING_CONTENT


async def test_staff_command_menu_only_in_staff_chats(scene: Scene, content: Content) -> None:
    api = scene.env.api
    await scene.env.app.post_init(scene.env.app)
    staff_menu = [c["command"] for c in api.my_commands[(f"chat:{STAFF_ID}", "")]]
    assert staff_menu == [*PARENT_COMMANDS, *STAFF_COMMANDS]
    assert {"broadcast", "tips", "cancel"} <= set(STAFF_COMMANDS)
    spanish = {c["command"]: c["description"] for c in api.my_commands[(f"chat:{STAFF_ID}", "es")]}
    assert spanish["broadcast"] == content.pack("es").t("staff.commands.broadcast")
    for key, commands in api.my_commands.items():
        if key[0] == "default":
            assert not {c["command"] for c in commands} & set(STAFF_COMMANDS), key


async def test_a_staff_member_who_never_opened_the_bot_does_not_stop_start_up(
    settings: Settings, content: Content, clock: FakeClock
) -> None:
    scene = await make_scene(settings, content, clock, staff_ids=frozenset({STAFF_ID, 31337}))
    try:
        from bot.tg.app import _set_staff_commands

        api = scene.env.api
        api.fail("setMyCommands", 400, description="Bad Request: chat not found", times=1)
        await _set_staff_commands(scene.env.app)  # what post_init runs after the parent menus
        assert (f"chat:{STAFF_ID}", "") not in api.my_commands  # 777 sorts first: it failed
        assert ("chat:31337", "") in api.my_commands
        assert ("chat:31337", "es") in api.my_commands
    finally:
        await scene.env.stop()


# --- the compose machine -------------------------------------------------------------------


def test_machine_walks_content_audience_preview_confirm() -> None:
    compose = Compose()
    draft = compose.new_message("d1")
    compose.write(draft, text="<b>Hi</b>", photo="FILE")
    assert (draft.state, draft.text, draft.photo) == (AWAITING_AUDIENCE, "<b>Hi</b>", "FILE")
    compose.choose_audience(draft, "lang:es")
    assert (draft.state, draft.audience) == (PREVIEWING, "lang:es")
    compose.ask_time(draft)
    compose.set_time(draft, 1234.0)
    assert (draft.state, draft.send_at) == (PREVIEWING, 1234.0)
    compose.confirm(draft, ignore_quiet=True)
    assert (draft.state, draft.ignore_quiet, draft.is_open) == (CONFIRMED, True, False)


@pytest.mark.parametrize(
    ("state", "refused"),
    [
        (AWAITING_CONTENT, ["choose_audience", "confirm", "ask_time", "edit_audience", "set_time"]),
        (AWAITING_AUDIENCE, ["write", "confirm", "ask_time", "edit_content", "set_time"]),
        (AWAITING_TIME, ["write", "confirm", "choose_audience", "ask_time"]),
        (PREVIEWING, ["write", "choose_audience", "set_time"]),
        (CONFIRMED, ["cancel", "confirm", "write", "edit_content"]),
        (CANCELLED, ["cancel", "confirm", "write"]),
    ],
)
def test_machine_refuses_steps_out_of_order_and_changes_nothing(
    state: str, refused: list[str]
) -> None:
    compose = Compose()
    calls = {
        "write": lambda d: compose.write(d, text="x"),
        "choose_audience": lambda d: compose.choose_audience(d, "all"),
        "confirm": compose.confirm,
        "ask_time": compose.ask_time,
        "set_time": lambda d: compose.set_time(d, 1.0),
        "edit_content": compose.edit_content,
        "edit_audience": compose.edit_audience,
        "cancel": compose.cancel,
    }
    for name in refused:
        draft = Draft("d1", state=state, text="t", audience="all")
        before = dataclasses.replace(draft)
        with pytest.raises(NotAllowed):
            calls[name](draft)
        assert draft == before, name


def test_machine_cancel_leaves_from_every_open_step() -> None:
    compose = Compose()
    for state in (AWAITING_CONTENT, AWAITING_AUDIENCE, AWAITING_TIME, PREVIEWING):
        draft = Draft("d1", state=state, audience="all")
        compose.cancel(draft)
        assert draft.state == CANCELLED


def test_machine_after_a_text_change_goes_back_to_the_preview() -> None:
    compose = Compose()
    draft = Draft("d1", state=PREVIEWING, text="old", audience="interest:has_504")
    compose.edit_content(draft)
    compose.write(draft, text="new")
    assert (draft.state, draft.text, draft.audience) == (PREVIEWING, "new", "interest:has_504")


def test_machine_tips_start_at_preview_or_time_and_keep_their_text() -> None:
    compose = Compose()
    now = compose.new_tip("d1", "iee", schedule=False)
    assert (now.state, now.audience, now.tip_id) == (PREVIEWING, "all", "iee")
    with pytest.raises(NotAllowed):
        compose.edit_content(now)
    later = compose.new_tip("d2", "iee", schedule=True)
    assert later.state == AWAITING_TIME and later.expects_text
    compose.set_time(later, 99.0)
    assert later.state == PREVIEWING
    compose.clear_time(later)
    assert later.send_at is None
