"""Random Telegram traffic for the update fuzz (tests/test_fuzz.py), and what it produced.

`Fuzz` plays ~30 people at the real Application over the fake Bot API: parents in private
chats, a staff member, two groups and a channel. Each step is one thing a person does (a
press, a double tap, a forged button, a typed word, a sticker, an edit, a second delivery of
an old update...). `Faults` wraps the fake's HTTP seam: it tags every Bot API call with the
update being handled (a context variable, so calls made while waiting out a retry are still
tagged right) and, at a modest rate, makes that very call fail (429, 5xx, refused, reset or
timed out before or after Telegram processed it). Everything is drawn from one
`random.Random(seed)`: the same seed plays the same traffic and the same faults.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import re
import string
from collections import Counter
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from telegram import Update

from bot.callbacks import Kind, kind_of
from tests.botenv import BotEnv
from tests.fakebot import BOT_USER, JSON, Call, FakeBotAPI, SentMessage
from tests.fakebot.api import TEXT_LIMIT
from tests.fakebot.common import now, utf16_len

# The update being handled right now (its record's tag): set around process_update.
CURRENT: ContextVar[int | None] = ContextVar("fuzz_update", default=None)

SEND_METHODS = frozenset({"sendMessage", "sendPhoto"})
EDIT_METHODS = frozenset({"editMessageText", "editMessageCaption", "editMessageReplyMarkup"})
SHOW_METHODS = SEND_METHODS | EDIT_METHODS
REPLY_METHODS = SHOW_METHODS | {"answerCallbackQuery"}
# Faults go only on calls made while handling an update (not on getMe or the command menus).
FAULTED_METHODS = REPLY_METHODS | {"sendChatAction", "deleteMessage"}
# name -> weight. "*_after": Telegram processed the call, then the connection dropped.
FAULT_WEIGHTS = {
    "429": 3,
    "500": 1,
    "502": 1,
    "refused": 2,
    "connect_timeout": 1,
    "reset_after": 1,
    "timeout_after": 1,
    "reset_before": 1,
    "timeout_before": 1,
}
DELIVERED_FAULTS = frozenset({"reset_after", "timeout_after"})
LOST_FAULTS = frozenset({"reset_before", "timeout_before"})
MAYBE_SENT_FAULTS = DELIVERED_FAULTS | LOST_FAULTS

LANGUAGE_CODES = ["en", "es", None, "es-MX", "en-US", "fr", "pt-BR", "es-419", "de", "zh-hans"]
KNOWN_COMMANDS = [
    "/help",
    "/restart",
    "/privacy",
    "/language",
    "/forget",
    "/subscribe",
    "/stop",
    "/unsubscribe",
    "/HELP",
    "/help@iep_test_bot",
    "/privacy extra words",
]
UNKNOWN_COMMANDS = [
    "/frobnicate",
    "/menu",
    "/ayuda",
    "/start@some_other_bot",
    "/help@another_bot",
    "/x" * 20,
    "/_",
    "/" + "a" * 32,
]
STAFF_COMMANDS = ["/broadcast", "/tips", "/cancel", "/stats", "/stats@iep_test_bot"]
# Payloads a deep link can carry, and junk nobody's link carries; one word each (a deep link
# is one word: the bot cannot tell it from a typed one).
START_PAYLOADS = [
    None,
    "campaign_1",
    "fb-ad_2",
    "school_flyer",
    "x" * 64,
    "y" * 65,
    "<b>hi</b>",
    "é",
    "a|b",
    "%00",
    "../../etc/passwd",
    "💙",
    "'; DROP TABLE outcomes;--",
]
CRISIS_PHRASES = [
    "I want to kill myself",
    "me quiero morir",
    "my son says he wants to die",
    "mi hijo dice que se quiere matar",
    "she has been self-harming",
    "he said he'd shoot up the school",
    "quiere lastimar a su hermana",
]
# Everyday school talk (no_false_alarm checks that none of it reads as a crisis).
_TALK = (
    "my son daughter kid school teacher reading math homework plan meeting evaluation "
    "help please question why what how when IEP 504 grades class aide speech therapy "
    "mi hijo hija escuela maestra ayuda por favor tarea lectura reunión plan ¿qué? "
    "🙂 👍 ... !!! <b> </i> & &amp; <script>alert(1)</script> @iep_test_bot #tag"
)
WORDS = _TALK.split()
STAFF_TEXTS = [
    "<b>IEP meeting soon?</b> Bring your questions &amp; a copy of the plan.",
    "<i>unclosed formatting",
    "Plain tip: ask for the evaluation in writing.",
    '<a href="https://example.org/tip">Read more</a>',
    "tomorrow 10:00",
    "2026-12-01 09:30",
    "now",
    "",
    "x" * 5000,
]
# Shapes of update PTB cannot parse (each makes telegram.Update.de_json raise).
UNPARSEABLE = [
    {"message": {"message_id": 1, "date": 1, "chat": {"id": 1}, "text": "{secret}"}},
    {"poll": {"id": "p1", "question": "{secret}"}},
    {
        "message": {
            "message_id": 1,
            "date": 1,
            "chat": {"id": 1, "type": "private"},
            "text": "{secret}",
            "forward_origin": {"type": "user", "date": 1},
        }
    },
]
# What a parent does in one step -> how often (a press on the newest screen most of all).
PARENT_ACTIONS = {
    "press": 34,
    "stale": 6,  # a button on an older message
    "double_tap": 4,  # two presses from one look at the screen
    "forged": 5,  # callback data we never made
    "empty_press": 1,  # a callback query with a game's name instead of data, or empty data
    "start": 6,
    "command": 6,
    "unknown_command": 2,
    "staff_command": 2,  # /broadcast and the like, from someone not on staff
    "text": 8,
    "crisis": 3,
    "crisis_command": 1,  # crisis words after a command
    "sticker": 2,
    "photo": 2,
    "voice": 2,
    "edit": 3,
    "duplicate": 4,  # Telegram delivers an update again
}
STAFF_ACTIONS = {
    "broadcast": 5,
    "tips": 2,
    "cancel": 2,
    "stats": 1,
    "press": 8,
    "stale": 2,
    "forged": 1,
    "staff_text": 5,  # a broadcast's text, a time, or junk
    "photo": 1,
    "edit": 1,
    "sticker": 1,
    "duplicate": 1,
    "command": 2,
    "double_tap": 1,
}
KEYBOARD_WINDOW = 40  # how far back a stale press reaches (the chat's last 40 bot messages)
_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]+)?")


@dataclass
class Actor:
    """One chat the traffic comes from: a parent, the staff member, a group or a channel."""

    kind: str  # parent | staff | group | channel
    chat: JSON
    user: JSON | None
    last_text: JSON | None = None  # the last text message sent, for edits

    @property
    def chat_id(self) -> int:
        return int(self.chat["id"])

    @property
    def private(self) -> bool:
        return self.kind in ("parent", "staff")


@dataclass
class Record:
    """One update delivered to the bot, and what is expected of it."""

    tag: int
    actor: Actor
    kind: str  # what the person did (press, text, crisis, sticker, duplicate, ...)
    update: Update
    raw: JSON
    query_id: str | None = None
    duplicate_of: int | None = None
    crisis: bool = False
    free_text: tuple[str, ...] = ()  # words a parent typed that no table may keep
    source_word: str | None = None  # the first word after a typed multi-word /start


@dataclass
class Traced:
    """One Bot API call, the update it was made for (None: outside any update), its fault."""

    call: Call
    tag: int | None
    fault: str | None


class Faults:
    """Wraps FakeBotAPI.do_request: tags each call with the current update and, at `rate`,
    makes that very call fail (queued on the fake right before it, so the call consumes it)."""

    def __init__(self, api: FakeBotAPI, rng: random.Random, rate: float) -> None:
        self.api, self.rng, self.rate = api, rng, rate
        self.traced: list[Traced] = []
        self.injected: Counter[str] = Counter()
        self._names = list(FAULT_WEIGHTS)
        self._weights = list(FAULT_WEIGHTS.values())
        self._request = api.do_request
        api.do_request = self.do_request  # type: ignore[method-assign]

    async def do_request(self, url: str, method: str, *args: Any, **kwargs: Any) -> Any:
        api_method = url.rsplit("/", 1)[-1].split("?", 1)[0]
        tag = CURRENT.get()
        fault = None
        if tag is not None and api_method in FAULTED_METHODS and self.rng.random() < self.rate:
            fault = self.rng.choices(self._names, self._weights)[0]
            self._queue(api_method, fault)
            self.injected[fault] += 1
        before = len(self.api.calls)
        try:
            return await self._request(url, method, *args, **kwargs)
        finally:
            # The fake appends the call before its first await: it is the one at `before`.
            self.traced.append(Traced(self.api.calls[before], tag, fault))

    def _queue(self, method: str, fault: str) -> None:
        if fault == "429":
            self.api.fail(method, 429, retry_after=self.rng.randint(1, 3))
        elif fault.isdigit():
            self.api.fail(method, int(fault))
        else:
            self.api.fail_network(method, fault)  # type: ignore[arg-type]


class Captured(logging.Handler):
    """Every log record, with the update being handled when it was logged."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[tuple[int | None, logging.LogRecord, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += f" [{type(record.exc_info[1]).__name__}: {record.exc_info[1]}]"
        self.records.append((CURRENT.get(), record, text))


