"""Several updates at once, never two of one chat (bot/tg/order.py), and the bot stays right.

The processor is tested alone with updates whose handling the test holds and releases, then
the running bot is driven through its update queue, as polling feeds it, by parents who
double-tap every answer while their handlers interleave at every call to Telegram.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from telegram import Update
from telegram.request import BaseRequest, RequestData

from bot.config import Settings
from bot.content import Content
from bot.storage import Storage
from bot.tg.app import build_application
from bot.tg.context import BotApplication
from bot.tg.order import ChatOrderedProcessor
from tests.botenv import FakeSleep
from tests.clock import FakeClock
from tests.fakebot import ChatClient, FakeBotAPI
from tests.parents import TO_IEP_EVALUATION

# --- the processor alone -------------------------------------------------------------------


def update(update_id: int, chat_id: int | None) -> Update:
    """A text message in `chat_id`'s private chat (None: an update with no chat at all)."""
    if chat_id is None:
        return Update(update_id=update_id)
    raw = {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 0,
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "P"},
            "text": "hi",
        },
    }
    return Update.de_json(raw, None)


class Handling:
    """Stand-in handlers: each records when it starts and ends and runs until released."""

    def __init__(self) -> None:
        self.started: list[int] = []
        self.ended: list[int] = []
        self.gates: dict[int, asyncio.Event] = {}

    def running(self) -> set[int]:
        return set(self.started) - set(self.ended)

    async def handle(self, update_id: int) -> None:
        self.started.append(update_id)
        await self.gates.setdefault(update_id, asyncio.Event()).wait()
        self.ended.append(update_id)

    def release(self, update_id: int) -> None:
        self.gates.setdefault(update_id, asyncio.Event()).set()


async def settle() -> None:
    """Let every task run until it waits on something the test controls."""
    for _ in range(20):
        await asyncio.sleep(0)


def feed(
    processor: ChatOrderedProcessor, handling: Handling, updates: list[Update]
) -> list[asyncio.Task[None]]:
    """As PTB does: one task per update, created in the order the updates were fetched."""
    return [
        asyncio.create_task(processor.process_update(u, handling.handle(u.update_id)))
        for u in updates
    ]


async def test_a_chats_updates_run_one_at_a_time_in_the_order_they_came() -> None:
    processor, handling = ChatOrderedProcessor(limit=8), Handling()
    tasks = feed(processor, handling, [update(1, 42), update(2, 42), update(3, 42)])
    await settle()
    assert handling.started == [1]  # the double tap waits for the first tap
    handling.release(2)  # released early: it still may not start before 1 ends
    await settle()
    assert handling.started == [1]
    handling.release(1)
    await settle()
    assert handling.ended == [1, 2] and handling.started == [1, 2, 3]
    handling.release(3)
    await asyncio.gather(*tasks)
    assert handling.ended == [1, 2, 3]
    assert processor.chats_waiting == 0  # no memory kept per chat once it is done


async def test_different_chats_run_side_by_side_up_to_the_limit() -> None:
    processor, handling = ChatOrderedProcessor(limit=2), Handling()
    tasks = feed(processor, handling, [update(1, 1), update(2, 2), update(3, 3)])
    await settle()
    assert handling.running() == {1, 2}  # two at once, the third waits for a slot
    handling.release(2)
    await settle()
    assert handling.running() == {1, 3}
    handling.release(1)
    handling.release(3)
    await asyncio.gather(*tasks)


async def test_a_parent_mashing_a_button_does_not_hold_everyone_s_slots() -> None:
    processor, handling = ChatOrderedProcessor(limit=2), Handling()
    mashing = [update(i, 7) for i in range(1, 11)]  # ten taps, the first one slow
    tasks = feed(processor, handling, [*mashing, update(99, 8)])
    await settle()
    # Another parent's tap runs at once: the nine waiting taps hold no slot.
    assert handling.running() == {1, 99}
    for i in [*range(1, 11), 99]:
        handling.release(i)
    await asyncio.gather(*tasks)
    assert [i for i in handling.ended if i != 99] == list(range(1, 11))


async def test_updates_without_a_chat_run_within_the_limit() -> None:
    processor, handling = ChatOrderedProcessor(limit=1), Handling()
    tasks = feed(processor, handling, [update(1, None), update(2, None), update(3, 5)])
    await settle()
    assert handling.running() == {1}
    for i in (1, 2, 3):
        handling.release(i)
    await asyncio.gather(*tasks)
    assert sorted(handling.ended) == [1, 2, 3]


def test_the_limit_must_be_positive() -> None:
    with pytest.raises(ValueError):
        ChatOrderedProcessor(limit=0)


# --- the running bot, fed through its update queue -------------------------------------------


class Interleaving(BaseRequest):
    """The fake Bot API, but every call first lets every other task run a little: handlers
    of different parents interleave at each call to Telegram, as over a network (no wall
    clock: only the event loop's turns). Counts calls in flight per chat."""

    def __init__(self, api: FakeBotAPI) -> None:
        self.api = api
        self.in_flight: Counter[int] = Counter()

    async def initialize(self) -> None:
        await self.api.initialize()

    async def shutdown(self) -> None:
        await self.api.shutdown()

    @property
    def read_timeout(self) -> float | None:
        return None

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None, **kw: Any
    ) -> tuple[int, bytes]:
        for _ in range(3):
            await asyncio.sleep(0)
        return await self.api.do_request(url, method, request_data, **kw)


