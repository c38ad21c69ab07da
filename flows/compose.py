"""The staff compose flow as a `transitions` machine: content, audience, preview, confirm.

One Machine is built once with `model=None` and one long-lived model; each staff action
loads the draft into it, fires one trigger and copies the result back (the same pattern as
flows/screening.py).
The machine only moves the draft between steps and records what staff chose. Checking the
text, counting recipients, rendering the preview and queueing happen in bot/, after the
machine said the step is allowed. Nothing can reach `confirmed` without passing `previewing`.

    awaiting_content --write--> awaiting_audience --choose_audience--> previewing
    previewing --edit_content--> awaiting_content --write--> previewing (audience kept)
    previewing --edit_audience--> awaiting_audience
    previewing --ask_time--> awaiting_time --set_time / clear_time--> previewing
    previewing --confirm--> confirmed;  any open step --cancel--> cancelled

A ready-made tip starts at `previewing` (send now) or `awaiting_time` (schedule) with the
audience "all"; its text comes from content, so `edit_content` is refused for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from transitions import EventData, Machine

from flows.machine import Runner, subject_of

AWAITING_CONTENT = "awaiting_content"
AWAITING_AUDIENCE = "awaiting_audience"
AWAITING_TIME = "awaiting_time"
PREVIEWING = "previewing"
CONFIRMED = "confirmed"
CANCELLED = "cancelled"
OPEN_STATES = (AWAITING_CONTENT, AWAITING_AUDIENCE, AWAITING_TIME, PREVIEWING)
STATES = (*OPEN_STATES, CONFIRMED, CANCELLED)
EVERYONE = "all"


@dataclass
class Draft:
    """One staff member's broadcast in the making; stored between messages."""

    draft_id: str
    state: str = AWAITING_CONTENT
    text: str | None = None  # the staff's own HTML; None for a tip (its texts are in content)
    photo: str | None = None  # a Telegram file_id
    tip_id: str | None = None
    audience: str | None = None
    send_at: float | None = None  # unix time staff scheduled; None: as soon as allowed
    ignore_quiet: bool = False  # "send now anyway": set only by confirm

    @property
    def is_tip(self) -> bool:
        return self.tip_id is not None

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class Compose:
    """The compose machine; one instance serves every staff member."""

    def __init__(self) -> None:
        self.machine = Machine(
            model=None,
            states=list(STATES),
            initial=AWAITING_CONTENT,
            auto_transitions=False,
            send_event=True,
            ignore_invalid_triggers=False,
        )
        add = self.machine.add_transition
        # After "change text" the audience is already chosen: go straight back to the preview.
        add(
            "write",
            AWAITING_CONTENT,
            PREVIEWING,
            conditions=[_has_audience],
            before=[_keep_content],
        )
        add("write", AWAITING_CONTENT, AWAITING_AUDIENCE, before=[_keep_content])
        add("choose_audience", AWAITING_AUDIENCE, PREVIEWING, before=[_keep_audience])
        add("edit_content", PREVIEWING, AWAITING_CONTENT, conditions=[_is_custom])
        add("edit_audience", PREVIEWING, AWAITING_AUDIENCE)
        add("ask_time", PREVIEWING, AWAITING_TIME)
        add("set_time", AWAITING_TIME, PREVIEWING, before=[_keep_time])
        add("clear_time", [AWAITING_TIME, PREVIEWING], PREVIEWING, before=[_drop_time])
        add("confirm", PREVIEWING, CONFIRMED, before=[_keep_quiet_choice])
        add("cancel", list(OPEN_STATES), CANCELLED)
        self._runner = Runner(self.machine, Draft(draft_id=""))

    # --- starting a draft ---------------------------------------------------------------

    def new_message(self, draft_id: str) -> Draft:
        """/broadcast: a draft waiting for the text or photo."""
        return Draft(draft_id=draft_id)

    def new_tip(self, draft_id: str, tip_id: str, *, schedule: bool) -> Draft:
        """A ready-made tip for everyone: straight to the preview, or first ask when."""
        state = AWAITING_TIME if schedule else PREVIEWING
        return Draft(draft_id=draft_id, state=state, tip_id=tip_id, audience=EVERYONE)

    # --- steps (each raises NotAllowed when the draft is not at a step that accepts it) --

    def write(self, draft: Draft, *, text: str, photo: str | None = None) -> None:
        self._fire(draft, "write", text=text, photo=photo)

    def choose_audience(self, draft: Draft, audience: str) -> None:
        self._fire(draft, "choose_audience", audience=audience)

    def edit_content(self, draft: Draft) -> None:
        self._fire(draft, "edit_content")

    def edit_audience(self, draft: Draft) -> None:
        self._fire(draft, "edit_audience")

    def ask_time(self, draft: Draft) -> None:
        self._fire(draft, "ask_time")

    def set_time(self, draft: Draft, send_at: float) -> None:
        self._fire(draft, "set_time", send_at=send_at)

    def clear_time(self, draft: Draft) -> None:
        self._fire(draft, "clear_time")

    def confirm(self, draft: Draft, *, ignore_quiet: bool = False) -> None:
        self._fire(draft, "confirm", ignore_quiet=ignore_quiet)

    def cancel(self, draft: Draft) -> None:
        self._fire(draft, "cancel")

    def _fire(self, draft: Draft, trigger: str, **kwargs: object) -> None:
        self._runner.fire(draft, trigger, **kwargs)


def _draft(event: EventData) -> Draft:
    draft = subject_of(event)
    assert isinstance(draft, Draft)
    return draft


def _has_audience(event: EventData) -> bool:
    draft = _draft(event)
    return draft.audience is not None


def _is_custom(event: EventData) -> bool:
    draft = _draft(event)
    return not draft.is_tip


def _keep_content(event: EventData) -> None:
    draft = _draft(event)
    draft.text = str(event.kwargs["text"])
    photo = event.kwargs.get("photo")
    draft.photo = str(photo) if photo is not None else None


def _keep_audience(event: EventData) -> None:
    draft = _draft(event)
    draft.audience = str(event.kwargs["audience"])


def _keep_time(event: EventData) -> None:
    draft = _draft(event)
    draft.send_at = float(event.kwargs["send_at"])


def _drop_time(event: EventData) -> None:
    draft = _draft(event)
    draft.send_at = None


def _keep_quiet_choice(event: EventData) -> None:
    draft = _draft(event)
    draft.ignore_quiet = bool(event.kwargs.get("ignore_quiet", False))
