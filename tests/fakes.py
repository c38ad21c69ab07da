"""A fake Telegram Bot API at PTB's HTTP transport seam, and a `ChatClient` that plays a user.

Tests drive the *real* `telegram.ext.Application` with *real* `telegram.Update` objects; only
the HTTP hop to api.telegram.org is replaced. Plug it in like this::

    api = FakeBotAPI()
    app = ApplicationBuilder().token("999:TEST").request(api).get_updates_request(api).build()
    await app.initialize()                  # calls getMe on the fake; do NOT start polling
    client = ChatClient(app, api)           # Maria, private chat 4242
    await client.send("/start campaign_1")  # -> app.process_update(real Update)
    assert client.last_text == "Welcome!"   # what her phone shows now
    await client.press("Yes")
    await app.shutdown()

One `FakeBotAPI` may fill both request slots: PTB keeps them as two references and merely calls
`initialize()`/`shutdown()` on each (so those are no-ops here). A custom `base_url` works too;
the Bot API method is the last path segment of the URL.

Behaviour worth knowing:

* Answers are what Telegram answers, so PTB raises its real exceptions: 400 -> `BadRequest`,
  403 -> `Forbidden`, 429 -> `RetryAfter`, 5xx and injected network faults -> `NetworkError`.
  `Application.process_update` hands handler exceptions to the error handlers (or logs them);
  it does not re-raise, so assert through an error handler or through what the user sees.
* `parse_mode="HTML"` is parsed like Telegram does (unsupported or unbalanced tags are a 400);
  stored and returned text is the *visible* text plus entities. Markdown modes are not parsed.
* `editMessageText` without `reply_markup` removes the inline keyboard, as on Telegram.
* Only inline keyboards are kept on messages; other reply markups are visible in `api.calls`.
* Every callback query must be answered at most once; unknown or re-answered ids are a 400.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from telegram import Update
from telegram.error import NetworkError, TimedOut
from telegram.ext import Application
from telegram.request import BaseRequest, RequestData

JSON = dict[str, Any]
AnyApplication = Application[Any, Any, Any, Any, Any, Any]

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
    500: "Internal Server Error",
    502: "Bad Gateway",
}
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
_BOT_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]+)?")
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
    edited: bool = False
    deleted: bool = False
    edit_date: int | None = None
    version: int = 0

    @property
    def is_photo(self) -> bool:
        """Whether this is a photo message (its `text` is the caption)."""
        return self.photo_file_id is not None

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
    """A queued fault; `status == 0` means raise a network error instead of answering."""

    chat_id: int | None
    times: int
    status: int
    description: str = ""
    retry_after: int | None = None
    timed_out: bool = False


def _bad_request(description: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {description}")


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _now() -> int:
    return int(time.time())


_Handler = Callable[[JSON, dict[str, Upload]], Any]


class FakeBotAPI(BaseRequest):
    """In-memory Bot API server that PTB talks to through `BaseRequest.do_request`.

    Args:
        latency: seconds to `asyncio.sleep` per call (for benchmarks; keep 0 in tests).
        keep_history: when False, only `counts` and id counters are kept: no `calls`, no stored
            messages (edits of unknown messages then succeed), no `callback_answers`.
    """

    def __init__(self, *, latency: float = 0.0, keep_history: bool = True) -> None:
        self.latency = latency
        self.keep_history = keep_history
        self.calls: list[Call] = []
        self.counts: Counter[str] = Counter()
        self.chats: dict[int, list[SentMessage]] = {}
        self.callback_answers: dict[str, CallbackAnswer] = {}
        self.my_commands: dict[tuple[str, str], list[JSON]] = {}
        self.blocked: set[int] = set()
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
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "sendChatAction": self._send_chat_action,
            "setMyCommands": self._set_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "getMyCommands": self._get_my_commands,
            "getUpdates": lambda params, files: [],
            "deleteWebhook": lambda params, files: True,
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
            if failure is not None:
                if failure.status == 0:
                    fault = (
                        TimedOut("Timed out")
                        if failure.timed_out
                        else NetworkError("httpx.ConnectError: All connection attempts failed")
                    )
                    if call is not None:
                        call.status, call.error = 0, fault.message
                    raise fault
                raise _ApiError(failure.status, failure.description, failure.retry_after)
            if chat_id in self.blocked and "chat_id" in params:
                raise _ApiError(403, BLOCKED)
            handler = self._handlers.get(api_method)
            if handler is None:
                raise _ApiError(404, "Not Found: method not found")
            result = handler(params, files)
        except _ApiError as err:
            if call is not None:
                call.status, call.error = err.status, err.description
            body: JSON = {"ok": False, "error_code": err.status, "description": err.description}
            if err.retry_after is not None:
                body["parameters"] = {"retry_after": err.retry_after}
            return err.status, json.dumps(body).encode()
        return 200, json.dumps({"ok": True, "result": result}).encode()

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
        self, method: str, *, times: int = 1, chat_id: int | None = None, timed_out: bool = False
    ) -> None:
        """Make the next `times` calls raise `NetworkError` (or `TimedOut`) as HTTPXRequest does."""
        self._queue(method, _Failure(chat_id, times, status=0, timed_out=timed_out))

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
            date=_now(),
            text=text,
            source=source,
            parse_mode=params.get("parse_mode"),
            entities=entities,
            markup=markup,
            reply_markup=rows,
        )
        return self._store(msg)

    def _send_photo(self, params: JSON, files: dict[str, Upload]) -> JSON:
        chat_id = self._require_chat(params)
        upload = files.get("photo")
        reference = params.get("photo")
        if upload is None and not isinstance(reference, str):
            raise _bad_request("there is no photo in the request")
        source = params.get("caption", "")
        caption, entities = _format_text(
            source, params.get("parse_mode"), params.get("caption_entities"), caption=True
        )
        markup, rows = _inline_keyboard(params.get("reply_markup"))
        is_file_id = isinstance(reference, str) and not reference.startswith(("http:", "https:"))
        msg = SentMessage(
            chat_id=chat_id,
            message_id=self.next_message_id(chat_id),
            date=_now(),
            text=caption,
            source=source,
            parse_mode=params.get("parse_mode"),
            entities=entities,
            markup=markup,
            reply_markup=rows,
            photo=upload.content if upload else None,
            photo_filename=upload.filename if upload else None,
            photo_file_id=reference if is_file_id else self.new_file_id()[0],
        )
        return self._store(msg)

    def _edit_target(self, params: JSON, *, photo: bool) -> SentMessage | None:
        """The stored message an edit addresses; None for inline messages."""
        if "inline_message_id" in params:
            return None
        chat_id = self._require_chat(params)
        message_id = params.get("message_id")
        msg = self._messages.get((chat_id, message_id)) if message_id is not None else None
        if msg is None and not self.keep_history and message_id is not None:
            msg = SentMessage(chat_id, message_id, _now(), "", "", None, [], None, [])
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
        msg.edited, msg.edit_date = True, _now()
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
        if msg.is_photo:
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
        if not msg.is_photo:
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
    shift = _utf16_len(text[: len(text) - len(text.lstrip(_TRIMMED))])
    end = _utf16_len(stripped)
    kept = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        stop = min(entity["offset"] + entity["length"] - shift, end)
        if stop > start:
            kept.append({**entity, "offset": start, "length": stop - start})
    return stripped, kept


_HTML_SPECIAL = re.compile(r"[<&]")
_CHAR_REF = re.compile(r"&(?:#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z]+));")
_NAMED_REFS = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TAG_NAME = re.compile(r"<([a-zA-Z0-9-]*)")
_TAG_REST = re.compile(r"""((?:\s+[a-zA-Z-]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>"']+))?)*)\s*>""")
_ATTRIBUTE = re.compile(r"""([a-zA-Z-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?""")
_END_TAG = re.compile(r"</([a-zA-Z0-9-]*)\s*>")
_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "blockquote": "blockquote",
}


