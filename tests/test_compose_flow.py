"""The compose machine on its own (flows.compose): no Telegram, no storage."""

from __future__ import annotations

import dataclasses

import pytest

from flows.compose import (
    AWAITING_AUDIENCE,
    AWAITING_CONTENT,
    AWAITING_TIME,
    CANCELLED,
    CONFIRMED,
    PREVIEWING,
    Compose,
    Draft,
)
from flows.machine import NotAllowed


def test_machine_walks_content_audience_preview_confirm() -> None:
    compose = Compose()
    draft = compose.new_message("d1")
    compose.write(draft, text="<b>Hi</b>", photo="FILE")
    assert (draft.state, draft.text, draft.photo) == (AWAITING_AUDIENCE, "<b>Hi</b>", "FILE")
    compose.choose_audience(draft, "lang:es")
    assert (draft.state, draft.audience) == (PREVIEWING, "lang:es")
    compose.ask_time(draft)
    compose.set_time(draft, 1234.0)
    assert (draft.state, draft.send_at) == (PREVIEWING, 1234.0)
    compose.confirm(draft, ignore_quiet=True)
    assert (draft.state, draft.ignore_quiet, draft.is_open) == (CONFIRMED, True, False)


@pytest.mark.parametrize(
    ("state", "refused"),
    [
        (AWAITING_CONTENT, ["choose_audience", "confirm", "ask_time", "edit_audience", "set_time"]),
        (AWAITING_AUDIENCE, ["write", "confirm", "ask_time", "edit_content", "set_time"]),
        (AWAITING_TIME, ["write", "confirm", "choose_audience", "ask_time"]),
        (PREVIEWING, ["write", "choose_audience", "set_time"]),
        (CONFIRMED, ["cancel", "confirm", "write", "edit_content"]),
        (CANCELLED, ["cancel", "confirm", "write"]),
    ],
)
def test_machine_refuses_steps_out_of_order_and_changes_nothing(
    state: str, refused: list[str]
) -> None:
    compose = Compose()
    calls = {
        "write": lambda d: compose.write(d, text="x"),
        "choose_audience": lambda d: compose.choose_audience(d, "all"),
        "confirm": compose.confirm,
        "ask_time": compose.ask_time,
        "set_time": lambda d: compose.set_time(d, 1.0),
        "edit_content": compose.edit_content,
        "edit_audience": compose.edit_audience,
        "cancel": compose.cancel,
    }
    for name in refused:
        draft = Draft("d1", state=state, text="t", audience="all")
        before = dataclasses.replace(draft)
        with pytest.raises(NotAllowed):
            calls[name](draft)
        assert draft == before, name


def test_machine_cancel_leaves_from_every_open_step() -> None:
    compose = Compose()
    for state in (AWAITING_CONTENT, AWAITING_AUDIENCE, AWAITING_TIME, PREVIEWING):
        draft = Draft("d1", state=state, audience="all")
        compose.cancel(draft)
        assert draft.state == CANCELLED


def test_machine_after_a_text_change_goes_back_to_the_preview() -> None:
    compose = Compose()
    draft = Draft("d1", state=PREVIEWING, text="old", audience="interest:has_504")
    compose.edit_content(draft)
    compose.write(draft, text="new")
    assert (draft.state, draft.text, draft.audience) == (PREVIEWING, "new", "interest:has_504")


def test_machine_tips_start_at_preview_or_time_and_keep_their_text() -> None:
    compose = Compose()
    now = compose.new_tip("d1", "iee", schedule=False)
    assert (now.state, now.audience, now.tip_id) == (PREVIEWING, "all", "iee")
    with pytest.raises(NotAllowed):
        compose.edit_content(now)
    later = compose.new_tip("d2", "iee", schedule=True)
    assert later.state == AWAITING_TIME
    compose.set_time(later, 99.0)
    assert later.state == PREVIEWING
    compose.clear_time(later)
    assert later.send_at is None