class Recorder:
    """Wraps the application's process_update: which updates of which chat run at once."""

    def __init__(self, app: BotApplication) -> None:
        self.inner: Callable[[object], Awaitable[None]] = app.process_update
        self.running: Counter[int] = Counter()
        self.most_at_once = 0
        self.most_per_chat = 0

    async def __call__(self, update: object) -> None:
        assert isinstance(update, Update) and update.effective_chat is not None
        chat = update.effective_chat.id
        self.running[chat] += 1
        self.most_per_chat = max(self.most_per_chat, self.running[chat])
        self.most_at_once = max(self.most_at_once, sum(self.running.values()))
        try:
            await self.inner(update)
        finally:
            self.running[chat] -= 1


@dataclasses.dataclass
class Running:
    app: BotApplication
    api: FakeBotAPI
    storage: Storage
    recorder: Recorder

    def parents(self, count: int) -> list[ChatClient]:
        found = []
        for i in range(count):
            client = ChatClient(self.app, self.api, chat_id=6000 + i, first_name=f"P{i}")
            client.queued = True
            found.append(client)
        return found

    async def handled(self) -> None:
        """Every queued update has been handled (PTB counts them off the queue)."""
        await asyncio.wait_for(self.app.update_queue.join(), 30)


@pytest.fixture
async def running(settings: Settings, content: Content, clock: FakeClock) -> AsyncIterator[Running]:
    storage = Storage(settings.database_path, clock=clock)
    storage.migrate()
    api = FakeBotAPI()
    app = build_application(
        dataclasses.replace(settings, concurrent_updates=16),
        storage,
        content,
        request=Interleaving(api),
        sweep_expired=False,
        pace_clock=clock,
        pace_sleep=FakeSleep(clock),
    )
    recorder = Recorder(app)
    app.process_update = recorder  # type: ignore[method-assign]
    await app.initialize()
    await app.start()  # the update fetcher: queue -> update processor -> handlers
    yield Running(app, api, storage, recorder)
    await app.stop()
    await app.shutdown()
    storage.close()


STALE = "That button is from an earlier screen. Here is where you are now."


def another_answer(client: ChatClient, chosen: str) -> str:
    """An answer button on the same question other than `chosen`."""
    others = [
        label
        for label in client.buttons
        if label != chosen and label not in ("Back", "Why we ask", "Stop for now")
    ]
    assert others, client.buttons
    return others[0]


async def double_tap_through_a_screening(running: Running, parents: list[ChatClient]) -> None:
    """Every parent starts, then taps each answer twice: the one meant, then another of the
    same question, all queued before any is handled; the late taps must be stale."""
    for parent in parents:
        await parent.send("/start")
    await running.handled()
    for parent in parents:
        await parent.press("Start the screening")
    await running.handled()
    for answer in TO_IEP_EVALUATION:
        for parent in parents:
            other = another_answer(parent, answer)
            await parent.press(answer)  # the answer meant ...
            await parent.press(other)  # ... and a second tap on the same question
        await running.handled()
        for parent in parents:
            meant, late = parent.callback_answers[-2:]
            # The late tap is answered as a button from an earlier screen, not acted on.
            assert late.text == STALE, late
            assert meant.text != STALE, meant


async def test_double_taps_of_many_parents_are_handled_in_the_order_made(
    running: Running,
) -> None:
    parents = running.parents(20)
    await double_tap_through_a_screening(running, parents)
    for parent in parents:  # the result, then the late tap's "here is where you are now"
        assert any("looks worth it" in m.text for m in parent.messages), parent.last_text
    outcomes = list(running.storage.db["outcomes"].rows)
    assert len(outcomes) == len(parents)
    assert len({o["outcome_id"] for o in outcomes}) == 1  # all took the same path
    assert all(o["status"] == "completed" for o in outcomes)
    # Parents' updates really ran side by side, and never two of one chat.
    assert running.recorder.most_at_once > 1
    assert running.recorder.most_per_chat == 1


async def test_a_broadcast_goes_on_while_parents_double_tap_side_by_side(
    running: Running, clock: FakeClock
) -> None:
    flood = running.api.limit_flood(30, clock=clock)
    for chat_id in range(70_000, 70_300):
        running.storage.add_subscriber(f"key-{chat_id}", chat_id, "en")
    running.app.services.broadcasts.queue(
        audience="all", texts={"*": "Tip: ask in writing."}, created_by=777, origin="telegram"
    )
    sending = asyncio.create_task(running.app.engine.work())
    parents = running.parents(12)
    await double_tap_through_a_screening(running, parents)
    await asyncio.wait_for(sending, 30)
    for parent in parents:
        assert any("looks worth it" in m.text for m in parent.messages), parent.last_text
    statuses = Counter(d["status"] for d in running.storage.db["deliveries"].rows)
    assert statuses == {"sent": 300}  # each tip once, none lost to the interleaving
    tips = Counter(
        chat for chat, messages in running.api.chats.items() for m in messages if "Tip" in m.text
    )
    assert set(tips.values()) == {1} and len(tips) == 300
    # Replies go at once (Telegram's ~30 a second is for bulk messages; this fake counts
    # every message, the strictest reading): a reply that met a 429 was tried again and
    # arrived (above), and no tip ever met one: the broadcast took only what replies left.
    parent_chats = {p.chat_id for p in parents}
    assert set(flood.refused_chats) <= parent_chats, flood.refused_chats
    assert running.app.activity.busy == 0  # every update counted in was counted out
    assert running.recorder.most_at_once > 1