class EntityParseError(ValueError):
    """HTML that Telegram rejects with "Bad Request: can't parse entities: <message>"."""


def parse_html(source: str) -> tuple[str, list[JSON]]:
    """Telegram's HTML parse mode: the visible text and its MessageEntity dicts.

    Entity offsets/lengths are in UTF-16 code units, as in the Bot API. Only &lt; &gt; &amp;
    &quot; and numeric character references are decoded; other `&...;` stay literal.

    Raises:
        EntityParseError: unsupported or unbalanced tags, a bare `<`, a span without
            class "tg-spoiler"; the message uses Telegram's wording.
    """
    if "<" not in source and "&" not in source:
        return source, []
    return _HtmlParser(source).parse()


def _decode_ref(match: re.Match[str]) -> str | None:
    """The character a reference stands for, or None when Telegram leaves it literal."""
    decimal, hexadecimal, name = match.groups()
    if name is not None:
        return _NAMED_REFS.get(name)
    code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else None


class _HtmlParser:
    """One pass over the source, building visible text and entities."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.chunks: list[str] = []
        self.offset = 0  # UTF-16 length of the visible text so far
        self.open_tags: list[tuple[str, int, JSON | None]] = []
        self.entities: list[JSON] = []

    def parse(self) -> tuple[str, list[JSON]]:
        source, pos = self.source, 0
        while (special := _HTML_SPECIAL.search(source, pos)) is not None:
            i = special.start()
            self._text(source[pos:i])
            if source[i] == "&":
                ref = _CHAR_REF.match(source, i)
                char = _decode_ref(ref) if ref else None
                self._text(char if char is not None else "&")
                pos = ref.end() if ref and char is not None else i + 1
            elif source.startswith("</", i):
                pos = self._end_tag(i)
            else:
                pos = self._start_tag(i)
        self._text(source[pos:])
        if self.open_tags:
            tag = self.open_tags[-1][0]
            raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{tag}"')
        self.entities.sort(key=lambda entity: (entity["offset"], -entity["length"]))
        return "".join(self.chunks), self.entities

    def _text(self, chunk: str) -> None:
        if chunk:
            self.chunks.append(chunk)
            self.offset += _utf16_len(chunk)

    def _byte_offset(self, i: int) -> int:
        return len(self.source[:i].encode())

    def _start_tag(self, i: int) -> int:
        name_match = _TAG_NAME.match(self.source, i)
        assert name_match is not None  # the pattern matches any "<"
        name = name_match.group(1).lower()
        if name not in _ENTITY_TYPES:
            raise EntityParseError(
                f'Unsupported start tag "{name}" at byte offset {self._byte_offset(i)}'
            )
        rest = _TAG_REST.match(self.source, name_match.end())
        if rest is None:
            raise EntityParseError(f"Unclosed start tag at byte offset {self._byte_offset(i)}")
        attributes = {
            attr.group(1).lower(): _CHAR_REF.sub(
                lambda ref: _decode_ref(ref) or ref.group(0),
                next((value for value in attr.groups()[1:] if value is not None), ""),
            )
            for attr in _ATTRIBUTE.finditer(rest.group(1))
        }
        entity: JSON | None = {"type": _ENTITY_TYPES[name]}
        if name == "a":
            href = attributes.get("href")
            entity = {"type": "text_link", "url": href} if href else None
        elif name == "span" and attributes.get("class") != "tg-spoiler":
            raise EntityParseError('Tag "span" must have class "tg-spoiler"')
        elif name == "blockquote" and "expandable" in attributes:
            entity = {"type": "expandable_blockquote"}
        elif name == "code" and self.open_tags and self.open_tags[-1][0] == "pre":
            language = attributes.get("class", "")
            parent = self.open_tags[-1][2]
            if language.startswith("language-") and parent is not None:
                parent["language"] = language.removeprefix("language-")
                entity = None
        self.open_tags.append((name, self.offset, entity))
        return rest.end()

    def _end_tag(self, i: int) -> int:
        match = _END_TAG.match(self.source, i)
        if match is None:
            raise EntityParseError(f"Unclosed end tag at byte offset {self._byte_offset(i)}")
        if not self.open_tags:
            raise EntityParseError(f"Unexpected end tag at byte offset {self._byte_offset(i)}")
        name = match.group(1).lower()
        tag, start, entity = self.open_tags.pop()
        if name != tag:
            raise EntityParseError(
                f"Unmatched end tag at byte offset {self._byte_offset(i)}, "
                f'expected "</{tag}>", found "</{name}>"'
            )
        if entity is not None and self.offset > start:
            self.entities.append({**entity, "offset": start, "length": self.offset - start})
        return match.end()


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
        self._last_text_message: JSON | None = None

    # --- acting ------------------------------------------------------------------------------

    async def deliver(self, update: Update) -> Update:
        """Feed an Update to the application (again), e.g. to test duplicate deliveries."""
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
        message = {**self._last_text_message, "text": text, "edit_date": _now()}
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
            "date": _now(),
        }
        message.update((key, value) for key, value in content.items() if value is not None)
        return message

    async def _update(self, payload: JSON, update_id: int | None) -> Update:
        data = {"update_id": self.api.next_update_id() if update_id is None else update_id}
        data.update(payload)
        update = Update.de_json(data, self.app.bot)
        return await self.deliver(update)

    async def _press(self, msg: SentMessage, data: str | None, update_id: int | None) -> Update:
        query_id = self.api.open_callback_query(self.chat_id)
        self._query_ids.append(query_id)
        query = {
            "id": query_id,
            "from": self.user,
            "message": self.api.message_json(msg),
            "chat_instance": f"-{self.chat_id}00",
            "data": data,
        }
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
    return [{"type": "bot_command", "offset": 0, "length": _utf16_len(command.group())}]


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
