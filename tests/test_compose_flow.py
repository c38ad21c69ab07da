"""The compose machine on its own (flows.compose): no Telegram, no storage."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

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

BOTH = ["en", "es"]


def test_machine_walks_audience_then_a_text_per_language_then_preview_and_confirm() -> None:
    compose = Compose()
    draft = compose.new_message("d1")
    assert draft.state == AWAITING_AUDIENCE
    compose.choose_audience(draft, "all", reads=BOTH, ask=BOTH)
    assert (draft.state, draft.audience, draft.asking) == (AWAITING_CONTENT, "all", "en")
    compose.write(draft, text="<b>Hi</b>", photo="FILE")
    assert (draft.state, draft.asking, draft.photo) == (AWAITING_CONTENT, "es", "FILE")
    compose.write(draft, text="<b>Hola</b>", photo="FILE")
    assert (draft.state, draft.texts) == (PREVIEWING, {"en": "<b>Hi</b>", "es": "<b>Hola</b>"})
    compose.ask_time(draft)
    compose.set_time(draft, 1234.0)
    assert (draft.state, draft.send_at) == (PREVIEWING, 1234.0)
    compose.confirm(draft, ignore_quiet=True)
    assert (draft.state, draft.ignore_quiet, draft.is_open) == (CONFIRMED, True, False)


def test_a_one_language_audience_asks_one_text() -> None:
    compose = Compose()
    draft = compose.new_message("d1")
    compose.choose_audience(draft, "lang:es", reads=["es"], ask=["es"])
    compose.write(draft, text="Hola")
    assert (draft.state, draft.texts) == (PREVIEWING, {"es": "Hola"})


def test_the_first_text_cannot_be_skipped_a_later_one_can() -> None:
    compose = Compose()
    draft = compose.new_message("d1")
    compose.choose_audience(draft, "all", reads=BOTH, ask=BOTH)
    with pytest.raises(NotAllowed):
        compose.skip(draft)  # nothing written yet: skipping would leave an empty message
    assert draft.asking == "en"
    compose.write(draft, text="Hi")
    compose.skip(draft)
    assert (draft.state, draft.texts, draft.others_get) == (PREVIEWING, {"en": "Hi"}, None)


def test_others_get_is_chosen_on_the_preview_and_cleared_by_any_change() -> None:
    compose = Compose()
    draft = Draft("d1", state=PREVIEWING, texts={"en": "Hi"}, audience="all")
    with pytest.raises(NotAllowed):
        compose.others_get(draft, "es")  # no Spanish text to give anyone
    compose.others_get(draft, "en")
    assert draft.others_get == "en"
    compose.leave_out(draft)
    assert draft.others_get is None
    compose.others_get(draft, "en")
    compose.edit_content(draft, "es")
    assert (draft.state, draft.asking) == (AWAITING_CONTENT, "es")
    compose.write(draft, text="Hola")
    assert (draft.state, draft.others_get) == (PREVIEWING, None)
    compose.others_get(draft, "en")
    compose.edit_audience(draft)
    compose.choose_audience(draft, "lang:en", reads=["en"], ask=[])
    assert (draft.state, draft.texts, draft.others_get) == (PREVIEWING, {"en": "Hi"}, None)


def test_changing_the_audience_asks_only_for_what_is_missing() -> None:
    compose = Compose()
    draft = Draft("d1", state=PREVIEWING, texts={"en": "Hi"}, audience="lang:en")
    compose.edit_audience(draft)
    compose.choose_audience(draft, "all", reads=BOTH, ask=["es"])
    assert (draft.state, draft.asking, draft.texts) == (AWAITING_CONTENT, "es", {"en": "Hi"})


def test_editing_a_text_then_skipping_it_removes_it_but_never_the_last_one() -> None:
    compose = Compose()
    draft = Draft("d1", state=PREVIEWING, texts={"en": "Hi", "es": "Hola"}, audience="all")
    compose.edit_content(draft, "es")
    compose.skip(draft)
    assert (draft.state, draft.texts) == (PREVIEWING, {"en": "Hi"})
    compose.edit_content(draft, "en")
    with pytest.raises(NotAllowed):
        compose.skip(draft)
    assert draft.texts == {"en": "Hi"}


def _calls(compose: Compose) -> dict[str, Callable[[Draft], None]]:
    return {
        "write": lambda d: compose.write(d, text="x"),
        "skip": compose.skip,
        "choose_audience": lambda d: compose.choose_audience(d, "all", reads=BOTH, ask=BOTH),
        "confirm": compose.confirm,
        "ask_time": compose.ask_time,
        "set_time": lambda d: compose.set_time(d, 1.0),
        "edit_content": lambda d: compose.edit_content(d, "en"),
        "edit_audience": compose.edit_audience,
        "others_get": lambda d: compose.others_get(d, "en"),
        "leave_out": compose.leave_out,
        "cancel": compose.cancel,
    }


@pytest.mark.parametrize(
    ("state", "refused"),
    [
        (
            AWAITING_AUDIENCE,
            ["write", "skip", "confirm", "ask_time", "edit_content", "set_time", "others_get"],
        ),
        (AWAITING_CONTENT, ["choose_audience", "confirm", "ask_time", "edit_audience", "set_time"]),
        (AWAITING_TIME, ["write", "confirm", "choose_audience", "ask_time", "others_get"]),
        (PREVIEWING, ["write", "skip", "choose_audience", "set_time"]),
        (CONFIRMED, ["cancel", "confirm", "write", "edit_content", "others_get"]),
        (CANCELLED, ["cancel", "confirm", "write", "leave_out"]),
    ],
)
def test_machine_refuses_steps_out_of_order_and_changes_nothing(
    state: str, refused: list[str]
) -> None:
    compose = Compose()
    calls = _calls(compose)
    for name in refused:
        draft = Draft("d1", state=state, texts={"en": "t"}, queue=["es"], audience="all")
        before = dataclasses.replace(draft, texts=dict(draft.texts), queue=list(draft.queue))
        with pytest.raises(NotAllowed):
            calls[name](draft)
        assert draft == before, name


def test_machine_cancel_leaves_from_every_open_step() -> None:
    compose = Compose()
    for state in (AWAITING_AUDIENCE, AWAITING_CONTENT, AWAITING_TIME, PREVIEWING):
        draft = Draft("d1", state=state, audience="all")
        compose.cancel(draft)
        assert draft.state == CANCELLED


def test_machine_tips_start_at_preview_or_time_and_keep_their_text() -> None:
    compose = Compose()
    now = compose.new_tip("d1", "iee", schedule=False)
    assert (now.state, now.audience, now.tip_id) == (PREVIEWING, "all", "iee")
    with pytest.raises(NotAllowed):
        compose.edit_content(now, "en")
    compose.edit_audience(now)
    compose.choose_audience(now, "lang:es", reads=["es"], ask=["es"])
    assert (now.state, now.audience, now.queue) == (PREVIEWING, "lang:es", [])
    later = compose.new_tip("d2", "iee", schedule=True)
    assert later.state == AWAITING_TIME
    compose.set_time(later, 99.0)
    assert later.state == PREVIEWING
    compose.clear_time(later)
    assert later.send_at is None
