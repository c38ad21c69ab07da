"""`ChatClient`: one Telegram user who sends text, stickers, photos, voice, edits and presses."""

from __future__ import annotations

import re
from typing import Any

from telegram import Update
from telegram.ext import Application

from tests.fakebot.api import Button, CallbackAnswer, FakeBotAPI, SentMessage
from tests.fakebot.common import JSON, now, utf16_len

AnyApplication = Application[Any, Any, Any, Any, Any, Any]
_BOT_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]+)?")


class ChatClient:
    """One Telegram user in a private chat with the bot, driving a real `Application`.

    Every action builds a realistic Bot API `Update` JSON, turns it into a real `telegram.Update`
    with `Update.de_json(data, app.bot)` and awaits `app.process_update(update)`; each returns
    that Update (pass it to `deliver` again to simulate a duplicate delivery). The read-side
    properties show the bot's messages as the phone shows them now (edits applied).
    """

    def __init__(
        self,
        app: AnyApplication,
        api: FakeBotAPI,
        *,
        chat_id: int = 4242,
        user_id: int | None = None,
        first_name: str = "Maria",
        last_name: str | None = None,
        username: str | None = "maria_p",
        language_code: str | None = "en",
    ) -> None:
        self.app = app
        self.api = api
        self.chat_id = chat_id
        self.user_id = chat_id if user_id is None else user_id
        user = {
            "id": self.user_id,
            "is_bot": False,
            "first_name": first_name,
            "last_name": last_name,
            "username": username,
            "language_code": language_code,
        }
        self.user: JSON = {key: value for key, value in user.items() if value is not None}
        chat = {
            "id": chat_id,
            "type": "private",
            "first_name": first_name,
            "last_name": last_name,
            "username": username,
        }
        self.chat: JSON = {key: value for key, value in chat.items() if value is not None}
        api.register_chat(self.chat)
        self._query_ids: list[str] = []
        # True: updates go to the running application's update queue, as polling hands them
        # over (its update processor decides when each runs); False: handled at once.
        self.queued = False
        self._last_text_message: JSON | None = None

    # --- acting ------------------------------------------------------------------------------

    async def deliver(self, update: Update) -> Update:
        """Feed an Update to the application (again), e.g. to test duplicate deliveries."""
        if self.queued:
            await self.app.update_queue.put(update)
        else:
            await self.app.process_update(update)
        return update

    async def send(self, text: str, *, update_id: int | None = None) -> Update:
        """Send a text; a leading /command gets its bot_command entity like on Telegram."""
        message = self._message(text=text, entities=_command_entities(text) or None)
        self._last_text_message = message
        return await self._update({"message": message}, update_id)

    async def send_sticker(self, emoji: str = "👍", *, update_id: int | None = None) -> Update:
        """Send a regular static sticker."""
        file_id, unique_id = self.api.new_file_id()
        sticker = {
            "file_id": file_id,
            "file_unique_id": unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        return await self._update({"message": self._message(sticker=sticker)}, update_id)

    async def send_photo(
        self, caption: str | None = None, *, update_id: int | None = None
    ) -> Update:
        """Send a photo (two sizes, like Telegram), optionally with a caption."""
        sizes = []
        for width, height in ((90, 67), (1280, 960)):
            file_id, unique_id = self.api.new_file_id()
            sizes.append(
                {
                    "file_id": file_id,
                    "file_unique_id": unique_id,
                    "width": width,
                    "height": height,
                    "file_size": width * height // 8,
                }
            )
        message = self._message(photo=sizes, caption=caption)
        return await self._update({"message": message}, update_id)

    async def send_voice(self, duration: int = 3, *, update_id: int | None = None) -> Update:
        """Send a voice note."""
        file_id, unique_id = self.api.new_file_id()
        voice = {
            "file_id": file_id,
            "file_unique_id": unique_id,
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": duration * 4000,
        }
        return await self._update({"message": self._message(voice=voice)}, update_id)

    async def edit_last_sent(self, text: str, *, update_id: int | None = None) -> Update:
        """Edit the user's last text message (an `edited_message` update)."""
        if self._last_text_message is None:
            raise AssertionError("the user has not sent a text message to edit yet")
        message = {**self._last_text_message, "text": text, "edit_date": now()}
        message.pop("entities", None)
        if entities := _command_entities(text):
            message["entities"] = entities
        self._last_text_message = message
        return await self._update({"edited_message": message}, update_id)

    async def press(self, label: str, *, update_id: int | None = None) -> Update:
        """Press a button on the newest bot message that has an inline keyboard.

        `label` matches a button's text exactly, else as a unique substring.
        """
        msg = self._keyboard_message()
        return await self._press(msg, _find_button(msg, label).callback_data, update_id)

    async def press_on(
        self, message_id: int, label: str, *, update_id: int | None = None
    ) -> Update:
        """Press a button on a specific (possibly older) bot message, as it is shown now."""
        msg = self._keyboard_message(message_id)
        return await self._press(msg, _find_button(msg, label).callback_data, update_id)

    async def press_data(
        self, data: str, message_id: int | None = None, *, update_id: int | None = None
    ) -> Update:
        """Send a callback query with forged `data` on the newest (or given) keyboard message."""
        return await self._press(self._keyboard_message(message_id), data, update_id)

    # --- what the user sees ------------------------------------------------------------------

    @property
    def messages(self) -> list[SentMessage]:
        """Bot messages in this chat, oldest first, as shown now (deleted ones excluded)."""
        return [msg for msg in self.api.chats.get(self.chat_id, []) if not msg.deleted]

    @property
    def last(self) -> SentMessage:
        """The newest bot message still shown."""
        messages = self.messages
        if not messages:
            raise AssertionError(f"the bot has shown no messages in chat {self.chat_id}")
        return messages[-1]

    @property
    def last_text(self) -> str:
        """Visible text (or caption) of the newest bot message."""
        return self.last.text

    @property
    def buttons(self) -> list[str]:
        """Button labels of the newest message with an inline keyboard ([] if none)."""
        msg = self._newest_keyboard_message()
        return msg.buttons if msg else []

    @property
    def url_buttons(self) -> dict[str, str]:
        """Label -> URL of the URL buttons on the newest message with an inline keyboard."""
        msg = self._newest_keyboard_message()
        return msg.url_buttons if msg else {}

    @property
    def callback_answers(self) -> list[CallbackAnswer]:
        """answerCallbackQuery calls for this user's presses, in press order."""
        answers = self.api.callback_answers
        return [answers[query_id] for query_id in self._query_ids if query_id in answers]

    def mark(self) -> int:
        """A point in time for `new_since`."""
        return self.api.version

    def new_since(self, mark: int) -> list[SentMessage]:
        """Shown messages sent or edited after `mark`."""
        return [msg for msg in self.messages if msg.version > mark]

    # --- internals ---------------------------------------------------------------------------

    def _message(self, **content: Any) -> JSON:
        message = {
            "message_id": self.api.next_message_id(self.chat_id),
            "from": self.user,
            "chat": self.chat,
            "date": now(),
        }
        message.update((key, value) for key, value in content.items() if value is not None)
        return message

    async def _update(self, payload: JSON, update_id: int | None) -> Update:
        data = {"update_id": self.api.next_update_id() if update_id is None else update_id}
        data.update(payload)
        update = Update.de_json(data, self.app.bot)
        return await self.deliver(update)

    async def _press(self, msg: SentMessage, data: str | None, update_id: int | None) -> Update:
        query = self.api.callback_query(self.chat_id, self.user, msg, data)
        self._query_ids.append(query["id"])
        return await self._update({"callback_query": query}, update_id)

    def _newest_keyboard_message(self) -> SentMessage | None:
        return next((msg for msg in reversed(self.messages) if msg.reply_markup), None)

    def _keyboard_message(self, message_id: int | None = None) -> SentMessage:
        if message_id is None:
            msg = self._newest_keyboard_message()
            if msg is None:
                shown = [m.text for m in self.messages]
                raise AssertionError(f"no bot message with an inline keyboard; shown: {shown}")
            return msg
        found = self.api.message(self.chat_id, message_id)
        if found is None or found.deleted:
            raise AssertionError(f"no bot message {message_id} shown in chat {self.chat_id}")
        return found


def _command_entities(text: str) -> list[JSON]:
    """The bot_command entity Telegram adds to a text starting with /command."""
    command = _BOT_COMMAND.match(text)
    if command is None:
        return []
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(command.group())}]


def _find_button(msg: SentMessage, label: str) -> Button:
    """The button labelled `label` (exact, else unique substring) that has callback_data."""
    flat = [button for row in msg.reply_markup for button in row]
    matches = [b for b in flat if b.text == label] or [b for b in flat if label in b.text]
    if len(matches) != 1:
        problem = "ambiguous" if matches else "no"
        raise AssertionError(
            f"{problem} button {label!r} on message {msg.message_id} {msg.text!r}; "
            f"buttons: {[b.text for b in flat]}"
        )
    if matches[0].callback_data is None:
        raise AssertionError(f"button {matches[0].text!r} has no callback_data (url button?)")
    return matches[0]
