"""The fake Bot API server: message store, faults, the callback-answer-once rule, command menus.

See the package docstring (`tests.fakebot`) for how to plug it into an Application.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import re
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import httpx
from telegram.error import NetworkError, TelegramError, TimedOut
from telegram.request import BaseRequest, RequestData

from tests.fakebot.common import JSON, now, utf16_len
from tests.fakebot.html import EntityParseError, parse_html

BOT_USER: JSON = {
    "id": 999,
    "is_bot": True,
    "first_name": "IEP Helper",
    "username": "iep_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
    "can_connect_to_business": False,
    "has_main_web_app": False,
}
"""The `getMe` answer: the bot as Telegram describes it."""

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"
BLOCKED = "Forbidden: bot was blocked by the user"
_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    403: BLOCKED,
    409: "Conflict: terminated by other getUpdates request; make sure that only one bot"
    " instance is running",
    500: "Internal Server Error",
    502: "Bad Gateway",
}
# Calls that put a message in a chat: what Telegram's flood limits count.
MESSAGE_METHODS = frozenset(
    {"sendMessage", "sendPhoto", "sendDocument", "editMessageText", "editMessageCaption"}
)
Fault = Literal[
    "refused",
    "connect_timeout",
    "pool_timeout",
    "reset_before",
    "reset_after",
    "timeout_before",
    "timeout_after",
]
"""A transport fault, named for what the bot can and cannot know:

- `refused`, `connect_timeout`, `pool_timeout`: the request never left the bot (resend is safe);
- `reset_before`, `timeout_before`: the request was written, Telegram dropped it unprocessed;
- `reset_after`, `timeout_after`: Telegram processed it (the message is in the chat), then
  the connection dropped or the answer never came.

The bot sees the same exception for `*_before` and `*_after`: that is the point.
"""
_PROCESSED_FIRST = frozenset({"reset_after", "timeout_after"})
_BUTTON_ACTIONS = frozenset(
    {
        "callback_data",
        "url",
        "web_app",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "copy_text",
        "callback_game",
        "pay",
    }
)
_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete"
    " the webhook first"
)
_TRIMMED = " \t\r\n"


@dataclass(frozen=True, slots=True)
class Button:
    """One inline keyboard button as the user sees it."""

    text: str
    callback_data: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Upload:
    """A file the bot uploaded via multipart/form-data."""

    filename: str
    content: bytes
    mime_type: str


@dataclass(slots=True)
class Call:
    """One request the bot made. `status` is the HTTP status answered (0 = network fault)."""

    method: str
    params: JSON
    at: float
    files: dict[str, Upload] = field(default_factory=dict)
    status: int = 200
    error: str | None = None


class CallbackAnswer(NamedTuple):
    """What the bot passed to answerCallbackQuery (compares equal to a plain tuple)."""

    text: str | None
    show_alert: bool
    url: str | None


@dataclass(slots=True, eq=False)
class SentMessage:
    """A bot message as the user's phone shows it now; edits update it in place.

    `text` is the visible text (or the caption of a photo) after entity parsing and trimming;
    `source` is the text exactly as the bot last sent it, markup included.
    """

    chat_id: int
    message_id: int
    date: int
    text: str
    source: str
    parse_mode: str | None
    entities: list[JSON]
    markup: JSON | None
    reply_markup: list[list[Button]]
    photo: bytes | None = None
    photo_filename: str | None = None
    photo_file_id: str | None = None
    # A document: the file as uploaded (name, bytes, MIME type), or sent again by file_id.
    document: bytes | None = None
    document_filename: str | None = None
    document_mime_type: str | None = None
    document_file_id: str | None = None
    edited: bool = False
    deleted: bool = False
    edit_date: int | None = None
    version: int = 0

    @property
    def is_photo(self) -> bool:
        """Whether this is a photo message (its `text` is the caption)."""
        return self.photo_file_id is not None

    @property
    def is_document(self) -> bool:
        """Whether this is a document (a file; its `text` is the caption)."""
        return self.document_file_id is not None

    @property
    def has_caption(self) -> bool:
        """Whether its text is a caption (a photo or a document), edited with editMessageCaption."""
        return self.is_photo or self.is_document

    @property
    def buttons(self) -> list[str]:
        """Labels of all inline buttons, row by row."""
        return [button.text for row in self.reply_markup for button in row]

    @property
    def url_buttons(self) -> dict[str, str]:
        """Label -> URL of the URL buttons."""
        return {b.text: b.url for row in self.reply_markup for b in row if b.url is not None}


class _ApiError(Exception):
    """An unsuccessful Bot API answer, raised inside the fake and turned into a response."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after


