"""A parent's screening through the real Application and a fake Bot API."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

from tests.botenv import BotEnv
from tests.conftest import BOOKING_URL
from tests.fakes import ChatClient

# Neither -> school said no impact -> passing, no progress -> huge effort -> ... -> services yes
TO_IEP_EVALUATION = ["Neither", "Yes", "Yes", "No", "Sometimes", "No", "No", "Yes", "Yes"]


async def start_screening(client: ChatClient) -> None:
    """What a parent does first: /start, then the menu's first button."""
    await client.send("/start")
    await client.press("Start the screening")


async def finish(client: ChatClient, answers: list[str]) -> None:
    await start_screening(client)
    for label in answers:
        await client.press(label)


async def test_start_welcomes_with_disclaimer_and_menu(env: BotEnv) -> None:
    maria = env.client()
    await maria.send("/start")
    text = maria.last_text
    assert "Bright Path Advocacy" in text
    assert "two minutes" in text
    assert "not legal advice" in text
    assert "not end-to-end encrypted" in text
    assert maria.buttons[:3] == [
        "Start the screening",
        "Learn about IEP vs 504",
        "Book a consultation",
    ]
    assert {"Privacy", "Language · Idioma"} <= set(maria.buttons)


async def test_questions_are_edited_in_place_with_progress_back_and_why(env: BotEnv) -> None:
    maria = env.client()
    await start_screening(maria)
    first = maria.last
    assert "Question 1 of about" in first.text
    assert "Back" not in " ".join(maria.buttons)
    await maria.press("A 504 plan")
    assert maria.last.message_id == first.message_id  # edited, not a new message
    assert "Question 2 of about 10" in maria.last_text
    assert "504 plan working" in maria.last_text
    await maria.press("Partly")
    await maria.press("◀ Back")
    assert "Question 2 of about 10" in maria.last_text
    assert "Your earlier answer: Partly" in maria.last_text
    assert "✓ Partly" in maria.buttons
    await maria.press("Why we ask")
    why = maria.callback_answers[-1]
    assert why.show_alert and "accommodations" in why.text
    assert len(maria.messages) == 2  # the welcome and one question message


async def test_a_finished_screening_gives_an_outcome_with_reasons_and_actions(
    env: BotEnv,
) -> None:
    maria = env.client()
    await finish(maria, TO_IEP_EVALUATION)
    text = maria.last_text
    assert "What your answers suggest" in text
    assert "An IEP evaluation looks worth requesting" in text
    assert "Because you said:" in text
    reasons = [line for line in text.splitlines() if line.startswith("• ")]
    assert 2 <= len(reasons) <= 4
    assert "qualifies" not in text
    assert {"Book a consultation", "Free help in your state", "Learn more", "Start over"} <= set(
        maria.buttons
    )
    [row] = env.rows("outcomes")
    assert row["status"] == "completed" and row["outcome_id"] == "iep_evaluation"
    assert row["source"] == "direct" and row["lang"] == "en" and row["booked"] == 0
    assert json.loads(row["answers"])["plan"] == "none"
    assert env.rows("sessions") == []


async def test_book_is_recorded_before_the_link_is_shown(env: BotEnv) -> None:
    maria = env.client()
    await finish(maria, TO_IEP_EVALUATION)
    requests_before = len(env.api.calls)
    await maria.press("Book a consultation")
    assert env.rows("outcomes")[0]["booked"] == 1
    url = maria.url_buttons["Open the booking page"]
    assert url.startswith(BOOKING_URL)
    assert parse_qs(urlsplit(url).query) == {
        "utm_source": ["telegram"],
        "utm_medium": ["bot"],
        "utm_campaign": ["iep_evaluation"],
    }
    assert len(env.api.calls) > requests_before


async def test_free_help_and_learn_more(env: BotEnv) -> None:
    maria = env.client()
    await finish(maria, TO_IEP_EVALUATION)
    await maria.press("Free help in your state")
    assert "parentcenterhub.org" in next(iter(maria.url_buttons.values()))
    await maria.press_on(maria.messages[-2].message_id, "Learn more")
    assert "Last reviewed:" in maria.last_text
    assert len(maria.last_text) <= 900


