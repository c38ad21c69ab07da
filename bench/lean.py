"""A lean Bot API for in-process benchmarks: it answers at once and does nothing else.

The test fake (tests/fakebot/) checks every call, stores every message and parses every
keyboard; that work would pad both sides of a full-bot-versus-bare-PTB comparison and hide
the difference. Here each call costs what the real transport costs up to the wire (PTB's
`json_parameters`, as HTTPXRequest does) and gets back what Telegram would send: the
message, with its text and keyboard, for a send or an edit; `true` for everything else.

`LeanChat` is a parent: it builds the Update JSON a phone would produce, parses it with
`Update.de_json` (a real bot pays for that too) and awaits `app.process_update`. It presses
buttons by label, from the last keyboard the bot sent to its chat.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from telegram import Update
from telegram.request import BaseRequest, RequestData

_TRUE = b'{"ok":true,"result":true}'
_ME = json.dumps(
    {
        "ok": True,
        "result": {"id": 999, "is_bot": True, "first_name": "Bench", "username": "bench_bot"},
    }
).encode()
_MESSAGE_METHODS = frozenset({"sendMessage", "editMessageText"})


class LeanBotAPI(BaseRequest):
    """A BaseRequest that answers every call at once; it remembers each chat's last keyboards."""

    KEPT = 8  # keyboards per chat: a result is followed by the check-in offer's own buttons

    def __init__(self) -> None:
        # chat id -> {message id: reply_markup as sent}, oldest first, the last KEPT of them
        self.keyboards: dict[int, dict[str, str]] = {}
        self.message_ids = itertools.count(1)
        self.calls = 0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    @property
    def read_timeout(self) -> float | None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        self.calls += 1
        endpoint = url.rsplit("/", 1)[-1]
        # What HTTPXRequest does with the call before it reaches the wire.
        params = request_data.json_parameters if request_data else {}
        if endpoint in _MESSAGE_METHODS:
            return 200, self._message(params)
        if endpoint == "getMe":
            return 200, _ME
        if endpoint == "getUpdates":
            return 200, b'{"ok":true,"result":[]}'
        return 200, _TRUE

    def _message(self, params: dict[str, str]) -> bytes:
        """The Message Telegram returns for a send or an edit: id, chat, text, keyboard."""
        chat_id = int(params["chat_id"])
        markup = params.get("reply_markup")
        message_id = params.get("message_id") or str(next(self.message_ids))
        if markup:
            kept = self.keyboards.setdefault(chat_id, {})
            kept.pop(message_id, None)  # an edit makes it the newest
            kept[message_id] = markup
            while len(kept) > self.KEPT:
                del kept[next(iter(kept))]
        keyboard = f',"reply_markup":{markup}' if markup else ""
        return (
            f'{{"ok":true,"result":{{"message_id":{message_id},"date":1764633600,'
            f'"chat":{{"id":{chat_id},"type":"private","first_name":"Parent"}},'
            f'"text":{json.dumps(params.get("text", ""))}{keyboard}}}}}'
        ).encode()


class LeanChat:
    """One parent in a private chat, driving the application directly."""

    update_ids = itertools.count(1)

    def __init__(self, app: Any, api: LeanBotAPI, chat_id: int) -> None:
        self.app, self.api, self.chat_id = app, api, chat_id
        self.user = {"id": chat_id, "is_bot": False, "first_name": "Parent", "language_code": "en"}
        self.chat = {"id": chat_id, "type": "private", "first_name": "Parent"}

    async def send(self, text: str) -> None:
        message: dict[str, Any] = {
            "message_id": next(self.api.message_ids),
            "from": self.user,
            "chat": self.chat,
            "date": 1764633600,
            "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text)}]
        await self._deliver({"message": message})

    async def press(self, label: str) -> None:
        """Press the button with this label on the newest keyboard here that has it."""
        message_id, data = next(
            (mid, b["callback_data"])
            for mid, markup in reversed(self.api.keyboards[self.chat_id].items())
            for row in json.loads(markup)["inline_keyboard"]
            for b in row
            if b["text"] == label
        )
        message = {
            "message_id": int(message_id),
            "date": 1764633600,
            "chat": self.chat,
            "text": "…",
        }
        query = {
            "id": str(next(self.update_ids)),
            "from": self.user,
            "message": message,
            "chat_instance": f"-{self.chat_id}",
            "data": data,
        }
        await self._deliver({"callback_query": query})

    async def _deliver(self, payload: dict[str, Any]) -> None:
        raw = {"update_id": next(self.update_ids), **payload}
        await self.app.process_update(Update.de_json(raw, self.app.bot))
