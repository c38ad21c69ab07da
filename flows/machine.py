"""What every conversation machine here shares: one runner, one way to fire, one refusal.

Each machine has one long-lived model (attaching a model per event defines helper methods
for every state and trigger, which cost more than the whole rest of an answer). For each
event the runner points that model at the session the event is about (the very object, not
a copy), fires one trigger, and writes the new state back. Conditions run before any
callback, so a refused event changes nothing. Events are synchronous, so one model is
never shared by two events at once, even with updates handled concurrently.
"""

from __future__ import annotations

from typing import Any, Generic, Protocol, TypeVar

from transitions import EventData, Machine, MachineError


class NotAllowed(Exception):
    """A trigger the current state does not accept (a stale or forged button, a double press)."""


class HasState(Protocol):
    state: str


S = TypeVar("S", bound=HasState)


class Carrier(Generic[S]):
    """The machine's only model: its state, and the session the current event works on."""

    def __init__(self, subject: S) -> None:
        self.subject = subject
        self.state = subject.state


class Runner(Generic[S]):
    """Runs a machine's triggers on sessions through its one long-lived Carrier."""

    def __init__(self, machine: Machine, blank: S) -> None:
        self.carrier = Carrier(blank)
        machine.add_model(self.carrier, initial=blank.state)

    def fire(self, subject: S, trigger: str, **kwargs: Any) -> None:
        """Fire `trigger` on `subject`; NotAllowed (and nothing changed) if its state refuses."""
        carrier = self.carrier
        carrier.subject, carrier.state = subject, subject.state
        fire(carrier, trigger, **kwargs)
        subject.state = carrier.state


def subject_of(event: EventData) -> Any:
    """The session an event works on (callbacks and conditions take it from here)."""
    model = event.model
    assert isinstance(model, Carrier)
    return model.subject


def fire(model: Any, trigger: str, **kwargs: Any) -> None:
    """Fire `trigger` on a model attached to a Machine; NotAllowed if the state refuses it."""
    try:
        fired = model.trigger(trigger, **kwargs)
    except MachineError as exc:
        raise NotAllowed(str(exc)) from exc
    if not fired:
        raise NotAllowed(f"{trigger} is not possible from {model.state!r}")