@dataclass(slots=True)
class _Failure:
    """A queued fault: an HTTP error answer, a transport `fault`, or a `delay` before answering."""

    chat_id: int | None
    times: int
    status: int
    description: str = ""
    retry_after: int | None = None
    fault: Fault | None = None
    delay: float = 0.0


def transport_error(fault: Fault) -> TelegramError:
    """The exception PTB's HTTPXRequest raises for this fault (the httpx error as its cause)."""
    cause: httpx.HTTPError
    if fault == "refused":
        cause = httpx.ConnectError("All connection attempts failed")
    elif fault == "connect_timeout":
        cause = httpx.ConnectTimeout("timed out")
    elif fault == "pool_timeout":
        cause = httpx.PoolTimeout("timed out")
    elif fault in ("reset_before", "reset_after"):
        cause = httpx.RemoteProtocolError("Server disconnected without sending a response.")
    else:
        cause = httpx.ReadTimeout("timed out")
    if isinstance(cause, httpx.TimeoutException):
        error: TelegramError = TimedOut()
    else:
        error = NetworkError(f"httpx.{type(cause).__name__}: {cause}")
    error.__cause__ = cause
    return error


class FloodLimit:
    """Telegram's flood control as a sliding window: at most `per_second` message calls in any
    second bot-wide (and `per_chat` in one chat, if set); more answer 429 with retry_after."""

    def __init__(self, per_second: int, per_chat: int | None, clock: Callable[[], float]) -> None:
        self.per_second, self.per_chat, self.clock = per_second, per_chat, clock
        self.recent: deque[tuple[float, int | None]] = deque()
        self.refused = 0
        self.refused_chats: Counter[int | None] = Counter()  # whose messages met a 429

    def admit(self, chat_id: int | None) -> int | None:
        """None if the call may go (and it is counted); else the seconds to wait."""
        now = self.clock()
        while self.recent and self.recent[0][0] <= now - 1.0:
            self.recent.popleft()
        full = len(self.recent) >= self.per_second
        if not full and self.per_chat is not None:
            full = sum(1 for _, c in self.recent if c == chat_id) >= self.per_chat
        if full:
            self.refused += 1
            self.refused_chats[chat_id] += 1
            return max(1, math.ceil(self.recent[0][0] + 1.0 - now))
        self.recent.append((now, chat_id))
        return None


