"""A parent's screening through the real Application and a fake Bot API."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

from tests.botenv import BotEnv
from tests.conftest import BOOKING_URL
from tests.parents import (
    CHECKIN_OFFERS,
    SCHOOL,
    TO_IEP_EVALUATION,
    finish,
    result_message,
    start_screening,
)


async def test_start_welcomes_with_disclaimer_and_menu(env: BotEnv) -> None:
    maria = env.client()
    await maria.send("/start")
    text = maria.last_text
    assert "Bright Path Advocacy" in text
    assert "two minutes" in text
    assert "not legal advice" in text
    assert "not end-to-end encrypted" in text
    assert maria.buttons[:4] == [
        "Start the screening",
        "Learn about IEP vs 504",
        "Book a consult",
        "Free help",
    ]
    assert {"Privacy", "Language · Idioma"} <= set(maria.buttons)


async def test_questions_are_edited_in_place_with_progress_back_and_why(env: BotEnv) -> None:
    maria = env.client()
    await start_screening(maria)
    first = maria.last
    assert "Question 1 of about" in first.text
    assert "Back" not in " ".join(maria.buttons)
    await maria.press(SCHOOL)
    assert maria.last.message_id == first.message_id  # edited, not a new message
    await maria.press("A 504 plan")
    assert "Question 3 of about 11" in maria.last_text
    assert "follow the 504 plan" in maria.last_text
    await maria.press("Partly")
    await maria.press("◀ Back")
    assert "Question 3 of about 11" in maria.last_text
    assert "Your earlier answer: Partly" in maria.last_text
    assert "✓ Partly" in maria.buttons
    await maria.press("Why we ask")
    why = maria.callback_answers[-1]
    assert why.show_alert and "used" in why.text
    assert len(maria.messages) == 2  # the welcome and one question message


async def test_a_finished_screening_gives_an_outcome_with_reasons_and_actions(
    env: BotEnv,
) -> None:
    maria = env.client()
    await finish(maria, TO_IEP_EVALUATION)
    # The result, then one short message under it: the check-in's offer.
    assert maria.last_text == CHECKIN_OFFERS[0]
    assert maria.buttons == ["Yes, check in", "No thanks"]
    result = result_message(maria)
    text = result.text
    assert text.startswith("An IEP evaluation looks worth it")
    assert "Because you said:" in text and "First step:" in text
    reasons = [line for line in text.splitlines() if line.startswith("• ")]
    assert 1 <= len(reasons) <= 3
    assert "qualifies" not in text
    assert result.buttons == [
        "Book a consult",
        "Free help",
        "✍️ Write the letter",
        "Next steps and details",
    ]
    await maria.press_on(result.message_id, "Next steps and details")
    assert {"Learn more", "Start over", "Book a consult", "Free help"} <= set(maria.buttons)
    assert "The 60 days start when the school gets your signed consent" in maria.last_text
    [row] = env.rows("outcomes")
    assert row["status"] == "completed" and row["outcome_id"] == "iep_evaluation"
    assert row["source"] == "direct" and row["lang"] == "en" and row["booked"] == 0
    assert json.loads(row["answers"])["plan"] == "none"
    assert json.loads(row["answers"])["age"] == "school"
    assert env.rows("sessions") == []


async def test_book_is_recorded_before_the_link_is_shown(env: BotEnv) -> None:
    maria = env.client()
    await finish(maria, TO_IEP_EVALUATION)
    requests_before = len(env.api.calls)
    await maria.press_on(result_message(maria).message_id, "Book a consult")
    assert env.rows("outcomes")[0]["booked"] == 1
    assert maria.url_buttons["Free help"].startswith("https://www.parentcenterhub")
    url = maria.url_buttons["Open booking"]
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
    result = result_message(maria)
    await maria.press_on(result.message_id, "Free help")
    assert "parentcenterhub.org" in next(iter(maria.url_buttons.values()))
    await maria.press_on(result.message_id, "Next steps and details")
    await maria.press("Learn more")
    explainer = maria.last
    while "More ▸" in maria.buttons:
        assert len(maria.last_text) <= 500
        await maria.press("More ▸")
        assert maria.last.message_id == explainer.message_id  # pages turn in place
    assert "Last reviewed:" in maria.last_text
    assert {"Book a consult", "Free help"} <= set(maria.buttons)


async def test_a_listed_deep_link_source_is_recorded_and_anything_else_is_other(
    env: BotEnv,
) -> None:
    maria = env.client()
    await finish(maria, TO_IEP_EVALUATION, "Flyer")  # listed in content/sources.yaml (any case)
    ana = env.client(chat_id=5151, user_id=5151, first_name="Ana", username="ana_r")
    await finish(ana, TO_IEP_EVALUATION, "bad$source!")
    eva = env.client(chat_id=5252, user_id=5252, first_name="Eva", username="eva_t")
    # Typed: no deep link, nothing of it kept.
    await finish(eva, TO_IEP_EVALUATION, "Jayden has autism")
    sources = sorted(row["source"] for row in env.rows("outcomes"))
    assert sources == ["flyer", "other", "other"]


async def test_a_parent_can_resume_after_the_bot_restarts(env: BotEnv) -> None:
    maria = env.client()
    await start_screening(maria)
    await maria.press(SCHOOL)
    await maria.press("An IEP")
    await maria.press("No")
    await env.restart()
    maria = env.client()
    await maria.send("/start")
    assert "at question 4" in maria.last_text
    await maria.press("Continue")
    assert "Question 4 of about 9" in maria.last_text
    await maria.press("Yes")
    assert "Question 5 of about 9" in maria.last_text


async def test_start_over_logs_the_unfinished_screening_as_abandoned(env: BotEnv) -> None:
    maria = env.client()
    await start_screening(maria)
    await maria.press(SCHOOL)
    await maria.press("Neither")
    await maria.send("/start")
    await maria.press("Start over")
    assert "Question 1 of about" in maria.last_text
    [row] = env.rows("outcomes")
    assert row["status"] == "abandoned" and row["stopped_at"] == "learning"


async def test_unfinished_screenings_expire_and_are_logged_where_they_stopped(
    env: BotEnv,
) -> None:
    maria = env.client()
    await start_screening(maria)
    await maria.press(SCHOOL)
    await maria.press("A 504 plan")
    env.clock.advance(days=14, seconds=1)
    await maria.press("Yes")  # the old button, two weeks later
    assert any("cleared it" in m.text for m in maria.messages)
    [row] = env.rows("outcomes")
    assert row["status"] == "abandoned" and row["stopped_at"] == "plan_followed"
    assert row["outcome_id"] is None
    assert env.rows("sessions") == []


async def test_expiry_sweep_logs_sessions_nobody_came_back_to(env: BotEnv) -> None:
    maria = env.client()
    await start_screening(maria)
    env.clock.advance(days=13)
    assert env.app.services.conversation.expire_all() == 0
    env.clock.advance(days=2)
    assert env.app.services.conversation.expire_all() == 1
    assert env.rows("outcomes")[0]["stopped_at"] == "age"


async def test_stale_and_forged_buttons_get_a_kind_answer_and_the_current_question(
    env: BotEnv,
) -> None:
    maria = env.client()
    await start_screening(maria)
    await maria.press(SCHOOL)
    await maria.press_data("1|a|deadbeef0000|plan|iep|AAAAAA")  # forged
    assert "earlier screen" in maria.callback_answers[-1].text
    assert "Question 2 of about" in maria.last_text
    await maria.press_data("not-even-our-format")
    assert "Question 2 of about" in maria.last_text
    # A real button from the first screening, after starting over.
    await maria.send("/restart")
    old_question = maria.last.message_id
    await maria.press(SCHOOL)
    await maria.send("/restart")
    await maria.press_on(old_question, "Neither")
    assert "earlier screen" in maria.callback_answers[-1].text
    assert "Question 1 of about" in maria.last_text


async def test_buttons_from_a_finished_screening_do_not_restart_it(env: BotEnv) -> None:
    maria = env.client()
    await start_screening(maria)
    question = maria.last.message_id
    for label in TO_IEP_EVALUATION:
        await maria.press(label)
    # The question message became the outcome; an answer signed for the old session:
    codec = env.app.services.codec
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


async def test_typed_crisis_words_pause_on_988_and_911_and_nothing_else(env: BotEnv) -> None:
    maria = env.client()
    await start_screening(maria)
    mark = maria.mark()
    await maria.send("he said he wants to hurt other kids")
    [shown] = maria.new_since(mark)  # the question does not follow right under it
    assert "988" in shown.text and "911" in shown.text
    assert maria.url_buttons["Open the 988 Lifeline"] == "https://988lifeline.org/"
    assert maria.buttons == ["Open the 988 Lifeline", "Continue the screening", "Stop for now"]
    await maria.press("Continue the screening")
    assert "Question 1 of about" in maria.last_text
    assert env.api.message(4242, shown.message_id).text == shown.text  # 988 stays in view


async def test_typed_crisis_words_outside_a_screening_offer_the_menu(env: BotEnv) -> None:
    maria = env.client()
    await maria.send("she threatened to kill someone at school")
    assert "988" in maria.last_text
    assert maria.buttons == ["Open the 988 Lifeline", "Main menu"]


async def test_a_crisis_answer_pauses_the_screening(env: BotEnv) -> None:
    maria = env.client()
    await start_screening(maria)
    for label in [SCHOOL, "Neither", "Failing or falling behind", "Yes"]:
        await maria.press(label)
    question = maria.last.message_id
    await maria.press("Talks of hurting self/others")
    crisis = env.api.message(4242, question)
    assert crisis is not None and "988" in crisis.text and "911" in crisis.text
    assert maria.last.message_id == question  # no next question yet
    assert maria.buttons == ["Open the 988 Lifeline", "Continue the screening", "Stop for now"]
    await maria.press("Stop for now")
    assert "saved for 14 days" in maria.last_text
    assert env.rows("sessions")[0]["state"] == "attention"  # kept for later
    await maria.send("/start")
    await maria.press("Continue")
    assert "Question 6 of about 9" in maria.last_text


async def test_red_flags_are_shown_as_they_come_and_on_top_of_the_result(env: BotEnv) -> None:
    maria = env.client()
    await start_screening(maria)
    for label in [SCHOOL, "Neither", "Doing well", "No", "Rarely or never", "No"]:
        await maria.press(label)
    await maria.press("Yes, over 10 school days")
    assert maria.last_text.split("\n\n")[1].startswith("⚠️ Over 10 school days out")
    await maria.press("No")
    await maria.press("We asked, they said no")
    result = result_message(maria)
    lines = result.text.splitlines()
    assert lines[0].startswith("⚠️ Over 10 school days out")
    assert lines[1].startswith("⚠️ Evaluation refused")
    assert lines[3] == "Ask about your child's protections"
    await maria.press_on(result.message_id, "Next steps and details")
    assert "manifestation determination review" in maria.last_text
    assert "Prior Written Notice" in maria.last_text


async def test_help_privacy_and_restart_work_mid_screening(env: BotEnv) -> None:
    maria = env.client()
    await start_screening(maria)
    await maria.press(SCHOOL)
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
    await maria.press_on(result_message(maria).message_id, "Book a consult")
    assert env.storage is not None
    dump = "\n".join(env.storage.db.conn.iterdump())
    for secret in ("918273645", "Mariposa", "mariposa_p", "struggling"):
        assert secret not in dump


async def test_the_command_menu_is_set_in_every_language(env: BotEnv) -> None:
    await env.app.post_init(env.app)
    await env.app.post_shutdown(env.app)  # post_init started both engines
    menus = env.api.my_commands
    for code in env.content.languages:
        key = ("default", "") if code == "en" else ("default", code)
        commands = [c["command"] for c in menus[key]]
        assert {"start", "restart", "help", "privacy", "language"} <= set(commands)


async def test_details_of_a_result_the_rules_no_longer_give_say_so_kindly(env: BotEnv) -> None:
    maria = env.client()
    await finish(maria, TO_IEP_EVALUATION)
    assert env.storage is not None
    # As if logged under older rules: the answers now lead elsewhere.
    env.storage.db.execute("UPDATE outcomes SET outcome_id = 'no_strong_signs'")
    await maria.press_on(result_message(maria).message_id, "Next steps and details")
    assert "no longer here" in maria.last_text
    await maria.press_data("1|d|0123456789ab|AAAAAA")  # forged: the stale-button answer
    assert "earlier screen" in maria.callback_answers[-1].text
