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


async def start_screening(client: ChatClient) -> None:
    """What a parent does first: /start, then the menu's first button."""
    await client.send("/start")
    await client.press("Start the screening")


async def finish(client: ChatClient, answers: list[str]) -> None:
    await start_screening(client)
    for label in answers:
        await client.press(label)
