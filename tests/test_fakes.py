"""The fake Bot API and ChatClient behave like Telegram for a tiny real Application."""

from __future__ import annotations

import datetime as dtm
import re
from collections.abc import AsyncIterator
from contextlib import AbstractContextManager
from typing import Any

import pytest
import pytest_asyncio
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, EndPointNotFound, Forbidden, NetworkError, RetryAfter
from telegram.error import TimedOut as TimedOutError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    TypeHandler,
)

from tests.fakebot import (
    BOT_USER,
    CallbackAnswer,
    ChatClient,
    EntityParseError,
    FakeBotAPI,
    parse_html,
)

pytestmark = pytest.mark.asyncio

App = Application[Any, Any, Any, Any, Any, Any]
CHAT = 4242
WELCOME = "Hi <b>Maria</b> &amp; welcome!\nReady?"


def bad_request(text: str) -> AbstractContextManager[pytest.ExceptionInfo[BadRequest]]:
    """Expect BadRequest mentioning `text`. PTB strips "Bad Request: " and capitalize()s the
    rest, so "BUTTON_DATA_INVALID" arrives as "Button_data_invalid": match case-insensitively.
    """
    return pytest.raises(BadRequest, match=re.compile(re.escape(text), re.IGNORECASE))


def keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Yes", callback_data="yes"),
                InlineKeyboardButton("No, thanks", callback_data="no"),
            ],
            [InlineKeyboardButton("Read more", url="https://example.org/iep")],
        ]
    )


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    context.bot_data["args"] = context.args
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        WELCOME, parse_mode=ParseMode.HTML, reply_markup=keyboard()
    )


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer(f"Got {query.data}")
    await query.edit_message_text(f"You chose <i>{query.data}</i>.", parse_mode=ParseMode.HTML)


async def record_update(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    context.bot_data.setdefault("updates", []).append(update)


async def record_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    context.bot_data.setdefault("errors", []).append(context.error)


@pytest.fixture
def api() -> FakeBotAPI:
    return FakeBotAPI()


@pytest_asyncio.fixture
async def app(api: FakeBotAPI) -> AsyncIterator[App]:
    application = ApplicationBuilder().token("999:TEST").request(api).get_updates_request(api)
    built = application.build()
    built.add_handler(CommandHandler("start", start))
    built.add_handler(CallbackQueryHandler(button))
    built.add_handler(TypeHandler(Update, record_update), group=1)
    built.add_error_handler(record_error)
    await built.initialize()
    yield built
    await built.shutdown()


@pytest.fixture
def client(app: App, api: FakeBotAPI) -> ChatClient:
    return ChatClient(app, api, chat_id=CHAT)


async def test_initialize_calls_get_me(app: App, api: FakeBotAPI) -> None:
    assert api.calls[0].method == "getMe"
    assert app.bot.username == BOT_USER["username"]
    assert app.bot.id == 999


async def test_start_shows_text_and_buttons(app: App, client: ChatClient) -> None:
    await client.send("/start campaign_1")

    assert app.bot_data["args"] == ["campaign_1"]
    assert client.last_text == "Hi Maria & welcome!\nReady?"
    assert client.last.source == WELCOME
    assert client.last.entities == [{"type": "bold", "offset": 3, "length": 5}]
    assert client.buttons == ["Yes", "No, thanks", "Read more"]
    assert client.url_buttons == {"Read more": "https://example.org/iep"}


async def test_press_edits_in_place_and_answers(client: ChatClient) -> None:
    await client.send("/start")
    shown = client.last
    mark = client.mark()

    await client.press("Yes")

    assert client.messages == [shown]
    assert shown.edited
    assert client.last_text == "You chose yes."
    assert client.last.reply_markup == []  # edit without reply_markup drops the keyboard
    assert client.new_since(mark) == [shown]
    assert client.callback_answers == [CallbackAnswer("Got yes", False, None)]
    assert client.callback_answers == [("Got yes", False, None)]


async def test_press_matches_unique_substring_and_lists_buttons_when_missing(
    client: ChatClient,
) -> None:
    await client.send("/start")
    await client.press("thanks")
    assert client.last_text == "You chose no."

    await client.send("/start")
    with pytest.raises(AssertionError, match=r"no button 'Maybe'.*'Yes', 'No, thanks'"):
        await client.press("Maybe")
    with pytest.raises(AssertionError, match="no callback_data"):
        await client.press("Read more")


async def test_press_on_a_stale_message(client: ChatClient) -> None:
    await client.send("/start")
    first = client.last.message_id
    await client.send("/start")

    await client.press_on(first, "No")

    first_shown, second_shown = client.messages
    assert first_shown.text == "You chose no."
    assert second_shown.buttons == ["Yes", "No, thanks", "Read more"]


async def test_forged_press(client: ChatClient) -> None:
    await client.send("/start")
    await client.press_data("forged:data")
    assert client.last_text == "You chose forged:data."


async def test_retry_after(
    app: App, api: FakeBotAPI, client: ChatClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    api.fail("sendMessage", 429, retry_after=7)

    with pytest.raises(RetryAfter) as caught:
        await app.bot.send_message(CHAT, "hello")

    assert caught.value.retry_after == dtm.timedelta(seconds=7)
    assert api.calls[-1].status == 429
    await app.bot.send_message(CHAT, "hello")  # the injected failure is used up
    assert client.last_text == "hello"


async def test_forbidden_and_block(app: App, api: FakeBotAPI, client: ChatClient) -> None:
    api.fail("sendMessage", 403)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await app.bot.send_message(CHAT, "hello")

    api.block(CHAT)
    await client.send("/start")  # the handler's error reaches the error handler
    assert [type(error) for error in app.bot_data["errors"]] == [Forbidden]
    assert client.messages == []

    api.unblock(CHAT)
    await client.send("/start")
    assert client.buttons


async def test_server_and_network_errors(app: App, api: FakeBotAPI) -> None:
    api.fail("sendMessage", 500)
    with pytest.raises(NetworkError, match="Internal Server Error"):
        await app.bot.send_message(CHAT, "hello")
    api.fail("sendMessage", 502)
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await app.bot.send_message(CHAT, "hello")
    api.fail_network("sendMessage")
    with pytest.raises(NetworkError):
        await app.bot.send_message(CHAT, "hello")
    api.fail_network("sendMessage", "timeout_before")
    with pytest.raises(TimedOutError):
        await app.bot.send_message(CHAT, "hello")
    assert [call.status for call in api.calls_to("sendMessage")] == [500, 502, 0, 0]


async def test_failures_can_target_one_chat(app: App, api: FakeBotAPI) -> None:
    api.fail("sendMessage", 400, description="Bad Request: chat not found", chat_id=7, times=2)
    await app.bot.send_message(CHAT, "other chats are fine")
    for _ in range(2):
        with bad_request("chat not found"):
            await app.bot.send_message(7, "hello")
    await app.bot.send_message(7, "hello")


async def test_callback_data_over_64_bytes_rejected(app: App, api: FakeBotAPI) -> None:
    def markup(data: str) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data=data)]])

    await app.bot.send_message(CHAT, "ok", reply_markup=markup("é" * 32))  # 64 bytes
    with bad_request("BUTTON_DATA_INVALID"):
        await app.bot.send_message(CHAT, "too long", reply_markup=markup("é" * 32 + "x"))
    assert len(api.chats[CHAT]) == 1


