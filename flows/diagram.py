"""The screening as a Mermaid state diagram, drawn by transitions' own graph support."""

from __future__ import annotations

from transitions.extensions import GraphMachine

from flows.spec import OUTCOME_STATE, ScreeningSpec


class _Diagram:
    """A bare model for the graph machine."""


def mermaid(spec: ScreeningSpec) -> str:
    """A stable Mermaid stateDiagram of every question and the paths between them."""
    model = _Diagram()
    machine = GraphMachine(
        model=model,
        states=[*spec.questions, OUTCOME_STATE],
        initial=spec.start,
        auto_transitions=False,
        graph_engine="mermaid",
        title="Screening",
    )
    for edge in spec.edges():  # the same edges the running machine is built from
        machine.add_transition(", ".join(edge.labels), edge.source, edge.dest)
    graph = model.get_graph()  # type: ignore[attr-defined]
    text: str = graph.draw(None)
    # Drop the "active state" styling: the committed diagram describes, not a live session.
    lines = [line for line in text.splitlines() if not line.strip().startswith("Class ")]
    outcomes = ", ".join(spec.outcome_ids)
    lines.append(f"  note right of {OUTCOME_STATE}: one of {outcomes}")
    return "\n".join(lines).rstrip() + "\n"
