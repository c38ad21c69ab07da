"""The staff compose flow as a `transitions` machine: audience, a text per language, preview.

One Machine is built once with `model=None` and one long-lived model; each staff action
loads the draft into it, fires one trigger and copies the result back (the same pattern as
flows/screening.py).
The machine only moves the draft between steps and records what staff chose. Which languages
to ask for, checking each text, counting recipients, rendering the preview and queueing happen
in bot/, after the machine said the step is allowed. Nothing can reach `confirmed` without
passing `previewing`.

    awaiting_audience --choose_audience--> awaiting_content (languages to ask) | previewing
    awaiting_content --write / skip--> awaiting_content (more to ask) | previewing
    previewing --edit_content(lang)--> awaiting_content --write / skip--> previewing
    previewing --edit_audience--> awaiting_audience
    previewing --others_get(lang) / leave_out--> previewing
    previewing --ask_time--> awaiting_time --set_time / clear_time--> previewing
    previewing --confirm--> confirmed;  any open step --cancel--> cancelled

`queue` holds the languages still to ask, the first one being asked now. A language left
without a text is skipped for its parents unless staff chose `others_get`: the language whose
text they get instead. Any change to the texts or the audience clears that choice, so it is
only ever confirmed right after its warning was shown.

A ready-made tip starts at `previewing` (send now) or `awaiting_time` (schedule) with the
audience "all"; its texts come from content, so `edit_content` is refused for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from transitions import EventData, Machine

from flows.machine import Runner, subject_of

AWAITING_AUDIENCE = "awaiting_audience"
AWAITING_CONTENT = "awaiting_content"
AWAITING_TIME = "awaiting_time"
PREVIEWING = "previewing"
CONFIRMED = "confirmed"
CANCELLED = "cancelled"
OPEN_STATES = (AWAITING_AUDIENCE, AWAITING_CONTENT, AWAITING_TIME, PREVIEWING)
STATES = (*OPEN_STATES, CONFIRMED, CANCELLED)
EVERYONE = "all"


@dataclass
class Draft:
    """One staff member's broadcast in the making; stored between messages."""

    draft_id: str
    state: str = AWAITING_AUDIENCE
    texts: dict[str, str] = field(default_factory=dict)  # language -> the staff's own HTML
    queue: list[str] = field(default_factory=list)  # languages still to ask; [0] is asked now
    others_get: str | None = None  # whose text the languages without one get; None: skipped
    photo: str | None = None  # a Telegram file_id, the same for every language
    tip_id: str | None = None  # a ready-made tip: its texts are in content, not here
    audience: str | None = None
    send_at: float | None = None  # unix time staff scheduled; None: as soon as allowed
    ignore_quiet: bool = False  # "send now anyway": set only by confirm
    refused: str | None = None  # the last text refused for bad HTML, for "Escape it for me"
    refused_photo: str | None = None  # the photo that came with it

    @property
    def is_tip(self) -> bool:
        return self.tip_id is not None

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def asking(self) -> str | None:
        """The language whose text is awaited now."""
        return self.queue[0] if self.state == AWAITING_CONTENT and self.queue else None


