"""Follow-through through Telegram (the fake Bot API), in both languages: a deadline set from a
result (calendar and typed dates), every reminder as the engine sends it, the check-in from
its offer to the next step, old and forged buttons, /deadlines, /mydata and /forget."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot.callbacks import Action, Kind
from bot.content import LanguagePack
from bot.followup.engine import FollowUpEngine, FollowUpEngineSettings
from bot.followup.store import FollowUps
from bot.parent.conversation import Conversation
from bot.tg.commands import PARENT_COMMANDS
from tests.botenv import BotEnv
from tests.fakebot import ChatClient
from tests.parents import CHECKIN_OFFERS, TO_IEP_EVALUATION, finish, result_message

CHICAGO = ZoneInfo("America/Chicago")
# The evaluation is under way: the result offers the clock (tests/stories.py).
EVAL_PENDING = (
    ("age", "school"),
    ("plan", "none"),
    ("learning", "failing"),
    ("effort", "yes"),
    ("emotions", "sometimes"),
    ("attention", "yes"),
    ("removals", "no"),
    ("services", "yes"),
    ("evaluation", "pending"),
)
CHAT = 987_650_001_015  # distinctive: found in a dump only if stored


def conversation(env: BotEnv) -> Conversation:
    return env.app.services.conversation


def engine(env: BotEnv) -> FollowUpEngine:
    """The follow-through engine with the bot's own compose, on the test clock."""
    sender = env.engine(backoff=1.0).sender
    assert env.storage is not None
    return FollowUpEngine(
        FollowUps(env.storage),
        sender,
        compose=conversation(env).notices.compose,
        settings=env.settings,
        engine_settings=FollowUpEngineSettings(workers=1),
        clock=env.clock,
        sleep=sender.sleep,
    )


def at_ten(day: dt.date) -> float:
    return dt.datetime.combine(day, dt.time(10, 0), tzinfo=CHICAGO).timestamp()


async def tell(
    client: ChatClient, pack: LanguagePack, answers: tuple[tuple[str, str], ...]
) -> None:
    await client.send("/start")
    await client.press(pack.t("menu.screening"))
    for question, option in answers:
        await client.press(pack.questions[question].options[option])


async def test_a_deadline_from_the_result_by_calendar_and_every_reminder_once(env: BotEnv) -> None:
    maria = env.client(chat_id=CHAT, user_id=CHAT)
    pack = env.content.pack("en")
    await tell(maria, pack, EVAL_PENDING)
    result = maria.last  # the evaluation is under way: the clock, and no check-in offer
    assert result.text.startswith("The evaluation is under way")
    assert result.buttons == [
        "Book a consult",
        "Free help",
        "⏰ Track the deadline",
        "✍️ Write the letter",
        "Next steps and details",
    ]
    await maria.press("⏰ Track the deadline")
    intro, calendar = maria.messages[-2:]
    assert maria.messages[-3].text == result.text  # the result stays above
    assert "I keep this chat's id and the date until the last reminder" in intro.text
    assert calendar.text.startswith("November 2026")
    await maria.press("3")
    assert maria.last.message_id == calendar.message_id  # the calendar became the question
    assert "Tuesday, November 3, 2026" in maria.last_text
    await maria.press("Another state")
    rule, summary = maria.messages[-2:]
    assert "Federal rule (IDEA) (34 CFR 300.301(c)(1))" in rule.text
    assert "unless your state sets its own timeline" in rule.text
    assert summary.text.startswith("Due: Saturday, January 2, 2027")
    await maria.press("✅ Set the reminders")
    assert maria.last_text.startswith(
        "✅ Reminders set. The evaluation is due on Saturday, January 2, 2027."
    )
    await maria.send("/deadlines")
    assert "Reminders still to come:" in maria.last_text
    assert maria.buttons == ["✏️ Change", "🗑 Delete", "Main menu"]

    sender = engine(env)
    days = {
        "two_weeks": (dt.date(2026, 12, 19), "⏰ 14 days left. The evaluation is due on Saturday"),
        "three_days": (dt.date(2026, 12, 30), "⏰ 3 days left."),
        "due_day": (dt.date(2027, 1, 2), "⏰ Due today."),
        "day_after": (dt.date(2027, 1, 3), "⏰ The evaluation was due yesterday"),
    }
    for kind, (day, opening) in days.items():
        env.clock.now = at_ten(day) + 60
        mark = maria.mark()
        assert await sender.work()
        [reminder] = maria.new_since(mark)
        assert reminder.text.startswith(opening), kind
        assert reminder.buttons == ["✍️ Records request", "Book a consult", "Free help"]
        assert not await sender.work()  # once
    assert "No report yet? You can:" in maria.last_text
    assert "Prior Written Notice" in maria.last_text
    await maria.press("✍️ Records request")  # the letter, through the letter desk
    assert "Records request" in maria.last_text and "Which language" in maria.last_text
    # After the last reminder the chat id and the date go (the engine tidies them away).
    FollowUps(env.storage).tidy(env.clock())  # type: ignore[arg-type]
    assert env.rows("deadlines") == [] and env.rows("reminders") == []
    assert str(CHAT) not in env.dump()


