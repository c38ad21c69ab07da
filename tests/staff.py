"""The scene the staff tests share: a staff member, seeded parents, and the real Application.

A staff member (user 777, conftest's STAFF_ID) and five subscribed parents (PARENTS) with the real
Application on the fake Bot API. The delivery engine is not running: tests check what staff see
and what gets queued, and `deliver_due` runs one pass of the real engine to see what parents get.
The `scene` fixture (conftest.py) is a `make_scene` with the default settings.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from bot.broadcast.engine import DeliveryEngine
from bot.broadcast.message import render_text
from bot.callbacks import Action
from bot.config import Settings
from bot.content import Content
from tests.botenv import BotEnv
from tests.clock import FakeClock
from tests.conftest import STAFF_ID
from tests.fakebot import SentMessage

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
TEXT_ES = "<b>¿Reunión del IEP pronto?</b> Traiga sus preguntas y una copia del plan."
# A broadcast's texts as stored: one per language, HTML as queued.
TEXTS = {"en": TEXT_HTML, "es": TEXT_ES}


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
        svc = self.env.app.services
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
        return self.env.app.services.codec.encode(action)

    def draft_id(self) -> str:
        return str(self.drafts[0]["draft_id"])


async def make_scene(
    settings: Settings, content: Content, clock: FakeClock, **changes: Any
) -> Scene:
    env = await BotEnv(dataclasses.replace(settings, **changes), content, clock).start()
    scene = Scene(env, clock)
    scene.seed()
    return scene


async def compose_to_preview(
    scene: Scene, text: str = TEXT, audience: str = "Everyone · 5", others: str | None = TEXT_ES
) -> None:
    """/broadcast, the audience, `text` for the first language asked, then `others` for each
    further language asked (None: Skip it), up to the preview."""
    await scene.staff.send("/broadcast")
    await scene.staff.press(audience)
    await scene.staff.send(text)
    while scene.drafts and scene.drafts[0]["state"] == "awaiting_content":
        if others is None:
            await scene.staff.press("⏭ Skip")
        else:
            await scene.staff.send(others)


async def reach(scene: Scene, step: str) -> None:
    """Walk a new draft up to `step`: audience, content, preview or time."""
    await scene.staff.send("/broadcast")
    if step == "audience":
        return
    await scene.staff.press("Everyone · 5")
    if step == "content":
        return
    await scene.staff.send(TEXT)
    await scene.staff.send(TEXT_ES)
    if step == "preview":
        return
    await scene.staff.press("🕒 Schedule for later")
    assert step == "time"


def queue(scene: Scene, **kwargs: Any) -> int:
    """A broadcast queued by staff as Confirm queues it (everyone, both texts, unless said)."""
    return scene.env.app.services.broadcasts.queue(
        audience=kwargs.pop("audience", "all"),
        texts=kwargs.pop("texts", TEXTS),
        created_by=STAFF_ID,
        origin="telegram",
        **kwargs,
    )


def texts_of(messages: list[SentMessage]) -> list[str]:
    return [m.text for m in messages]


def make_engine(scene: Scene) -> DeliveryEngine:
    """The real delivery engine, on the test clock."""

    async def sleep(seconds: float) -> None:
        scene.clock.advance(seconds=seconds)

    return scene.env.engine(rate=1000, sleep=sleep)


async def deliver_due(scene: Scene) -> None:
    """One pass of the delivery engine over what is due."""
    await make_engine(scene).work()


def received(scene: Scene, chat_id: int) -> list[SentMessage]:
    return scene.env.api.chats.get(chat_id, [])