class Compose:
    """The compose machine; one instance serves every staff member."""

    def __init__(self) -> None:
        self.machine = Machine(
            model=None,
            states=list(STATES),
            initial=AWAITING_AUDIENCE,
            auto_transitions=False,
            send_event=True,
            ignore_invalid_triggers=False,
        )
        add = self.machine.add_transition
        # The first matching transition wins: more languages to ask, or on to the preview.
        add(
            "choose_audience",
            AWAITING_AUDIENCE,
            AWAITING_CONTENT,
            conditions=[_is_custom, _asks_some],
            before=[_keep_audience],
        )
        add("choose_audience", AWAITING_AUDIENCE, PREVIEWING, before=[_keep_audience])
        add(
            "write",
            AWAITING_CONTENT,
            AWAITING_CONTENT,
            conditions=[_is_asking, _more_after_this],
            before=[_keep_text],
        )
        add("write", AWAITING_CONTENT, PREVIEWING, conditions=[_is_asking], before=[_keep_text])
        # Skipping a language is allowed while another one has a text: never an empty message.
        add(
            "skip",
            AWAITING_CONTENT,
            AWAITING_CONTENT,
            conditions=[_is_asking, _another_text_stays, _more_after_this],
            before=[_drop_text],
        )
        add(
            "skip",
            AWAITING_CONTENT,
            PREVIEWING,
            conditions=[_is_asking, _another_text_stays],
            before=[_drop_text],
        )
        add(
            "edit_content",
            PREVIEWING,
            AWAITING_CONTENT,
            conditions=[_is_custom],
            before=[_ask_one],
        )
        add("edit_audience", PREVIEWING, AWAITING_AUDIENCE)
        add("others_get", PREVIEWING, PREVIEWING, conditions=[_has_that_text], before=[_fill])
        add("leave_out", PREVIEWING, PREVIEWING, before=[_leave_out])
        add("ask_time", PREVIEWING, AWAITING_TIME)
        add("set_time", AWAITING_TIME, PREVIEWING, before=[_keep_time])
        add("clear_time", [AWAITING_TIME, PREVIEWING], PREVIEWING, before=[_drop_time])
        add("confirm", PREVIEWING, CONFIRMED, before=[_keep_quiet_choice])
        add("cancel", list(OPEN_STATES), CANCELLED)
        self._runner = Runner(self.machine, Draft(draft_id=""))

    # --- starting a draft ---------------------------------------------------------------

    def new_message(self, draft_id: str) -> Draft:
        """/broadcast: a draft waiting for its audience."""
        return Draft(draft_id=draft_id)

    def new_tip(self, draft_id: str, tip_id: str, *, schedule: bool) -> Draft:
        """A ready-made tip for everyone: straight to the preview, or first ask when."""
        state = AWAITING_TIME if schedule else PREVIEWING
        return Draft(draft_id=draft_id, state=state, tip_id=tip_id, audience=EVERYONE)

    # --- steps (each raises NotAllowed when the draft is not at a step that accepts it) --

    def choose_audience(
        self, draft: Draft, audience: str, *, reads: list[str], ask: list[str]
    ) -> None:
        """The audience, the languages it reads (texts in others are dropped) and, in order,
        those whose texts to ask for now."""
        self._fire(draft, "choose_audience", audience=audience, reads=reads, ask=ask)

    def write(self, draft: Draft, *, text: str, photo: str | None = None) -> None:
        """The text of the language asked now; `photo` is the broadcast's photo from now on."""
        self._fire(draft, "write", text=text, photo=photo)

    def skip(self, draft: Draft) -> None:
        """No text for the language asked now (allowed while another language has one)."""
        self._fire(draft, "skip")

    def edit_content(self, draft: Draft, lang: str) -> None:
        self._fire(draft, "edit_content", lang=lang)

    def edit_audience(self, draft: Draft) -> None:
        self._fire(draft, "edit_audience")

    def others_get(self, draft: Draft, lang: str) -> None:
        """Parents whose language has no text get `lang`'s text (after staff saw the warning)."""
        self._fire(draft, "others_get", lang=lang)

    def leave_out(self, draft: Draft) -> None:
        """Parents whose language has no text get nothing (the default)."""
        self._fire(draft, "leave_out")

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


def _is_custom(event: EventData) -> bool:
    return not _draft(event).is_tip


def _asks_some(event: EventData) -> bool:
    return bool(event.kwargs.get("ask"))


def _is_asking(event: EventData) -> bool:
    return bool(_draft(event).queue)


def _more_after_this(event: EventData) -> bool:
    return len(_draft(event).queue) > 1


def _another_text_stays(event: EventData) -> bool:
    draft = _draft(event)
    return any(lang != draft.queue[0] for lang in draft.texts)


def _has_that_text(event: EventData) -> bool:
    return str(event.kwargs.get("lang")) in _draft(event).texts


def _keep_audience(event: EventData) -> None:
    draft = _draft(event)
    draft.audience = str(event.kwargs["audience"])
    reads = [str(lang) for lang in event.kwargs.get("reads") or []]
    draft.texts = {lang: text for lang, text in draft.texts.items() if lang in reads}
    # A tip's texts come from content: nothing to ask.
    draft.queue = [] if draft.is_tip else [str(lang) for lang in event.kwargs.get("ask") or []]
    draft.others_get = None


def _keep_text(event: EventData) -> None:
    draft = _draft(event)
    lang = draft.queue.pop(0)
    draft.texts[lang] = str(event.kwargs["text"])
    photo = event.kwargs.get("photo")
    draft.photo = str(photo) if photo is not None else None
    draft.others_get = None
    draft.refused = draft.refused_photo = None


def _drop_text(event: EventData) -> None:
    draft = _draft(event)
    draft.texts.pop(draft.queue.pop(0), None)
    draft.others_get = None
    draft.refused = draft.refused_photo = None


def _ask_one(event: EventData) -> None:
    draft = _draft(event)
    draft.queue = [str(event.kwargs["lang"])]


def _fill(event: EventData) -> None:
    _draft(event).others_get = str(event.kwargs["lang"])


def _leave_out(event: EventData) -> None:
    _draft(event).others_get = None


def _keep_time(event: EventData) -> None:
    draft = _draft(event)
    draft.send_at = float(event.kwargs["send_at"])


def _drop_time(event: EventData) -> None:
    draft = _draft(event)
    draft.send_at = None


def _keep_quiet_choice(event: EventData) -> None:
    draft = _draft(event)
    draft.ignore_quiet = bool(event.kwargs.get("ignore_quiet", False))
