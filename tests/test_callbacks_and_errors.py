"""Callback data is signed and small; failures reach the parent as a kind word, not silence."""

from __future__ import annotations

import logging

import pytest

from bot.callbacks import MAX_BYTES, Action, CallbackCodec, ForgedCallback
from tests.botenv import BotEnv
from tests.parents import start_screening


def test_round_trip_and_size() -> None:
    codec = CallbackCodec(b"k" * 32)
    action = Action("a", ("0123456789ab", "plan_followed", "not_sure"))
    data = codec.encode(action)
    assert len(data.encode()) <= MAX_BYTES
    assert codec.decode(data) == action


@pytest.mark.parametrize(
    "tamper",
    [
        lambda d: d.replace("|plan|", "|evaluation|"),  # changed argument
        lambda d: "2" + d[1:],  # unknown version
        lambda d: d[:-1] + ("A" if d[-1] != "A" else "B"),  # bad tag
        lambda d: "",
        lambda d: "x" * 65,
    ],
)
def test_tampered_data_is_rejected(tamper) -> None:  # type: ignore[no-untyped-def]
    codec = CallbackCodec(b"k" * 32)
    data = codec.encode(Action("a", ("0123456789ab", "plan", "iep")))
    with pytest.raises(ForgedCallback):
        codec.decode(tamper(data))


def test_another_key_cannot_forge() -> None:
    data = CallbackCodec(b"other-key" * 4).encode(Action("m"))
    with pytest.raises(ForgedCallback):
        CallbackCodec(b"k" * 32).decode(data)


def test_oversized_or_separator_arguments_are_refused_at_encode() -> None:
    codec = CallbackCodec(b"k" * 32)
    with pytest.raises(ValueError):
        codec.encode(Action("a", ("x" * 60,)))
    with pytest.raises(ValueError):
        codec.encode(Action("a", ("a|b",)))


async def test_a_failure_gets_a_kind_message_and_a_clean_log(
    env: BotEnv, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    maria = env.client(first_name="Mariposa", username="mariposa_p")
    await start_screening(maria)
    conversation = env.app.services.conversation

    def broken(*args: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(conversation, "press", broken)
    with caplog.at_level(logging.INFO):
        await maria.press("In kindergarten or older")
    assert "something went wrong" in maria.last_text
    logged = caplog.text
    assert "error while handling an update: RuntimeError" in logged
    for private in ("Mariposa", "mariposa_p", "4242"):
        assert private not in logged
    monkeypatch.undo()
    mark = maria.mark()
    await maria.press("In kindergarten or older")  # the question is still there to tap
    assert "Question 2 of about" in maria.new_since(mark)[-1].text


async def test_a_server_error_on_a_reply_is_retried_and_the_parent_goes_on(env: BotEnv) -> None:
    maria = env.client()
    await start_screening(maria)
    env.api.fail("editMessageText", 502, times=2)
    await maria.press("In kindergarten or older")
    assert "Question 2 of about" in maria.last_text
    assert [c.status for c in env.api.calls_to("editMessageText")][-3:] == [502, 502, 200]


async def test_a_blocked_parent_is_not_retried(env: BotEnv) -> None:
    maria = env.client()
    env.api.block(4242)
    await maria.send("/start")
    assert maria.messages == []
    assert len(env.api.calls_to("sendMessage")) == 1