def _bad_request(description: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {description}")


_Handler = Callable[[JSON, dict[str, Upload]], Any]


class FakeBotAPI(BaseRequest):
    """In-memory Bot API server that PTB talks to through `BaseRequest.do_request`.

    Args:
        latency: seconds to `asyncio.sleep` per call (for benchmarks; keep 0 in tests).
        keep_history: when False, only `counts` and id counters are kept: no `calls`, no stored
            messages (edits of unknown messages then succeed), no `callback_answers`.
    """

    def __init__(
        self,
        *,
        latency: float = 0.0,
        keep_history: bool = True,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.latency = latency
        self.sleep = sleep  # how a slow answer waits (tests pass one that moves a fake clock)
        self.flood: FloodLimit | None = None
        self.pending_updates: list[JSON] = []  # what getUpdates hands out until confirmed
        self._new_update = asyncio.Event()
        self.keep_history = keep_history
        self.calls: list[Call] = []
        self.counts: Counter[str] = Counter()
        self.chats: dict[int, list[SentMessage]] = {}
        self.callback_answers: dict[str, CallbackAnswer] = {}
        self.my_commands: dict[tuple[str, str], list[JSON]] = {}
        self.blocked: set[int] = set()
        # The webhook as setWebhook left it (url, secret_token, allowed_updates, ...), or None.
        self.webhook: JSON | None = None
        self._messages: dict[tuple[int, int], SentMessage] = {}
        self._last_message_ids: dict[int, int] = {}
        self._chat_objects: dict[int, JSON] = {}
        self._failures: dict[str, list[_Failure]] = {}
        self._open_queries: dict[str, int] = {}
        self._update_ids = itertools.count(1)
        self._query_ids = itertools.count(4_000_000_001)
        self._file_ids = itertools.count(1)
        self._version = 0
        self._handlers: dict[str, _Handler] = {
            "getMe": lambda params, files: BOT_USER,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "sendChatAction": self._send_chat_action,
            "setMyCommands": self._set_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "getMyCommands": self._get_my_commands,
            "getUpdates": self._get_updates_now,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "close": lambda params, files: True,
            "logOut": lambda params, files: True,
        }

    # --- BaseRequest -------------------------------------------------------------------------

    @property
    def read_timeout(self) -> float | None:
        """Default read timeout PTB adds to long-polling timeouts."""
        return 5.0

    async def initialize(self) -> None:
        """Nothing to set up; state lives as long as the instance."""

    async def shutdown(self) -> None:
        """Nothing to tear down; state survives so tests can assert after `app.shutdown()`."""

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
        """Answer one Bot API call with `(HTTP status, JSON body)`, like api.telegram.org."""
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        api_method = url.rsplit("/", 1)[-1].split("?", 1)[0]
        params: JSON = request_data.parameters if request_data is not None else {}
        if isinstance(params.get("reply_markup"), str):
            params["reply_markup"] = json.loads(params["reply_markup"])
        files = _uploads(request_data) if request_data and request_data.contains_files else {}
        self.counts[api_method] += 1
        call = None
        if self.keep_history:
            call = Call(api_method, params, asyncio.get_running_loop().time(), files)
            self.calls.append(call)
        try:
            chat_id = self._target_chat(params)
            failure = self._take_failure(api_method, chat_id) if self._failures else None
            if failure is not None and failure.delay:
                await self.sleep(failure.delay)
                failure = None if failure.status == -1 else failure
            if failure is not None and failure.fault is not None:
                if failure.fault in _PROCESSED_FIRST:
                    self._answer(api_method, params, files, chat_id)
                fault = transport_error(failure.fault)
                if call is not None:
                    call.status, call.error = 0, failure.fault
                raise fault
            if failure is not None:
                raise _ApiError(failure.status, failure.description, failure.retry_after)
            if api_method == "getUpdates":
                if self.webhook is not None:
                    raise _ApiError(409, WEBHOOK_ACTIVE)
                await self._wait_for_updates(params)
            result = self._answer(api_method, params, files, chat_id)
        except _ApiError as err:
            if call is not None:
                call.status, call.error = err.status, err.description
            body: JSON = {"ok": False, "error_code": err.status, "description": err.description}
            if err.retry_after is not None:
                body["parameters"] = {"retry_after": err.retry_after}
            return err.status, json.dumps(body).encode()
        return 200, json.dumps({"ok": True, "result": result}).encode()

    def _answer(self, api_method: str, params: JSON, files: dict[str, Upload], chat_id: Any) -> Any:
        """What Telegram does with a call that reached it: the flood limit, blocks, the method."""
        if self.flood is not None and api_method in MESSAGE_METHODS:
            wait = self.flood.admit(chat_id)
            if wait is not None:
                raise _ApiError(429, f"Too Many Requests: retry after {wait}", wait)
        if chat_id in self.blocked and "chat_id" in params:
            raise _ApiError(403, BLOCKED)
        handler = self._handlers.get(api_method)
        if handler is None:
            raise _ApiError(404, "Not Found: method not found")
        return handler(params, files)

    # --- test controls -----------------------------------------------------------------------

    def fail(
        self,
        method: str,
        status: int,
        *,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
        chat_id: int | None = None,
    ) -> None:
        """Answer the next `times` calls of `method` (for `chat_id`, or any chat) with `status`.

        429 answers "Too Many Requests: retry after N" with `parameters.retry_after` (N defaults
        to 1); other statuses use `description` or Telegram's usual text for that status.
        """
        if status == 429:
            retry_after = 1 if retry_after is None else retry_after
            description = description or f"Too Many Requests: retry after {retry_after}"
        elif description is None:
            description = _DEFAULT_DESCRIPTIONS.get(status, f"Error {status}")
        self._queue(method, _Failure(chat_id, times, status, description, retry_after))

    def fail_network(
        self,
        method: str,
        fault: Fault = "refused",
        *,
        times: int = 1,
        chat_id: int | None = None,
    ) -> None:
        """Make the next `times` calls meet a transport `fault` (see `Fault`), raised as PTB's
        HTTPXRequest raises it; `*_after` faults deliver the message first."""
        self._queue(method, _Failure(chat_id, times, status=0, fault=fault))

    def slow(
        self, method: str, seconds: float, *, times: int = 1, chat_id: int | None = None
    ) -> None:
        """Answer the next `times` calls only after `seconds` (waited with `self.sleep`)."""
        self._queue(method, _Failure(chat_id, times, status=-1, delay=seconds))

    def limit_flood(
        self,
        per_second: int = 30,
        *,
        per_chat: int | None = None,
        clock: Callable[[], float] | None = None,
    ) -> FloodLimit:
        """Enforce Telegram's flood limits from now on (`clock` defaults to the loop's time)."""
        self.flood = FloodLimit(
            per_second, per_chat, clock or (lambda: asyncio.get_running_loop().time())
        )
        return self.flood

    def push_update(self, update: JSON) -> None:
        """Queue a raw update (any JSON, even one PTB cannot parse) for getUpdates to hand out;
        it stays until the bot confirms it with a higher offset, as on Telegram."""
        self.pending_updates.append(update)
        self._new_update.set()

    def block(self, chat_id: int) -> None:
        """The user blocks the bot: every call addressed to `chat_id` answers 403 from now on."""
        self.blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        """The user unblocks the bot again."""
        self.blocked.discard(chat_id)

    def calls_to(self, method: str) -> list[Call]:
        """Recorded calls of one Bot API method, oldest first."""
        return [call for call in self.calls if call.method == method]

    def message(self, chat_id: int, message_id: int) -> SentMessage | None:
        """A bot message by id (deleted ones included), or None."""
        return self._messages.get((chat_id, message_id))

    @property
    def version(self) -> int:
        """Counter bumped on every message send, edit or delete (see `ChatClient.mark`)."""
        return self._version

    # --- hooks for ChatClient ----------------------------------------------------------------

    def register_chat(self, chat: JSON) -> None:
        """Use this Chat JSON in messages to `chat["id"]` (otherwise a generic private chat)."""
        self._chat_objects[chat["id"]] = chat

    def next_update_id(self) -> int:
        """Next global update_id."""
        return next(self._update_ids)

    def next_message_id(self, chat_id: int) -> int:
        """Next message_id in a chat; users and the bot share the counter, as on Telegram."""
        message_id = self._last_message_ids.get(chat_id, 0) + 1
        self._last_message_ids[chat_id] = message_id
        return message_id

    def new_file_id(self) -> tuple[str, str]:
        """A fresh (file_id, file_unique_id) pair."""
        n = next(self._file_ids)
        return f"AgACAgIAAxkBAAI{n:08d}", f"AQAD{n:08d}"

    def open_callback_query(self, chat_id: int) -> str:
        """Issue a callback query id that the bot may answer once."""
        query_id = str(next(self._query_ids))
        self._open_queries[query_id] = chat_id
        return query_id

    def callback_query(self, chat_id: int, user: JSON, msg: SentMessage, data: str | None) -> JSON:
        """A press of a button (`data`) on `msg` by `user` in `chat_id`, as the update's
        callback_query (with a new query id the bot may answer once)."""
        return {
            "id": self.open_callback_query(chat_id),
            "from": user,
            "message": self.message_json(msg),
            "chat_instance": f"-{chat_id}00",
            "data": data,
        }

    def message_json(self, msg: SentMessage) -> JSON:
        """The Bot API `Message` object for a bot message as it looks now."""
        data: JSON = {
            "message_id": msg.message_id,
            "from": BOT_USER,
            "chat": self._chat_objects.get(msg.chat_id)
            or {"id": msg.chat_id, "type": "private", "first_name": f"User {msg.chat_id}"},
            "date": msg.date,
        }
        if msg.is_photo:
            data["photo"] = [
                {
                    "file_id": msg.photo_file_id,
                    "file_unique_id": f"U{msg.photo_file_id}",
                    "width": 1280,
                    "height": 720,
                    "file_size": len(msg.photo or b""),
                }
            ]
            if msg.text:
                data["caption"] = msg.text
            if msg.entities:
                data["caption_entities"] = msg.entities
        elif msg.is_document:
            document: JSON = {
                "file_id": msg.document_file_id,
                "file_unique_id": f"U{msg.document_file_id}",
                "file_size": len(msg.document or b""),
            }
            if msg.document_filename is not None:
                document["file_name"] = msg.document_filename
            if msg.document_mime_type is not None:
                document["mime_type"] = msg.document_mime_type
            data["document"] = document
            if msg.text:
                data["caption"] = msg.text
            if msg.entities:
                data["caption_entities"] = msg.entities
        else:
            data["text"] = msg.text
            if msg.entities:
                data["entities"] = msg.entities
        if msg.markup is not None:
            data["reply_markup"] = msg.markup
        if msg.edit_date is not None:
            data["edit_date"] = msg.edit_date
        return data

    # --- internals ---------------------------------------------------------------------------

    def _queue(self, method: str, failure: _Failure) -> None:
        if failure.times < 1:
            raise ValueError("times must be >= 1")
        self._failures.setdefault(method, []).append(failure)

    def _take_failure(self, method: str, chat_id: int | None) -> _Failure | None:
        queue = self._failures.get(method)
        if not queue:
            return None
        for failure in queue:
            if failure.chat_id is None or failure.chat_id == chat_id:
                failure.times -= 1
                if failure.times == 0:
                    queue.remove(failure)
                    if not queue:
                        del self._failures[method]
                return failure
        return None

    def _target_chat(self, params: JSON) -> int | None:
        """The chat a call concerns: its chat_id, or the chat of the callback query it answers."""
        raw = params.get("chat_id")
        if raw is None:
            query_id = params.get("callback_query_id")
            return self._open_queries.get(query_id) if query_id is not None else None
        try:
            return int(raw)
        except ValueError:
            return None

    def _require_chat(self, params: JSON) -> int:
        chat_id = self._target_chat(params) if "chat_id" in params else None
        if chat_id is None:
            raise _bad_request("chat not found")
        return chat_id

    def _touch(self, msg: SentMessage) -> None:
        self._version += 1
        msg.version = self._version

    def _store(self, msg: SentMessage) -> JSON:
        self._touch(msg)
        if self.keep_history:
            self.chats.setdefault(msg.chat_id, []).append(msg)
            self._messages[(msg.chat_id, msg.message_id)] = msg
        return self.message_json(msg)

    def _send_message(self, params: JSON, files: dict[str, Upload]) -> JSON:
        chat_id = self._require_chat(params)
        source = params.get("text", "")
        text, entities = _format_text(
            source, params.get("parse_mode"), params.get("entities"), caption=False
        )
        markup, rows = _inline_keyboard(params.get("reply_markup"))
        msg = SentMessage(
            chat_id=chat_id,
            message_id=self.next_message_id(chat_id),
            date=now(),
            text=text,
            source=source,
            parse_mode=params.get("parse_mode"),
            entities=entities,
            markup=markup,
            reply_markup=rows,
        )
        return self._store(msg)

    def _send_photo(self, params: JSON, files: dict[str, Upload]) -> JSON:
        upload, file_id = self._media(params, files, "photo")
        return self._store(
            self._captioned(
                params,
                photo=upload.content if upload else None,
                photo_filename=upload.filename if upload else None,
                photo_file_id=file_id,
            )
        )

    def _send_document(self, params: JSON, files: dict[str, Upload]) -> JSON:
        """A file as a document: uploaded (its name, bytes and type kept for the test to open),
        or a file_id sent again; with an optional caption and keyboard."""
        upload, file_id = self._media(params, files, "document")
        if upload is not None and not upload.content:
            raise _bad_request("file must be non-empty")
        return self._store(
            self._captioned(
                params,
                document=upload.content if upload else None,
                document_filename=upload.filename if upload else None,
                document_mime_type=upload.mime_type if upload else None,
                document_file_id=file_id,
            )
        )

    def _media(
        self, params: JSON, files: dict[str, Upload], field: str
    ) -> tuple[Upload | None, str]:
        """The uploaded file for `field`, or the file_id sent again; and the message's file_id."""
        upload = files.get(field)
        reference = params.get(field)
        if upload is None and not isinstance(reference, str):
            raise _bad_request(f"there is no {field} in the request")
        is_file_id = isinstance(reference, str) and not reference.startswith(("http:", "https:"))
        return upload, reference if is_file_id else self.new_file_id()[0]

    def _captioned(self, params: JSON, **media: Any) -> SentMessage:
        """A photo or document message with its caption and keyboard, as the phone shows it."""
        chat_id = self._require_chat(params)
        source = params.get("caption", "")
        caption, entities = _format_text(
            source, params.get("parse_mode"), params.get("caption_entities"), caption=True
        )
        markup, rows = _inline_keyboard(params.get("reply_markup"))
        return SentMessage(
            chat_id=chat_id,
            message_id=self.next_message_id(chat_id),
            date=now(),
            text=caption,
            source=source,
            parse_mode=params.get("parse_mode"),
            entities=entities,
            markup=markup,
            reply_markup=rows,
            **media,
        )

    def _edit_target(self, params: JSON, *, photo: bool) -> SentMessage | None:
        """The stored message an edit addresses; None for inline messages."""
        if "inline_message_id" in params:
            return None
        chat_id = self._require_chat(params)
        message_id = params.get("message_id")
        msg = self._messages.get((chat_id, message_id)) if message_id is not None else None
        if msg is None and not self.keep_history and message_id is not None:
            msg = SentMessage(chat_id, message_id, now(), "", "", None, [], None, [])
            msg.photo_file_id = "" if photo else None
        if msg is None or msg.deleted:
            raise _bad_request("message to edit not found")
        return msg

    def _apply_edit(
        self,
        msg: SentMessage,
        params: JSON,
        content: tuple[str, str, list[JSON]] | None,
    ) -> JSON:
        """Replace content (text/caption) and keyboard, or answer 400 if nothing changes."""
        markup, rows = _inline_keyboard(params.get("reply_markup"))
        old = (msg.text, msg.entities, msg.markup)
        new = (content[1], content[2], markup) if content else (msg.text, msg.entities, markup)
        if old == new:
            raise _ApiError(400, NOT_MODIFIED)
        if content is not None:
            msg.source, msg.text, msg.entities = content
            msg.parse_mode = params.get("parse_mode")
        msg.markup, msg.reply_markup = markup, rows
        msg.edited, msg.edit_date = True, now()
        self._touch(msg)
        return self.message_json(msg)

    def _edit_message_text(self, params: JSON, files: dict[str, Upload]) -> JSON | bool:
        msg = self._edit_target(params, photo=False)
        source = params.get("text", "")
        text, entities = _format_text(
            source, params.get("parse_mode"), params.get("entities"), caption=False
        )
        if msg is None:
            return True
        if msg.has_caption:
            raise _bad_request("there is no text in the message to edit")
        return self._apply_edit(msg, params, (source, text, entities))

    def _edit_message_caption(self, params: JSON, files: dict[str, Upload]) -> JSON | bool:
        msg = self._edit_target(params, photo=True)
        source = params.get("caption", "")
        caption, entities = _format_text(
            source,
            params.get("parse_mode"),
            params.get("caption_entities"),
            caption=True,
        )
        if msg is None:
            return True
        if not msg.has_caption:
            raise _bad_request("there is no caption in the message to edit")
        return self._apply_edit(msg, params, (source, caption, entities))

    def _edit_message_reply_markup(self, params: JSON, files: dict[str, Upload]) -> JSON | bool:
        msg = self._edit_target(params, photo=False)
        if msg is None:
            _inline_keyboard(params.get("reply_markup"))
            return True
        return self._apply_edit(msg, params, None)

    def _delete_message(self, params: JSON, files: dict[str, Upload]) -> bool:
        chat_id = self._require_chat(params)
        message_id = params.get("message_id", 0)
        msg = self._messages.get((chat_id, message_id))
        if msg is not None and not msg.deleted:
            msg.deleted = True
            self._touch(msg)
            return True
        if msg is None and 0 < message_id <= self._last_message_ids.get(chat_id, 0):
            return True  # a user's message, or a bot message not kept (keep_history=False)
        raise _bad_request("message to delete not found")

    def _answer_callback_query(self, params: JSON, files: dict[str, Upload]) -> bool:
        query_id = str(params.get("callback_query_id"))
        if self._open_queries.pop(query_id, None) is None:
            raise _ApiError(400, QUERY_INVALID)
        if self.keep_history:
            self.callback_answers[query_id] = CallbackAnswer(
                params.get("text"), bool(params.get("show_alert", False)), params.get("url")
            )
        return True

    def _send_chat_action(self, params: JSON, files: dict[str, Upload]) -> bool:
        self._require_chat(params)
        if not params.get("action"):
            raise _bad_request("wrong parameter action in request")
        return True

    async def _wait_for_updates(self, params: JSON) -> None:
        """Long polling: wait up to `timeout` seconds for an update past the offset."""
        self._confirm(params)
        timeout = float(params.get("timeout") or 0)
        if self.pending_updates or timeout <= 0:
            return
        self._new_update.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._new_update.wait(), timeout)

    def _confirm(self, params: JSON) -> None:
        offset = params.get("offset")
        if offset is not None:
            self.pending_updates = [
                u for u in self.pending_updates if u.get("update_id", 0) >= int(offset)
            ]

    def _set_webhook(self, params: JSON, files: dict[str, Upload]) -> bool:
        """As Telegram: an https URL, a secret token of its alphabet; kept for the test."""
        url = str(params.get("url") or "")
        if not url:
            return self._delete_webhook(params, files)
        if not url.startswith("https://"):
            raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_TOKEN.fullmatch(str(secret)):
            raise _bad_request("secret token contains unallowed characters")
        self.webhook = dict(params)
        return True

    def _delete_webhook(self, params: JSON, files: dict[str, Upload]) -> bool:
        self.webhook = None
        if params.get("drop_pending_updates"):
            self.pending_updates.clear()
        return True

    def _get_webhook_info(self, params: JSON, files: dict[str, Upload]) -> JSON:
        hook = self.webhook or {}
        info: JSON = {
            "url": hook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self.pending_updates),
        }
        for name in ("max_connections", "allowed_updates"):
            if name in hook:
                info[name] = hook[name]
        return info

    def _get_updates_now(self, params: JSON, files: dict[str, Upload]) -> list[JSON]:
        self._confirm(params)
        limit = int(params.get("limit") or 100)
        return self.pending_updates[:limit]

    def _set_my_commands(self, params: JSON, files: dict[str, Upload]) -> bool:
        commands = params.get("commands", [])
        if any(not _COMMAND_NAME.fullmatch(c.get("command", "")) for c in commands):
            raise _bad_request("BOT_COMMAND_INVALID")
        self.my_commands[_commands_key(params)] = commands
        return True

    def _delete_my_commands(self, params: JSON, files: dict[str, Upload]) -> bool:
        self.my_commands.pop(_commands_key(params), None)
        return True

    def _get_my_commands(self, params: JSON, files: dict[str, Upload]) -> list[JSON]:
        return self.my_commands.get(_commands_key(params), [])


