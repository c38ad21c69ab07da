"""/whoami and the start-up note: a staff member can find and check their id from the phone."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from bot.config import Settings
from bot.content import Content
from bot.run_cli import staff_line
from tests.botenv import BotEnv
from tests.clock import FakeClock
from tests.conftest import STAFF_ID


@pytest.fixture
async def greeting_env(
    settings: Settings, content: Content, clock: FakeClock
) -> AsyncIterator[BotEnv]:
    """The bot as just started: staff have not written since."""
    env = await BotEnv(settings, content, clock, greet_staff=True).start()
    yield env
    await env.stop()


async def test_a_parent_learns_their_id_and_that_they_are_not_staff(env: BotEnv) -> None:
    parent = env.client(user_id=4242, chat_id=4242)
    await parent.send("/whoami")
    assert parent.last_text == (
        "Your Telegram user id is 4242.\n\nYou are not on this bot's staff list. If you work"
        " for the practice, send this number to the person who runs the bot: they add it to"
        " STAFF_IDS and restart the bot."
    )
    # The id is set apart, so a long press copies exactly the number.
    assert "<b>4242</b>" in parent.last.source  # set apart from the words


async def test_in_spanish(env: BotEnv) -> None:
    parent = env.client(user_id=5151, chat_id=5151, language_code="es")
    await parent.send("/whoami")
    assert parent.last_text.startswith("Su id de usuario de Telegram es 5151.")
    assert "No está en la lista del personal" in parent.last_text
    staff = env.client(user_id=STAFF_ID, chat_id=STAFF_ID, language_code="es")
    await staff.send("/whoami")
    assert "✅ Está en la lista del personal" in staff.last_text
    assert "/broadcast, /broadcasts, /tips, /stats, /export" in staff.last_text


async def test_staff_are_told_they_are_staff_and_what_they_can_do(env: BotEnv) -> None:
    staff = env.client(user_id=STAFF_ID, chat_id=STAFF_ID)
    await staff.send("/whoami")
    assert staff.last_text == (
        f"Your Telegram user id is {STAFF_ID}.\n\n✅ You are on this bot's staff list:"
        " /broadcast, /broadcasts, /tips, /stats, /export work in this chat."
    )


async def test_a_staff_members_first_message_after_start_up_says_the_bot_knows_them(
    greeting_env: BotEnv,
) -> None:
    env = greeting_env
    staff = env.client(user_id=STAFF_ID, chat_id=STAFF_ID)
    await staff.send("/start")
    hello, menu = staff.messages[-2:]
    assert hello.text == (
        f"👋 The bot knows you as staff (user id {STAFF_ID}). Staff commands: /broadcast,"
        " /broadcasts, /tips, /stats, /export."
    )
    assert menu.buttons  # then the answer to what they sent, as always
    mark = staff.mark()
    await staff.send("/help")
    assert len(staff.new_since(mark)) == 1  # once per start-up, not on every message
    assert "knows you as staff" not in staff.last_text
    await env.restart()
    staff = env.client(user_id=STAFF_ID, chat_id=STAFF_ID)  # the same chat, the new process
    mark = staff.mark()
    await staff.send("/help")
    assert [m.text.startswith("👋") for m in staff.new_since(mark)] == [True, False]


async def test_the_note_comes_in_spanish_and_not_for_parents(greeting_env: BotEnv) -> None:
    parent = greeting_env.client(user_id=4242, chat_id=4242)
    await parent.send("/start")
    assert not any("staff" in m.text for m in parent.messages)
    staff = greeting_env.client(user_id=STAFF_ID, chat_id=STAFF_ID, language_code="es")
    await staff.send("hola")
    assert staff.messages[0].text.startswith("👋 El bot le reconoce como personal")


async def test_a_first_whoami_is_not_answered_twice(greeting_env: BotEnv) -> None:
    staff = greeting_env.client(user_id=STAFF_ID, chat_id=STAFF_ID)
    await staff.send("/whoami")
    assert len(staff.messages) == 1
    assert "✅ You are on this bot's staff list" in staff.last_text


async def test_crisis_words_come_before_the_note(greeting_env: BotEnv) -> None:
    staff = greeting_env.client(user_id=STAFF_ID, chat_id=STAFF_ID)
    await staff.send("I want to kill myself")
    assert "988" in staff.messages[0].text
    assert not any(m.text.startswith("👋") for m in staff.messages)
    mark = staff.mark()
    await staff.send("/help")
    assert staff.new_since(mark)[0].text.startswith("👋")


async def test_a_button_press_as_first_update_also_gets_the_note(greeting_env: BotEnv) -> None:
    staff = greeting_env.client(user_id=STAFF_ID, chat_id=STAFF_ID)
    greeting_env.app.staff_greeted.add(STAFF_ID)
    await staff.send("/stats")  # the period buttons, before a restart
    greeting_env.app.staff_greeted.clear()  # as after a restart
    mark = staff.mark()
    await staff.press("7 days")
    assert staff.new_since(mark)[0].text.startswith("👋 The bot knows you as staff")


async def test_nothing_logged_carries_the_id(env: BotEnv, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    parent = env.client(user_id=918273, chat_id=918273)
    await parent.send("/whoami")
    await parent.send("/stats")
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("bot"))
    assert "staff: /whoami shows the id to add" in ours
    assert "918273" not in ours


def test_start_up_says_how_many_staff_ids_are_set(settings: Settings) -> None:
    assert staff_line(settings) == "1 staff id set (STAFF_IDS); /whoami confirms one"
    assert staff_line(replace(settings, staff_ids=frozenset({1, 2}))).startswith("2 staff ids")
    assert staff_line(replace(settings, staff_ids=frozenset())) == (
        "no staff ids set (STAFF_IDS): staff commands are off; anyone can send /whoami to the"
        " bot to learn their id"
    )