async def test_a_texas_deadline_typed_in_spanish_changed_then_cancelled(env: BotEnv) -> None:
    ana = env.client(language_code="es")
    await ana.send("/deadlines")
    assert "No tiene ningún plazo" in ana.last_text
    await ana.press("⏰ Seguir el plazo")
    assert "¿Qué día recibió la escuela su formulario de consentimiento firmado?" in (
        ana.messages[-2].text
    )
    await ana.send("3 de noviembre")
    assert "martes 3 de noviembre de 2026" in ana.last_text
    await ana.press("Texas")
    rule, summary = ana.messages[-2:]
    assert "Regla de Texas" in rule.text and "Es una fecha aproximada" in rule.text
    assert "(fecha aproximada)" in summary.text
    await ana.press("✏️ Otra fecha")
    await ana.send("mañana")  # not a date it can read: one kind line, the same question
    assert ana.messages[-2].text.startswith("Perdón, no pude leer esa fecha.")
    assert ana.last_text.startswith("Noviembre de 2026")
    await ana.send("ayer")
    assert "viernes 27 de noviembre de 2026" in ana.last_text
    await ana.press("No estoy seguro/a")
    assert "salvo que su estado fije otro plazo" in ana.messages[-2].text
    await ana.press("✖ Cancelar")
    assert "No guardé nada" in ana.last_text
    assert env.rows("deadlines") == []
    # Set one, then delete it from /deadlines.
    await ana.send("/deadlines")
    await ana.press("⏰ Seguir el plazo")
    await ana.press("Hoy")
    await ana.press("Nueva York")
    await ana.press("✅ Fijar los avisos")
    [row] = env.rows("deadlines")
    assert (row["state"], row["rule_id"], row["lang"]) == ("NY", "ny", "es")
    await ana.send("/deadlines")
    await ana.press("🗑 Borrar")
    assert "Ya no guardo el identificador de este chat" in ana.last_text
    assert env.rows("deadlines") == [] and env.rows("reminders") == []


async def test_a_future_date_and_crisis_words_at_the_date_step(env: BotEnv) -> None:
    maria = env.client()
    await maria.send("/deadlines")
    await maria.press("⏰ Track the deadline")
    await maria.send("12/15/2026")
    assert maria.messages[-2].text.startswith("Tuesday, December 15, 2026 is still to come.")
    await maria.send("I want to die")
    assert "988" in maria.last_text and "911" in maria.last_text
    assert "⏰ Back to the deadline" in maria.buttons
    await maria.press("⏰ Back to the deadline")
    await maria.send("yesterday")
    assert "Friday, November 27, 2026" in maria.last_text
    assert env.rows("deadlines") == []


async def test_not_signed_yet_after_the_evaluation_letter(env: BotEnv) -> None:
    maria = env.client()
    await finish(maria, TO_IEP_EVALUATION)
    await maria.press_on(result_message(maria).message_id, "✍️ Write the letter")
    await maria.press("English for the school")
    for _ in range(5):
        await maria.press("Leave a blank line")
    assert "What to do now" in maria.last_text
    assert maria.buttons[0] == "⏰ Track the deadline"
    await maria.press("⏰ Track the deadline")
    await maria.press_on(maria.messages[-2].message_id, "Not signed yet")
    said = maria.last_text
    assert "starts on the day it gets your signed consent form" in said
    assert "/deadlines" in said and "60 days from your request" not in said


async def test_the_check_in_from_its_offer_to_the_next_step(env: BotEnv) -> None:
    maria = env.client()
    await finish(maria, TO_IEP_EVALUATION)
    offer = maria.last
    assert offer.text == CHECKIN_OFFERS[0]
    await maria.press("Yes, check in")
    assert maria.last.message_id == offer.message_id
    assert "I will write on Saturday, December 26, 2026." in maria.last_text
    [row] = env.rows("checkins")
    assert row["chat_id"] == 4242 and row["outcome_id"] == "iep_evaluation"

    env.clock.now = at_ten(dt.date(2026, 12, 26)) + 60
    mark = maria.mark()
    assert await engine(env).work()
    [ask] = maria.new_since(mark)
    assert ask.text == (
        "Hello again! A few weeks ago, your screening here pointed to: An IEP evaluation looks"
        " worth it\n\nDid you ask the school?"
    )
    await maria.press("Yes")
    assert maria.last_text == "What did the school say?"
    await maria.press("Said no")
    assert "Prior Written Notice" in maria.last_text
    assert maria.buttons[:3] == ["✍️ Prior Written Notice", "Book a consult", "Free help"]
    [row] = env.rows("checkins")
    assert (row["asked"], row["school_said"], row["status"]) == ("yes", "refused", "answered")
    assert row["chat_id"] is None and row["chat_key"] is None  # the answers stay, unlinked
    await maria.press("✍️ Prior Written Notice")
    assert "Prior Written Notice" in maria.last_text and "Which language" in maria.last_text
    # An old button of the answered check-in: a kind line, never an error.
    await maria.press_data(env.app.services.codec.encode(_answer(row["session_id"], "not_yet")))
    assert "This check-in is closed" in maria.last_text


