"""The screening as a Mermaid state diagram, drawn by transitions' own graph support."""

from __future__ import annotations

from transitions.extensions import GraphMachine

from flows.spec import OUTCOME_STATE, ScreeningSpec


def _edge_labels(spec: ScreeningSpec, qid: str) -> dict[str, list[str]]:
    """For each next state, the answers (or rules) that lead there."""
    question = spec.questions[qid]
    labels: dict[str, list[str]] = {}
    for option, dest in question.option_next.items():
        labels.setdefault(dest, []).append(option)
    for route in question.routes:
        if route.when:
            rule = " and ".join(f"{q} is {'/'.join(sorted(v))}" for q, v in route.when.items())
            labels.setdefault(route.goto, []).append(f"if {rule}")
        elif not question.option_next or len(question.option_next) < len(question.options):
            labels.setdefault(route.goto, []).append(
                "otherwise" if len(question.routes) > 1 else "any answer"
            )
    return labels


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
    for qid in spec.questions:
        for dest, labels in sorted(_edge_labels(spec, qid).items()):
            machine.add_transition(", ".join(labels), qid, dest)
    graph = model.get_graph()  # type: ignore[attr-defined]
    text: str = graph.draw(None)
    # Drop the "active state" styling: the committed diagram describes, not a live session.
    lines = [line for line in text.splitlines() if not line.strip().startswith("Class ")]
    outcomes = ", ".join(spec.outcome_ids)
    lines.append(f"  note right of {OUTCOME_STATE}: one of {outcomes}")
    return "\n".join(lines).rstrip() + "\n"
