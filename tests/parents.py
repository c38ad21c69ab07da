"""A parent's first steps through the screening, shared by the tests that need a screening."""

from __future__ import annotations

from tests.fakebot import ChatClient

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
# The same screening, then its details and "Start over": a loop a parent can tap for ever
# (the benchmarks' parents).
SCREENING_LOOP = [*TO_IEP_EVALUATION, "Next steps and details", "Start over"]


async def start_screening(client: ChatClient, payload: str | None = None) -> None:
    """What a parent does first: /start (with a deep link's payload, or what they typed after
    it), then the menu's first button."""
    await client.send(f"/start {payload}" if payload else "/start")
    await client.press("Start the screening")


async def finish(client: ChatClient, answers: list[str], payload: str | None = None) -> None:
    await start_screening(client, payload)
    for label in answers:
        await client.press(label)