def _answer(session_id: str, asked: str) -> Action:
    return Action(Kind.CHECKIN, ("a", session_id, asked))


async def test_a_spanish_check_in_not_yet_and_another_chats_or_forged_buttons(
    env: BotEnv,
) -> None:
    ana = env.client(chat_id=5151, user_id=5151, language_code="es")
    pack = env.content.pack("es")
    answers = [pack.questions[q].options[o] for q, o in _spanish_iep_evaluation()]
    await ana.send("/start")
    await ana.press(pack.t("menu.screening"))
    for label in answers:
        await ana.press(label)
    assert ana.last_text == CHECKIN_OFFERS[1]
    await ana.press("Sí, escríbanme")
    assert "Le escribiré el sábado 26 de diciembre de 2026." in ana.last_text
    env.clock.now = at_ten(dt.date(2026, 12, 26)) + 60
    assert await engine(env).work()
    assert "¿Se lo pidió a la escuela?" in ana.last_text
    [row] = env.rows("checkins")
    # Another chat pressing her button (or a copy of it): the check-in is not theirs.
    eve = env.client(chat_id=6161, user_id=6161, language_code="es")
    await eve.send("/start")
    await eve.press_data(env.app.services.codec.encode(_answer(row["session_id"], "yes")))
    assert "Este seguimiento está cerrado" in eve.last_text
    await eve.press_data("1|K|a|" + row["session_id"] + "|yes|AAAAAA")  # a bad signature
    assert "pantalla anterior" in eve.callback_answers[-1].text
    assert env.rows("checkins")[0]["asked"] is None
    await ana.press("Todavía no")
    assert "La carta para su resultado está lista" in ana.last_text
    assert ana.buttons[0] == "✍️ Escribir la carta"
    [row] = env.rows("checkins")
    assert (row["asked"], row["status"], row["chat_id"]) == ("not_yet", "answered", None)


def _spanish_iep_evaluation() -> list[tuple[str, str]]:
    return [
        ("age", "school"),
        ("plan", "none"),
        ("learning", "stuck"),
        ("effort", "yes"),
        ("emotions", "sometimes"),
        ("attention", "no"),
        ("removals", "no"),
        ("services", "yes"),
        ("evaluation", "no"),
    ]


async def test_mydata_deletes_each_part_and_forget_leaves_no_trace(env: BotEnv) -> None:
    maria = env.client(chat_id=CHAT, user_id=CHAT)
    await finish(maria, TO_IEP_EVALUATION)
    await maria.press("Yes, check in")
    await maria.send("/subscribe")
    await maria.press("Yes, send me tips")
    await maria.press("Waiting for an evaluation")
    await maria.send("/deadlines")
    await maria.press("⏰ Track the deadline")
    await maria.press("Yesterday")
    await maria.press("Texas")
    await maria.press("✅ Set the reminders")
    await maria.send("/mydata")
    shown = maria.last
    assert shown.text.splitlines() == [
        "What I keep about this chat:",
        "• The link you came from",  # /start's source (no language chosen)
        "• Tips, in English: Waiting for an evaluation",
        "• A deadline, due February 3, and its reminders",  # Texas: 45 school days
        "• A check-in, on December 26",
    ]
    await maria.press("🗑 Tips")
    assert maria.last.message_id == shown.message_id  # the list again, in place
    assert "Tips" not in maria.last_text and env.rows("subscribers") == []
    assert maria.callback_answers[-1].text == "Deleted."
    key = env.app.services.pseudonymize(CHAT)
    dump = env.dump()
    assert str(CHAT) in dump and key in dump  # the deadline and the check-in keep them
    await maria.send("/forget")
    assert "We deleted everything we kept about this chat" in maria.last_text
    everything = env.dump()
    for trace in (str(CHAT), key):
        assert trace not in everything, trace
    assert env.rows("deadlines") == [] and env.rows("reminders") == []
    assert env.rows("checkins") == []  # it was not sent yet: nothing of it stays
    await maria.send("/mydata")
    assert "I keep nothing about this chat right now." in maria.last_text


async def test_deadlines_and_mydata_are_in_the_command_menu_in_both_languages(
    env: BotEnv,
) -> None:
    assert {"deadlines", "mydata"} <= set(PARENT_COMMANDS)
    await env.app.post_init(env.app)
    for key in (("default", ""), ("default", "es")):
        menu = {c["command"]: c["description"] for c in env.api.my_commands[key]}
        assert menu["deadlines"] and menu["mydata"]
    assert env.api.my_commands[("default", "es")][0]["description"] == "Mostrar el menú"
    await env.app.post_shutdown(env.app)  # post_init started both engines