def _uploads(request_data: RequestData) -> dict[str, Upload]:
    """Files from a multipart request; content may be bytes or a file handle."""
    uploads = {}
    for name, (filename, content, mime_type) in request_data.multipart_data.items():
        data = content if isinstance(content, bytes) else content.read()
        uploads[name] = Upload(filename, data, mime_type)
    return uploads


def _commands_key(params: JSON) -> tuple[str, str]:
    """("default" | "chat:42" | ..., language_code) for the command-menu store."""
    scope = params.get("scope") or {"type": "default"}
    key = scope["type"]
    for part in ("chat_id", "user_id"):
        if part in scope:
            key += f":{scope[part]}"
    return key, params.get("language_code", "")


def _inline_keyboard(markup: JSON | None) -> tuple[JSON | None, list[list[Button]]]:
    """Validate an inline keyboard like Telegram; other markups are not kept on the message."""
    if not markup or "inline_keyboard" not in markup:
        return None, []
    rows = []
    for row in markup["inline_keyboard"]:
        buttons = []
        for raw in row:
            data = raw.get("callback_data")
            if data is not None and not 1 <= len(data.encode()) <= CALLBACK_DATA_LIMIT:
                raise _bad_request("BUTTON_DATA_INVALID")
            if _BUTTON_ACTIONS.isdisjoint(raw):
                raise _bad_request(
                    "can't parse inline keyboard button: "
                    "Text buttons are unallowed in the inline keyboard"
                )
            buttons.append(Button(raw.get("text", ""), data, raw.get("url")))
        rows.append(buttons)
    return markup, rows


