"""Follow-through from end to end, as parents and staff see it through Telegram (the fake Bot
API), in both languages, with the bot's own follow-through engine (app.followup_engine):
a deadline set from a result, its reminders, check-ins answered weeks later, then /stats."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from tests.botenv import BotEnv
from tests.parents import TO_IEP_EVALUATION, TO_IEP_EVALUATION_ES, finish
from tests.stats_helpers import after_period, staff_client

CHICAGO = ZoneInfo("America/Chicago")
ANA = 987_650_002_468  # distinctive: found in a dump only if kept
EVALUATION_UNDER_WAY = [*TO_IEP_EVALUATION[:-1], "Yes, it is under way"]


def at(day: dt.date, hour: int, minute: int = 0) -> float:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=CHICAGO).timestamp()


async def send_due(env: BotEnv) -> None:
    """What the running bot's engine does when it looks: everything due, once."""
    while await env.app.followup_engine.work():
        pass


async def test_a_deadline_then_check_ins_then_the_figures_staff_see(env: BotEnv) -> None:
    # Saturday 28 November 2026, 09:00 in Chicago.
    env.clock.now = at(dt.date(2026, 11, 28), 9)
    ana = env.client(chat_id=ANA, user_id=ANA)
    await finish(ana, EVALUATION_UNDER_WAY)
    await ana.press("⏰ Track the deadline")
    await ana.send("yesterday")  # typed instead of the calendar
    assert "Friday, November 27, 2026" in ana.last_text
    await ana.press("Texas")
    assert "Due: Wednesday, February 3, 2027 (an estimate)" in ana.last_text
    await ana.press("✅ Set the reminders")

    english = [env.client(chat_id=5100 + i, user_id=5100 + i) for i in range(3)]
    spanish = [env.client(chat_id=5200 + i, user_id=5200 + i, language_code="es") for i in range(3)]
    for parent in english:
        await finish(parent, TO_IEP_EVALUATION)
        await parent.press("Yes, check in")
        assert "I will write on Saturday, December 26, 2026." in parent.last_text
    for parent in spanish:
        await parent.send("/start")
        for label in ["Empezar las preguntas", *TO_IEP_EVALUATION_ES]:
            await parent.press(label)
        await parent.press("Sí, escríbanme")
        assert "sábado 26 de diciembre de 2026" in parent.last_text

    # Nothing is due before its day, and nothing goes at night (quiet hours 20:00-08:00).
    env.clock.now = at(dt.date(2026, 12, 26), 7, 30)
    await send_due(env)
    assert not any("Did you ask the school?" in p.last_text for p in english)

    env.clock.now = at(dt.date(2026, 12, 26), 10, 1)
    await send_due(env)
    for parent in english:
        assert "Did you ask the school?" in parent.last_text
        await parent.press("Yes")
    for parent in spanish:
        assert "¿Se lo pidió a la escuela?" in parent.last_text
        await parent.press("Sí")
    for parent, said in zip(english, ["Agreed to evaluate or meet"] * 2 + ["Said no"], strict=True):
        await parent.press(said)
    for parent in spanish:
        await parent.press("Aceptó evaluar o reunirse")
    assert "Your answers stay, but they are no longer linked to this chat." in english[0].last_text
    marks = [p.mark() for p in english + spanish]
    await send_due(env)  # each was sent once: nothing new
    assert all(p.new_since(m) == [] for p, m in zip(english + spanish, marks, strict=True))
    assert {(r["status"], r["chat_id"]) for r in env.rows("checkins")} == {("answered", None)}

    # Ana's Texas reminders (due 3 February, 45 school days) come on their days, once each.
    opened: list[str] = []
    for day in (dt.date(2027, 1, 20), dt.date(2027, 1, 31), dt.date(2027, 2, 3)):
        env.clock.now = at(day, 10, 5)
        mark = ana.mark()
        await send_due(env)
        [reminder] = ana.new_since(mark)
        opened.append(reminder.text.splitlines()[0])
    assert opened == [
        "⏰ 14 days left. The evaluation is due on Wednesday, February 3, 2027.",
        "⏰ 3 days left. The evaluation is due on Wednesday, February 3, 2027.",
        "⏰ Due today. The evaluation is due today, Wednesday, February 3, 2027.",
    ]

    # The day after: the last reminder, then the chat id and the date are gone at once.
    env.clock.now = at(dt.date(2027, 2, 4), 10, 5)
    await send_due(env)
    assert "No report yet? You can:" in ana.last_text
    assert env.rows("deadlines") == [] and str(ANA) not in env.dump()
    await ana.send("/mydata")
    assert "deadline" not in ana.last_text.lower()

    english_staff = staff_client(env)
    summary, _chart = await after_period(english_staff, "/stats", "90 days")
    assert "Evaluation deadlines set: <5; reminders sent: <5" in summary.text
    assert "Check-ins: 6 said yes; 6 sent, 6 answered (100%)" in summary.text
    assert "Asked the school: 6 of 6 who answered; the school agreed: 5" in summary.text


async def test_a_check_in_survives_a_restart_and_is_sent_once(env: BotEnv) -> None:
    maria = env.client()
    await finish(maria, TO_IEP_EVALUATION)
    await maria.press("Yes, check in")
    await env.restart()
    maria = env.client()
    env.clock.now = at(dt.date(2026, 12, 26), 10, 1)
    await send_due(env)
    await env.restart()
    maria = env.client()
    await send_due(env)
    assert sum("Did you ask the school?" in m.text for m in maria.messages) == 1
    await maria.press("Not yet")
    assert "You can ask at any time." in maria.last_text