async def test_deep_link_source_is_recorded_and_bad_ones_become_unknown(env: BotEnv) -> None:
    maria = env.client()
    await maria.send("/start spring_flyer-2026")
    await maria.press("Start the screening")
    for label in TO_IEP_EVALUATION:
        await maria.press(label)
    ana = env.client(chat_id=5151, user_id=5151, first_name="Ana", username="ana_r")
    await ana.send("/start bad$source!")
    await ana.press("Start the screening")
    for label in TO_IEP_EVALUATION:
        await ana.press(label)
    sources = sorted(row["source"] for row in env.rows("outcomes"))
    assert sources == ["spring_flyer-2026", "unknown"]


async def test_a_parent_can_resume_after_the_bot_restarts(env: BotEnv) -> None:
    maria = env.client()
    await start_screening(maria)
    await maria.press("An IEP")
    await maria.press("No")
    await env.restart()
    maria = env.client()
    await maria.send("/start")
    assert "at question 3" in maria.last_text
    await maria.press("Continue")
    assert "Question 3 of about 8" in maria.last_text
    await maria.press("Yes")
    assert "Question 4 of about 8" in maria.last_text


async def test_start_over_logs_the_unfinished_screening_as_abandoned(env: BotEnv) -> None:
    maria = env.client()
    await start_screening(maria)
    await maria.press("Neither")
    await maria.send("/start")
    await maria.press("Start over")
    assert "Question 1 of about" in maria.last_text
    [row] = env.rows("outcomes")
    assert row["status"] == "abandoned" and row["stopped_at"] == "school_said"


async def test_unfinished_screenings_expire_and_are_logged_where_they_stopped(
    env: BotEnv,
) -> None:
    maria = env.client()
    await start_screening(maria)
    await maria.press("A 504 plan")
    env.clock.advance(days=14, seconds=1)
    await maria.press("Yes")  # the old button, two weeks later
    assert any("cleared it" in m.text for m in maria.messages)
    [row] = env.rows("outcomes")
    assert row["status"] == "abandoned" and row["stopped_at"] == "plan_working"
    assert row["outcome_id"] is None
    assert env.rows("sessions") == []


async def test_expiry_sweep_logs_sessions_nobody_came_back_to(env: BotEnv) -> None:
    maria = env.client()
    await start_screening(maria)
    env.clock.advance(days=13)
    assert env.app.bot_data["services"].conversation.expire_all() == 0
    env.clock.advance(days=2)
    assert env.app.bot_data["services"].conversation.expire_all() == 1
    assert env.rows("outcomes")[0]["stopped_at"] == "plan"


async def test_stale_and_forged_buttons_get_a_kind_answer_and_the_current_question(
    env: BotEnv,
) -> None:
    maria = env.client()
    await start_screening(maria)
    await maria.press("Neither")
    await maria.press_data("1|a|deadbeef0000|plan|iep|AAAAAA")  # forged
    assert "earlier screen" in maria.callback_answers[-1].text
    assert "Question 2 of about" in maria.last_text
    await maria.press_data("not-even-our-format")
    assert "Question 2 of about" in maria.last_text
    # A real button from the first screening, after starting over.
    await maria.send("/restart")
    old_question = maria.last.message_id
    await maria.press("Neither")
    await maria.send("/restart")
    await maria.press_on(old_question, "Yes")
    assert "earlier screen" in maria.callback_answers[-1].text
    assert "Question 1 of about" in maria.last_text


async def test_buttons_from_a_finished_screening_do_not_restart_it(env: BotEnv) -> None:
    maria = env.client()
    await start_screening(maria)
    question = maria.last.message_id
    for label in TO_IEP_EVALUATION:
        await maria.press(label)
    # The question message became the outcome; an answer signed for the old session:
    codec = env.app.bot_data["services"].codec
    from bot.callbacks import Action

    old_answer = codec.encode(Action("a", ("0123456789ab", "plan", "iep")))
    await maria.press_data(old_answer, message_id=question)
    assert "earlier screen" in maria.callback_answers[-1].text
    assert "Start the screening" in maria.buttons
    assert len(env.rows("outcomes")) == 1
    assert env.rows("sessions") == []


async def test_free_text_stickers_photos_voice_and_edits_get_the_question_again(
    env: BotEnv,
) -> None:
    maria = env.client()
    await start_screening(maria)
    for send in (
        lambda: maria.send("my son is 9 and hates school"),
        maria.send_sticker,
        maria.send_photo,
        maria.send_voice,
        lambda: maria.edit_last_sent("edited"),
    ):
        mark = maria.mark()
        await send()
        shown = maria.new_since(mark)
        assert "tap one of the answers" in shown[0].text
        assert "Question 1 of about" in shown[-1].text
    assert env.rows("outcomes") == []