def _format_text(
    source: str, parse_mode: str | None, entities: list[JSON] | None, *, caption: bool
) -> tuple[str, list[JSON]]:
    """Parse, trim and length-check a text or caption; answers 400 like Telegram.

    Length counts the visible text in code points (what Telegram measures, per live probes).
    """
    if parse_mode is not None and parse_mode.upper() == "HTML":
        try:
            text, parsed = parse_html(source)
        except EntityParseError as exc:
            raise _bad_request(f"can't parse entities: {exc}") from None
    else:
        text, parsed = source, list(entities or [])
    text, parsed = _trim(text, parsed)
    if caption:
        if len(text) > CAPTION_LIMIT:
            raise _bad_request("message caption is too long")
    elif not text:
        raise _bad_request("message text is empty")
    elif len(text) > TEXT_LIMIT:
        raise _bad_request("message is too long")
    return text, parsed


def _trim(text: str, entities: list[JSON]) -> tuple[str, list[JSON]]:
    """Strip surrounding whitespace as Telegram does, shifting and clipping entities."""
    stripped = text.strip(_TRIMMED)
    if stripped == text or not entities:
        return stripped, entities
    shift = utf16_len(text[: len(text) - len(text.lstrip(_TRIMMED))])
    end = utf16_len(stripped)
    kept = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        stop = min(entity["offset"] + entity["length"] - shift, end)
        if stop > start:
            kept.append({**entity, "offset": start, "length": stop - start})
    return stripped, kept
