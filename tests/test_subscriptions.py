"""Parents opting in to tips and out again, as they see it."""

from __future__ import annotations

import dataclasses

import pytest

from bot.config import Settings
from bot.content import Content
from bot.keys import rekey
from bot.storage import Pseudonymizer, Storage
from tests.botenv import BotEnv
from tests.clock import FakeClock
from tests.parents import TO_IEP_EVALUATION, finish, result_message, start_screening
from tests.test_keys import NEW as NEW_KEY


async def test_opt_in_from_the_menu_with_an_interest(env: BotEnv) -> None:
    maria = env.client()
    await maria.send("/start")
    await maria.press("Get tips")
    assert "tip every week or two" in maria.last_text
    await maria.press("Yes, send me tips")
    assert "You're in!" in maria.last_text
    await maria.press("My child has a 504 plan")
    assert "keep that in mind" in maria.last_text
    [row] = env.rows("subscribers")
    assert row["chat_id"] == 4242 and row["lang"] == "en" and row["interest"] == "has_504"
    [event] = env.rows("subscription_events")
    assert event["event"] == "joined" and "4242" not in str(event)


async def test_opt_in_at_the_end_of_a_screening_and_skip_the_interest(env: BotEnv) -> None:
    maria = env.client()
    await finish(maria, TO_IEP_EVALUATION)
    await maria.press_on(result_message(maria).message_id, "Next steps and details")
    await maria.press(env.content.pack("en").t("subscribe.outcome_button"))
    await maria.press("Yes, send me tips")
    await maria.press("Skip")
    [row] = env.rows("subscribers")
    assert row["interest"] is None


async def test_subscribe_command_no_thanks_and_already(env: BotEnv) -> None:
    maria = env.client()
    await maria.send("/subscribe")
    await maria.press("No, thanks")
    assert "/subscribe" in maria.last_text
    assert env.rows("subscribers") == []
    await maria.send("/subscribe")
    await maria.press("Yes, send me tips")
    await maria.send("/subscribe")
    assert "already get our tips" in maria.last_text
    assert len(env.rows("subscribers")) == 1


async def test_stop_and_unsubscribe_delete_the_chat_id_at_once(env: BotEnv) -> None:
    maria = env.client()
    await maria.send("/subscribe")
    await maria.press("Yes, send me tips")
    await maria.send("/stop")
    assert "won't get any more tips" in maria.last_text
    assert env.rows("subscribers") == []
    await maria.send("/unsubscribe")
    assert "nothing to stop" in maria.last_text
    events = [e["event"] for e in env.rows("subscription_events")]
    assert events == ["joined", "left"]


async def test_stop_works_in_the_middle_of_a_screening(env: BotEnv) -> None:
    maria = env.client()
    await maria.send("/subscribe")
    await maria.press("Yes, send me tips")
    await start_screening(maria)
    await maria.press("In kindergarten or older")
    await maria.send("/stop")
    assert env.rows("subscribers") == []
    assert len(env.rows("sessions")) == 1  # the screening is untouched


async def test_forget_removes_the_subscription_too(env: BotEnv) -> None:
    maria = env.client()
    await maria.send("/subscribe")
    await maria.press("Yes, send me tips")
    await maria.send("/forget")
    assert env.rows("subscribers") == []


async def test_spanish_parents_subscribe_in_spanish(env: BotEnv) -> None:
    rosa = env.client(chat_id=5151, user_id=5151, language_code="es")
    await rosa.send("/subscribe")
    es = env.content.pack("es")
    await rosa.press(es.t("subscribe.yes"))
    await rosa.press(es.t("subscribe.interests.waiting_evaluation"))
    [row] = env.rows("subscribers")
    assert row["lang"] == "es" and row["interest"] == "waiting_evaluation"


async def test_tips_follow_the_language_the_parent_switches_to(env: BotEnv) -> None:
    maria = env.client()
    await maria.send("/subscribe")
    await maria.press("Yes, send me tips")
    await maria.send("/language")
    await maria.press("Español")
    [row] = env.rows("subscribers")
    assert row["lang"] == "es"
    broadcasts = env.app.services.broadcasts
    assert broadcasts.count_recipients("lang:es") == 1


# --- a new PSEUDONYM_KEY: /stop and /forget still find the subscription ----------------------


async def tips_reaching(env: BotEnv, chat_id: int) -> int:
    """Queue a tip for everyone, let the delivery engine send it; how many reached `chat_id`."""
    before = len(env.api.chats.get(chat_id, []))
    env.app.services.broadcasts.queue(
        audience="all", texts={"*": "<b>Tip</b>: keep a log."}, created_by=None, origin="cli"
    )
    await env.engine(rate=1000).work()
    return len(env.api.chats.get(chat_id, [])) - before


async def subscribed_under_the_old_key(
    settings: Settings, content: Content, clock: FakeClock
) -> None:
    """Maria subscribes while the bot runs with the first key (conftest's)."""
    env = await BotEnv(settings, content, clock).start()
    maria = env.client()
    await maria.send("/subscribe")
    await maria.press("Yes, send me tips")
    assert await tips_reaching(env, 4242) == 1
    await env.stop()


async def bot_with_new_key(settings: Settings, content: Content, clock: FakeClock) -> BotEnv:
    changed = dataclasses.replace(settings, pseudonym_key=NEW_KEY)
    return await BotEnv(changed, content, clock).start()


async def test_stop_after_a_rekey(settings: Settings, content: Content, clock: FakeClock) -> None:
    await subscribed_under_the_old_key(settings, content, clock)
    storage = Storage(settings.database_path, clock=clock)
    rekey(storage, NEW_KEY)
    storage.close()
    env = await bot_with_new_key(settings, content, clock)
    maria = env.client()
    await maria.send("/stop")
    assert "won't get any more tips" in maria.last_text
    assert env.rows("subscribers") == []
    assert await tips_reaching(env, 4242) == 0
    await env.stop()


@pytest.mark.parametrize("command", ["/stop", "/forget"])
async def test_stop_and_forget_without_a_rekey(
    settings: Settings, content: Content, clock: FakeClock, command: str
) -> None:
    """A database keyed with the old key (the bot refuses to start on one; written here by
    hand): the subscription is found by the chat id."""
    await subscribed_under_the_old_key(settings, content, clock)
    env = await bot_with_new_key(settings, content, clock)
    [row] = env.rows("subscribers")
    assert row["chat_key"] == Pseudonymizer(settings.pseudonym_key)(4242)
    maria = env.client()
    await maria.send(command)
    if command == "/stop":
        assert "won't get any more tips" in maria.last_text
    assert env.rows("subscribers") == []
    assert await tips_reaching(env, 4242) == 0
    assert [e["event"] for e in env.rows("subscription_events")] == ["joined", "left"]
    await env.stop()


async def test_subscribing_again_under_a_new_key_keeps_one_subscription(
    settings: Settings, content: Content, clock: FakeClock
) -> None:
    await subscribed_under_the_old_key(settings, content, clock)
    env = await bot_with_new_key(settings, content, clock)
    maria = env.client()
    await maria.send("/subscribe")
    await maria.press("Yes, send me tips")
    assert "already get our tips" in maria.last_text
    [row] = env.rows("subscribers")
    assert row["chat_key"] == Pseudonymizer(NEW_KEY)(4242)
    assert await tips_reaching(env, 4242) == 1  # once, not twice
    await env.stop()