async def test_free_text_outside_a_screening_gets_the_menu(env: BotEnv) -> None:
    maria = env.client()
    await maria.send("hello?")
    assert "Start the screening" in maria.buttons


async def test_crisis_words_show_988_and_911_before_anything_else(env: BotEnv) -> None:
    maria = env.client()
    await start_screening(maria)
    mark = maria.mark()
    await maria.send("he said he wants to die")
    first = maria.new_since(mark)[0]
    assert "988" in first.text and "911" in first.text


async def test_a_crisis_answer_shows_the_helplines_at_once(env: BotEnv) -> None:
    maria = env.client()
    await start_screening(maria)
    for label in ["Neither", "Yes", "Yes", "Yes"]:
        await maria.press(label)
    question = maria.last.message_id
    await maria.press("They talked about hurting themselves or others")
    crisis = env.api.message(4242, question)
    assert crisis is not None and "988" in crisis.text and "911" in crisis.text
    assert "Question 6 of about" in maria.last_text  # the screening goes on below it


async def test_red_flag_answers_mention_mdr_and_prior_written_notice(env: BotEnv) -> None:
    maria = env.client()
    await start_screening(maria)
    for label in ["Neither", "No", "No", "No", "Rarely or never", "No", "Yes"]:
        await maria.press(label)
    assert "manifestation determination review" in maria.last_text
    await maria.press("No")
    await maria.press("We asked, they said no")
    assert "Prior Written Notice" in maria.last_text
    assert "manifestation determination review" in maria.last_text


async def test_help_privacy_and_restart_work_mid_screening(env: BotEnv) -> None:
    maria = env.client()
    await start_screening(maria)
    await maria.press("An IEP")
    await maria.send("/help")
    assert "/restart" in maria.last_text
    await maria.send("/privacy")
    assert "14 days" in maria.last_text
    await maria.send("/restart")
    assert "Question 1 of about" in maria.last_text
    await maria.send("/nonsense")
    assert "I don't know that command" in maria.last_text


async def test_forget_deletes_the_saved_place(env: BotEnv) -> None:
    maria = env.client()
    await start_screening(maria)
    await maria.send("/forget")
    assert env.rows("sessions") == [] and env.rows("chat_prefs") == []


async def test_a_repeated_delivery_counts_once(env: BotEnv) -> None:
    maria = env.client()
    await start_screening(maria)
    for label in TO_IEP_EVALUATION[:-1]:
        await maria.press(label)
    last = await maria.press(TO_IEP_EVALUATION[-1])
    sent_before = len(env.api.calls)
    await maria.deliver(last)  # Telegram retries the same update
    assert len(env.rows("outcomes")) == 1
    assert len(env.api.calls) == sent_before


async def test_group_chats_are_ignored(env: BotEnv) -> None:
    member = env.client(chat_id=-100123, user_id=4242)
    member.chat = {"id": -100123, "type": "supergroup", "title": "PTA"}
    env.api.register_chat(member.chat)
    await member.send("/start")
    await member.send("my child has an IEP")
    assert member.messages == []


async def test_nothing_identifying_is_stored(env: BotEnv) -> None:
    maria = env.client(
        chat_id=918273645, user_id=918273645, first_name="Mariposa", username="mariposa_p"
    )
    await maria.send("/start flyer")
    await maria.press("Start the screening")
    await maria.send("Mariposa here, my kid is struggling")
    for label in TO_IEP_EVALUATION:
        await maria.press(label)
    await maria.press("Book a consultation")
    assert env.storage is not None
    dump = "\n".join(env.storage.db.conn.iterdump())
    for secret in ("918273645", "Mariposa", "mariposa_p", "struggling"):
        assert secret not in dump


async def test_the_command_menu_is_set_in_every_language(env: BotEnv) -> None:
    await env.app.post_init(env.app)
    menus = env.api.my_commands
    for code in env.content.languages:
        key = ("default", "") if code == "en" else ("default", code)
        commands = [c["command"] for c in menus[key]]
        assert {"start", "restart", "help", "privacy", "language"} <= set(commands)