@dataclass(repr=False)
class Fuzz:
    """The traffic: people, the updates they sent, and how the bot took them."""

    env: BotEnv
    seed: int
    fault_rate: float = 0.04
    parents: int = 26
    rng: random.Random = field(init=False)
    faults: Faults = field(init=False)
    actors: list[Actor] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)
    raised: list[tuple[int, BaseException]] = field(default_factory=list)
    time_jumps: int = 0
    restarts: int = 0
    _since_restart: int = 0  # the first record the running process saw
    _tokens: int = 0

    def __repr__(self) -> str:
        return f"<Fuzz seed={self.seed}: {len(self.records)} updates>"

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.faults = Faults(self.env.api, random.Random(self.seed + 1), self.fault_rate)
        self._people()

    # --- who -----------------------------------------------------------------------------

    def _people(self) -> None:
        api, rng = self.env.api, self.rng
        for i in range(self.parents):
            chat_id = 6_100_000_000 + i * 1_000_003
            first, username = f"Parentname{i:02d}x", f"parent_user_{i:02d}q"
            user = {"id": chat_id, "is_bot": False, "first_name": first, "username": username}
            if (code := LANGUAGE_CODES[i % len(LANGUAGE_CODES)]) is not None:
                user["language_code"] = code
            chat = {"id": chat_id, "type": "private", "first_name": first, "username": username}
            api.register_chat(chat)
            self.actors.append(Actor("parent", chat, user))
        staff_id = next(iter(sorted(self.env.settings.staff_ids)))
        staff = {"id": staff_id, "is_bot": False, "first_name": "Ana", "language_code": "en"}
        chat = {"id": staff_id, "type": "private", "first_name": "Ana"}
        api.register_chat(chat)
        self.actors.append(Actor("staff", chat, staff))
        groups = [
            {"id": -4_000_000_001, "type": "group", "title": "Room 12 parents"},
            {"id": -1_001_234_567_890, "type": "supergroup", "title": "District SPED parents"},
        ]
        for group in groups:
            self.actors.append(Actor("group", group, rng.choice(self.actors[: self.parents]).user))
        channel = {"id": -1_009_876_543_210, "type": "channel", "title": "School news"}
        self.actors.append(Actor("channel", channel, None))

    @property
    def parent_ids(self) -> set[int]:
        return {a.chat_id for a in self.actors if a.kind == "parent"}

    @property
    def private_ids(self) -> set[int]:
        return {a.chat_id for a in self.actors if a.private}

    @property
    def non_private_ids(self) -> set[int]:
        return {a.chat_id for a in self.actors if not a.private}

    def names(self) -> set[str]:
        """Names and usernames of the parents: no table may hold them."""
        found = set()
        for actor in self.actors:
            if actor.kind == "parent":
                found |= {actor.chat["first_name"], actor.chat["username"]}
        return found

    # --- running -------------------------------------------------------------------------

    async def run(self, updates: int, *, jump_every: int = 1200, restart_every: int = 1000) -> None:
        """Play until `updates` updates were delivered. Every `jump_every` updates, everyone
        comes back 15 days later (screenings and drafts expire meanwhile); every
        `restart_every`, the bot restarts before confirming its last updates, and Telegram
        hands them to the new process again."""
        parents = [a for a in self.actors if a.kind == "parent"]
        staff = next(a for a in self.actors if a.kind == "staff")
        others = [a for a in self.actors if not a.private]
        while len(self.records) < updates:
            if len(self.records) >= jump_every * (self.time_jumps + 1):
                self.env.clock.advance(days=15)
                self.time_jumps += 1
            if len(self.records) >= restart_every * (self.restarts + 1):
                await self.restart()
                continue
            roll = self.rng.random()
            if roll < 0.05:
                await self._staff_step(staff)
            elif roll < 0.09:
                await self._outsider_step(self.rng.choice(others))
            else:
                await self._parent_step(self.rng.choice(parents))

    async def deliver(self, actor: Actor, kind: str, raw: JSON, **expect: Any) -> Record:
        raw = {"update_id": self.env.api.next_update_id(), **raw}
        update = Update.de_json(raw, self.env.app.bot)
        record = Record(len(self.records), actor, kind, update, raw, **expect)
        self.records.append(record)
        await self._process(record)
        return record

    async def restart(self) -> None:
        """A crash: the updates of the last batch were never confirmed, so the new process
        gets them again. It handles them again (they were claimed by a process now gone);
        whoever got an answer the first time may get a second one."""
        self.restarts += 1
        unconfirmed = self.records[-self.rng.randint(1, 3) :]
        await self.env.restart()
        self._since_restart = len(self.records)
        for first in unconfirmed:
            update = Update.de_json(first.raw, self.env.app.bot)
            record = dataclasses.replace(
                first, tag=len(self.records), kind="after_restart", update=update, duplicate_of=None
            )
            self.records.append(record)
            await self._process(record)

    async def _process(self, record: Record) -> None:
        token = CURRENT.set(record.tag)
        try:
            await self.env.app.process_update(record.update)
        except Exception as exc:  # process_update hands handler errors on; this is worse
            self.raised.append((record.tag, exc))
        finally:
            CURRENT.reset(token)

    async def redeliver(self, actor: Actor) -> None:
        """A second delivery of one of this chat's recent updates (Telegram may do that)."""
        # Only what this process handled: Telegram never hands out a confirmed update again,
        # and one a dead process claimed is handled anew by design (see restart).
        earlier = [
            r
            for r in self.records[max(self._since_restart, len(self.records) - 400) :]
            if r.actor is actor and r.duplicate_of is None
        ]
        if not earlier:
            await self.send_text(actor, "start")
            return
        first = self.rng.choice(earlier[-20:])
        record = dataclasses.replace(
            first, tag=len(self.records), kind="duplicate", duplicate_of=first.tag
        )
        self.records.append(record)
        await self._process(record)

    # --- parents -------------------------------------------------------------------------

    async def _parent_step(self, actor: Actor) -> None:
        actions = list(PARENT_ACTIONS)
        await self.act(actor, self.rng.choices(actions, list(PARENT_ACTIONS.values()))[0])

    async def act(self, actor: Actor, action: str) -> None:
        rng = self.rng
        if action == "press":
            await self.press(actor)
        elif action == "stale":
            await self.press(actor, stale=True)
        elif action == "double_tap":
            await self.double_tap(actor)
        elif action == "forged":
            await self.forged(actor)
        elif action == "empty_press":
            await self.forged(actor, empty=True)
        elif action == "start":
            await self.start(actor)
        elif action == "command":
            await self.send_text(actor, "command", rng.choice(KNOWN_COMMANDS))
        elif action == "unknown_command":
            await self.send_text(actor, "unknown_command", rng.choice(UNKNOWN_COMMANDS))
        elif action == "staff_command":
            await self.send_text(actor, "staff_command", rng.choice(STAFF_COMMANDS))
        elif action == "text":
            words = self.free_words()
            await self.send_text(actor, "text", " ".join(words), free_text=(words[0],))
        elif action == "crisis":
            token = self.token()
            phrase = rng.choice(CRISIS_PHRASES)
            text = rng.choice([f"{phrase} {token}", f"{token}. {phrase}", phrase.upper()])
            await self.send_text(actor, "crisis", text, free_text=(token,), crisis=True)
        elif action == "crisis_command":  # the words after a command: "/ayuda me quiero..."
            token = self.token()
            command = rng.choice(["/start", "/help", "/ayuda", "/menu", "/restart"])
            text = f"{command} {rng.choice(CRISIS_PHRASES)} {token}"
            await self.send_text(actor, action, text, free_text=(token,), crisis=True)
        elif action == "sticker":
            await self.media(actor, "sticker")
        elif action == "photo":
            await self.media(actor, "photo")
        elif action == "voice":
            await self.media(actor, "voice")
        elif action == "edit":
            await self.edit(actor)
        elif action == "duplicate":
            await self.redeliver(actor)
        else:  # pragma: no cover - a typo in a weight table
            raise AssertionError(action)

    def token(self) -> str:
        """A word no content, hash or id contains: marks one piece of typed text."""
        self._tokens += 1
        return f"qz{self._tokens:05d}kw"

    def free_words(self) -> list[str]:
        """A token, then everyday words (sometimes a long message, sometimes odd characters)."""
        rng = self.rng
        words = [self.token(), *rng.choices(WORDS, k=rng.randint(0, 12))]
        if rng.random() < 0.05:
            words += rng.choices(WORDS, k=700)  # near Telegram's 4096 characters
        if rng.random() < 0.1:
            words.append("".join(rng.choices(string.printable + "ñáé€𝄞\u200f", k=20)).strip())
        return [w for w in words if w]

    async def start(self, actor: Actor) -> None:
        rng = self.rng
        if rng.random() < 0.25:
            # Typed, not a deep link: "/start" and then what is on the parent's mind.
            words = self.free_words()
            await self.send_text(
                actor,
                "start_typed",
                "/start " + " ".join(words),
                free_text=tuple(w for w in words[1:] if w.startswith("qz")),
                # One word alone cannot be told from a deep link (that needs an allow-list of
                # the practice's links: issue 12); several words can, and none may be kept.
                source_word=words[0] if len(words) > 1 else None,
            )
            return
        payload = rng.choice(START_PAYLOADS)
        await self.send_text(actor, "start", "/start" if payload is None else f"/start {payload}")

    async def send_text(self, actor: Actor, kind: str, text: str = "/start", **expect: Any) -> None:
        message = self._message(actor, text=text[:TEXT_LIMIT])  # Telegram's limit for users too
        if (command := _COMMAND.match(text)) is not None:
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_len(command.group())}
            ]
        actor.last_text = message
        await self.deliver(actor, kind, {_slot(actor): message}, **expect)

    async def media(self, actor: Actor, kind: str) -> None:
        api, rng = self.env.api, self.rng
        file_id, unique_id = api.new_file_id()
        expect: dict[str, Any] = {}
        if kind == "sticker":
            content: JSON = {
                "sticker": {
                    "file_id": file_id,
                    "file_unique_id": unique_id,
                    "type": "regular",
                    "width": 512,
                    "height": 512,
                    "is_animated": False,
                    "is_video": False,
                    "emoji": rng.choice(["👍", "😢", "❤️"]),
                }
            }
        elif kind == "voice":
            content = {"voice": {"file_id": file_id, "file_unique_id": unique_id, "duration": 4}}
        else:
            sizes = [
                {"file_id": file_id, "file_unique_id": unique_id, "width": 90, "height": 67},
                {"file_id": file_id + "L", "file_unique_id": unique_id + "L", "width": 1280,
                 "height": 960},
            ]  # fmt: skip
            content = {"photo": sizes}
            caption = rng.random()
            if caption < 0.3:
                token = self.token()
                content["caption"] = f"{token} {rng.choice(CRISIS_PHRASES)}"
                expect = {"crisis": True, "free_text": (token,)}
            elif caption < 0.7:
                words = self.free_words()[:20]
                content["caption"] = " ".join(words)
                expect = {"free_text": (words[0],)}
        kind = "photo_crisis" if expect.get("crisis") else kind
        await self.deliver(actor, kind, {_slot(actor): self._message(actor, **content)}, **expect)

    async def edit(self, actor: Actor) -> None:
        if actor.last_text is None:
            await self.send_text(actor, "start")
            return
        roll = self.rng.random()
        crisis = roll < 0.2
        token = self.token()
        text = f"{token} {self.rng.choice(CRISIS_PHRASES)}" if crisis else f"{token} sorry, typo"
        if roll > 0.9:  # edited into a command
            text = self.rng.choice(["/start", "/help", "/broadcast", "/frobnicate"])
        message = {**actor.last_text, "text": text, "edit_date": now()}
        message.pop("entities", None)
        if (command := _COMMAND.match(text)) is not None:
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_len(command.group())}
            ]
        actor.last_text = message
        slot = "edited_channel_post" if actor.kind == "channel" else "edited_message"
        kind = "edit_crisis" if crisis else "edit"
        await self.deliver(actor, kind, {slot: message}, free_text=(token,), crisis=crisis)

    # --- buttons -------------------------------------------------------------------------

    def keyboards(self, actor: Actor) -> list[SentMessage]:
        """The bot's messages in this chat that show callback buttons now, oldest first."""
        shown = self.env.api.chats.get(actor.chat_id, [])[-KEYBOARD_WINDOW:]
        return [m for m in shown if not m.deleted and _callback_buttons(m)]

    def pick_button(self, message: SentMessage) -> str:
        """A button's data; answers more often than Back and Why, so screenings get done."""
        buttons = _callback_buttons(message)
        weights = [5 if kind_of(data) == Kind.ANSWER else 1 for data in buttons]
        return self.rng.choices(buttons, weights)[0]

    async def press(self, actor: Actor, *, stale: bool = False) -> None:
        shown = self.keyboards(actor)
        if not shown:
            await self.send_text(actor, "start")
            return
        if stale and len(shown) > 1:
            message = self.rng.choice(shown[:-1])
            kind = "stale"
        else:
            message, kind = shown[-1], "press"
        await self.tap(actor, kind, message, self.pick_button(message))

    async def double_tap(self, actor: Actor) -> None:
        """Two presses from one look at the screen: both built before either is handled."""
        shown = self.keyboards(actor)
        if not shown:
            await self.send_text(actor, "start")
            return
        message = shown[-1]
        first = self.pick_button(message)
        second = first if self.rng.random() < 0.7 else self.pick_button(message)
        taps = [self._query(actor, message, data) for data in (first, second)]
        for raw, expect in taps:
            await self.deliver(actor, "double_tap", raw, **expect)

    async def forged(self, actor: Actor, *, empty: bool = False) -> None:
        shown = self.keyboards(actor)
        if not shown:
            await self.send_text(actor, "start")
            return
        message = self.rng.choice(shown)
        if empty:  # no data (a game button's query) or empty data
            await self.tap(actor, "empty_press", message, self.rng.choice([None, ""]))
        else:
            await self.tap(actor, "forged", message, self.forged_data())

    def forged_data(self) -> str | None:
        rng = self.rng
        genuine = [
            data
            for other in self.actors
            if other.private
            for m in self.keyboards(other)[-3:]
            for data in _callback_buttons(m)
        ]
        kinds = [k.value for k in Kind] + ["q", "", "ZZ"]
        tag = "".join(rng.choices(string.ascii_letters + string.digits + "-_", k=6))
        choice = rng.randrange(9)
        if choice == 0:  # random bytes, as a client could send them
            return rng.randbytes(rng.randint(1, 64)).decode("latin-1")
        if choice == 1:  # a kind we use, arguments that look right, a wrong signature
            args = "|".join(rng.choices(["0123456789ab", "age", "yes", "1", "all", "-"], k=3))
            return f"1|{rng.choice(kinds)}|{args}|{tag}"
        if choice == 2:  # longer than Telegram's 64 bytes
            return f"1|a|{'x' * rng.randint(60, 200)}|{tag}"
        if choice == 3 and genuine:  # a genuine button with one character changed
            data = list(rng.choice(genuine))
            i = rng.randrange(len(data))
            data[i] = "A" if data[i] != "A" else "B"
            return "".join(data)
        if choice == 4 and genuine:  # another chat's genuine button (replayed)
            return rng.choice(genuine)
        if choice in (5, 6):
            return rng.choice(["|", "1||", "1|a", "2|m|abcdef", "0|m|abcdef", "1|m|", "||||"])
        if choice == 7:  # a staff button's shape from anyone
            return (
                f"1|{rng.choice(['C', 'Y', 'S', 'X'])}|{rng.choice(['ok', 'p', '7', 'all'])}|{tag}"
            )
        return "".join(rng.choices(string.printable + "ñ💙", k=rng.randint(1, 80)))

    async def tap(self, actor: Actor, kind: str, message: SentMessage, data: str | None) -> None:
        raw, expect = self._query(actor, message, data)
        await self.deliver(actor, kind, raw, **expect)

    def _query(self, actor: Actor, message: SentMessage, data: str | None) -> tuple[JSON, JSON]:
        """A callback_query update for a press on `message` as shown now, and its record."""
        api = self.env.api
        query_id = api.open_callback_query(actor.chat_id)
        query: JSON = {
            "id": query_id,
            "from": actor.user,
            "message": api.message_json(message),
            "chat_instance": f"-{actor.chat_id}00",
        }
        if data is not None:
            query["data"] = data
        else:
            query["game_short_name"] = "nope"
        return {"callback_query": query}, {"query_id": query_id}

    # --- staff ---------------------------------------------------------------------------

    async def _staff_step(self, staff: Actor) -> None:
        rng = self.rng
        action = rng.choices(list(STAFF_ACTIONS), list(STAFF_ACTIONS.values()))[0]
        if action in ("broadcast", "tips", "cancel", "stats"):
            await self.send_text(staff, "staff_command", f"/{action}")
        elif action == "staff_text":
            await self.send_text(staff, "staff_text", rng.choice(STAFF_TEXTS) or self.token())
        elif action == "press" and not self.stats_ok():
            shown = [m for m in self.keyboards(staff) if not _is_stats(m)]
            if shown:
                msg = shown[-1]
                await self.tap(staff, "press", msg, self.pick_button(msg))
            else:
                await self.send_text(staff, "staff_command", "/broadcast")
        else:
            await self.act(staff, action)

    def stats_ok(self) -> bool:
        """A stats period press draws a chart (matplotlib, ~0.1 s): only now and then."""
        return self.rng.random() < 0.15

    # --- groups and channels -------------------------------------------------------------

    async def _outsider_step(self, actor: Actor) -> None:
        rng = self.rng
        if actor.kind == "group" and rng.random() < 0.1:
            member = {"status": "member", "user": BOT_USER}
            left = {"status": "left", "user": BOT_USER}
            event = {"chat": actor.chat, "from": actor.user, "date": now()}
            event |= {"old_chat_member": left, "new_chat_member": member}
            await self.deliver(actor, "group", {"my_chat_member": event})
            return
        choice = rng.random()
        if choice < 0.5:
            words = self.free_words()
            await self.send_text(actor, actor.kind, " ".join(words), free_text=(words[0],))
        elif choice < 0.7:
            command = rng.choice(["/start", "/start@iep_test_bot", "/help", "/broadcast"])
            await self.send_text(actor, actor.kind, command)
        elif choice < 0.8:
            await self.edit(actor)
        elif choice < 0.9:
            await self.redeliver(actor)
        else:
            await self.media(actor, rng.choice(["sticker", "photo"]))

    # --- shapes --------------------------------------------------------------------------

    def _message(self, actor: Actor, **content: Any) -> JSON:
        message: JSON = {
            "message_id": self.env.api.next_message_id(actor.chat_id),
            "date": now(),
            "chat": actor.chat,
        }
        if actor.user is not None:
            message["from"] = actor.user
        else:
            message["sender_chat"] = actor.chat
        message.update(content)
        return message


def _slot(actor: Actor) -> str:
    return "channel_post" if actor.kind == "channel" else "message"


def _callback_buttons(message: SentMessage) -> list[str]:
    return [b.callback_data for row in message.reply_markup for b in row if b.callback_data]


def _is_stats(message: SentMessage) -> bool:
    return any(kind_of(data) == Kind.STATS_PERIOD for data in _callback_buttons(message))


def unparseable_update(update_id: int, secret: str, shape: int = 0) -> JSON:
    """An update in a shape PTB cannot parse, holding `secret` where a parent's words go."""
    raw = _fill(UNPARSEABLE[shape % len(UNPARSEABLE)], secret)
    return {"update_id": update_id, **raw}


def _fill(value: Any, secret: str) -> Any:
    if isinstance(value, dict):
        return {k: _fill(v, secret) for k, v in value.items()}
    return value.replace("{secret}", secret) if isinstance(value, str) else value
