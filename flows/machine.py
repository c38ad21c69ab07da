"""What every conversation machine here shares: one way to fire a trigger, one refusal."""

from __future__ import annotations

from typing import Any

from transitions import MachineError


class NotAllowed(Exception):
    """A trigger the current state does not accept (a stale or forged button, a double press)."""


def fire(model: Any, trigger: str, **kwargs: Any) -> None:
    """Fire `trigger` on a model attached to a Machine; NotAllowed if the state refuses it."""
    try:
        fired = model.trigger(trigger, **kwargs)
    except MachineError as exc:
        raise NotAllowed(str(exc)) from exc
    if not fired:
        raise NotAllowed(f"{trigger} is not possible from {model.state!r}")