async def test_text_length_and_emptiness(app: App) -> None:
    await app.bot.send_message(CHAT, "<b>" + "a" * 4096 + "</b>", parse_mode=ParseMode.HTML)
    with bad_request("message is too long"):
        await app.bot.send_message(CHAT, "a" * 4097)
    with bad_request("message text is empty"):
        await app.bot.send_message(CHAT, " \n<b></b>", parse_mode=ParseMode.HTML)


@pytest.mark.parametrize(
    ("html", "error"),
    [
        ("<div>x</div>", 'Unsupported start tag "div" at byte offset 0'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("é < 3", 'Unsupported start tag "" at byte offset 3'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ('<span class="x">y</span>', 'Tag "span" must have class "tg-spoiler"'),
    ],
)
async def test_invalid_html_rejected(app: App, html: str, error: str) -> None:
    with bad_request("can't parse entities") as caught:
        await app.bot.send_message(CHAT, html, parse_mode=ParseMode.HTML)
    assert caught.value.message == f"Can't parse entities: {error}".capitalize()


async def test_parse_html_decodes_entities_and_attributes() -> None:
    html = (
        '😀 <a href="https://x.org/?a=1&amp;b=2">link</a> '
        '<pre><code class="language-py">p</code></pre>'
    )
    text, entities = parse_html(html)
    assert text == "😀 link p"
    assert entities == [
        {"type": "text_link", "url": "https://x.org/?a=1&b=2", "offset": 3, "length": 4},
        {"type": "pre", "language": "py", "offset": 8, "length": 1},
    ]
    assert parse_html("5 &lt; 6 &nbsp; &#128512;") == ("5 < 6 &nbsp; 😀", [])
    with pytest.raises(EntityParseError):
        parse_html("<tg-emoji>x</tg-emoji>")


async def test_returned_message_renders_back_to_html(app: App) -> None:
    sent = await app.bot.send_message(
        CHAT, "<b>bold <i>both</i></b> 😀 <u>u</u>", parse_mode="HTML"
    )
    assert sent.text == "bold both 😀 u"
    assert sent.text_html == "<b>bold <i>both</i></b> 😀 <u>u</u>"
    assert sent.from_user is not None and sent.from_user.id == 999


async def test_edit_errors(app: App, client: ChatClient) -> None:
    await client.send("/start")
    message_id = client.last.message_id
    await app.bot.edit_message_text("Same", chat_id=CHAT, message_id=message_id)
    with bad_request("message is not modified"):
        await app.bot.edit_message_text("Same", chat_id=CHAT, message_id=message_id)
    with bad_request("message to edit not found"):
        await app.bot.edit_message_text("x", chat_id=CHAT, message_id=message_id + 100)

    await app.bot.edit_message_reply_markup(CHAT, message_id, reply_markup=keyboard())
    assert client.buttons == ["Yes", "No, thanks", "Read more"]
    assert await app.bot.delete_message(CHAT, message_id)
    assert client.messages == []
    with bad_request("message to edit not found"):
        await app.bot.edit_message_text("x", chat_id=CHAT, message_id=message_id)
    with bad_request("message to delete not found"):
        await app.bot.delete_message(CHAT, message_id)


async def test_callback_query_answered_twice_is_rejected(app: App, client: ChatClient) -> None:
    await client.send("/start")
    await client.press("Yes")
    query = app.bot_data["updates"][-1].callback_query
    with bad_request("query is too old"):
        await query.answer()


async def test_multipart_send_photo_recorded(app: App, api: FakeBotAPI, client: ChatClient) -> None:
    png = b"\x89PNG\r\n\x1a\nfake"
    sent = await app.bot.send_photo(
        CHAT, photo=png, filename="chart.png", caption="<b>Chart</b>", parse_mode="HTML"
    )

    (call,) = api.calls_to("sendPhoto")
    assert call.files["photo"].content == png
    assert (call.files["photo"].filename, call.files["photo"].mime_type) == (
        "chart.png",
        "image/png",
    )
    assert "photo" not in call.params  # PTB only sends uploads as multipart parts
    assert sent.photo and sent.caption == "Chart"
    assert client.last.is_photo and client.last.photo == png and client.last_text == "Chart"

    with bad_request("message caption is too long"):
        await app.bot.send_photo(CHAT, photo=png, caption="c" * 1025)
    with bad_request("there is no text in the message to edit"):
        await app.bot.edit_message_text("x", chat_id=CHAT, message_id=sent.message_id)


async def test_user_media_edits_and_duplicate_update_ids(app: App, client: ChatClient) -> None:
    await client.send("hello", update_id=500)
    await client.edit_last_sent("hello again")
    await client.send_sticker()
    await client.send_photo(caption="my kid's report")
    await client.send_voice()
    await client.send("again", update_id=500)

    updates: list[Update] = app.bot_data["updates"]
    messages = [u.effective_message for u in updates]
    assert [u.update_id for u in updates][::5] == [500, 500]
    assert updates[1].edited_message is messages[1]
    assert messages[1].text == "hello again" and messages[1].message_id == messages[0].message_id
    assert messages[2].sticker.emoji == "👍"
    assert messages[3].photo and messages[3].caption == "my kid's report"
    assert messages[4].voice is not None
    assert [m.message_id for m in messages] == [1, 1, 2, 3, 4, 5]


async def test_command_updates_carry_bot_command_entity(app: App, client: ChatClient) -> None:
    update = await client.send("/start@iep_test_bot now")
    assert update.message is not None
    assert update.message.entities[0].type == "bot_command"
    assert update.message.entities[0].length == len("/start@iep_test_bot")
    assert update.get_bot() is app.bot
    assert app.bot_data["args"] == ["now"]

    edited = await client.edit_last_sent("plain words")
    assert edited.edited_message is not None and edited.edited_message.entities == ()


async def test_commands_menu_and_unknown_method(app: App, api: FakeBotAPI) -> None:
    await app.bot.set_my_commands([("start", "Start over")], language_code="es")
    assert api.my_commands[("default", "es")] == [{"command": "start", "description": "Start over"}]
    assert [c.command for c in await app.bot.get_my_commands(language_code="es")] == ["start"]
    with bad_request("BOT_COMMAND_INVALID"):
        await app.bot.set_my_commands([("Start", "x")])

    with pytest.raises(EndPointNotFound):
        await app.bot.do_api_request("sendHologram", api_kwargs={"chat_id": CHAT})
    assert api.calls[-1].status == 404


async def test_custom_base_url_and_shared_instance() -> None:
    api = FakeBotAPI()
    app = (
        ApplicationBuilder()
        .token("999:TEST")
        .base_url("http://127.0.0.1:8081/custom/bot")
        .request(api)
        .get_updates_request(api)
        .build()
    )
    async with app:
        await app.bot.send_chat_action(CHAT, "typing")
        assert await app.bot.get_updates() == ()
    assert list(api.counts) == ["getMe", "sendChatAction", "getUpdates"]


async def test_keep_history_false_counts_only() -> None:
    api = FakeBotAPI(keep_history=False)
    async with (
        ApplicationBuilder().token("999:TEST").request(api).get_updates_request(api).build() as bare
    ):
        for _ in range(3):
            sent = await bare.bot.send_message(CHAT, "x")
        await bare.bot.edit_message_text("y", chat_id=CHAT, message_id=sent.message_id)
    assert sent.message_id == 3
    assert api.counts["sendMessage"] == 3
    assert api.calls == [] and api.chats == {}
