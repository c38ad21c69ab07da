"""A parent's first steps through the screening, shared by the tests that need a screening."""

from __future__ import annotations

from tests.fakebot import ChatClient
from tests.fakebot.api import SentMessage

# In school, no plan, passing but not progressing, huge effort, ..., needs services, never
# evaluated: "An IEP evaluation looks worth asking for".
SCHOOL = "In kindergarten or older"
TO_IEP_EVALUATION = [
    SCHOOL,
    "Neither",
    "Passing, but not progressing",
    "Yes",
    "Sometimes",
    "No",
    "No",
    "Yes",
    "No, we never asked",
]
# The same answers as a Spanish-reading parent taps them.
TO_IEP_EVALUATION_ES = [
    "En kínder o un grado mayor",
    "Ninguno",
    "Aprueba, pero no avanza",
    "Sí",
    "A veces",
    "No",
    "No",
    "Sí",
    "No, nunca la pedimos",
]
# The same screening, "No thanks" to the check-in offered under the result, then the result's
# details and "Start over": a loop a parent can tap for ever (the benchmarks' parents).
SCREENING_LOOP = [*TO_IEP_EVALUATION, "No thanks", "Next steps and details", "Start over"]


async def start_screening(client: ChatClient, payload: str | None = None) -> None:
    """What a parent does first: /start (with a deep link's payload, or what they typed after
    it), then the menu's first button."""
    await client.send(f"/start {payload}" if payload else "/start")
    await client.press("Start the screening")


async def finish(client: ChatClient, answers: list[str], payload: str | None = None) -> None:
    await start_screening(client, payload)
    for label in answers:
        await client.press(label)


# The check-in's offer, the short message that follows a result asking the school for
# something (bot/parent/checkins.py), in each language.
CHECKIN_OFFERS = (
    "May we check in with you in 4 weeks? Two taps, to see how it went.",
    "¿Podemos escribirle en 4 semanas? Dos toques, para ver cómo le fue.",
)


def result_message(client: ChatClient) -> SentMessage:
    """The result a finished screening showed: the newest message, or the one right above
    the check-in's offer that follows it."""
    messages = client.messages
    if messages[-1].text in CHECKIN_OFFERS:
        return messages[-2]
    return messages[-1]
