"""Import graph of bot/ and flows/ (stdlib ast only): cycles, layers, a Mermaid map."""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Literal, NamedTuple, TypedDict

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "flows")
DIAGRAM = ROOT / "ARCHITECTURE.md"  # the map, between the two MAP markers
MAP_START, MAP_END = "<!-- map: start -->", "<!-- map: end -->"

# Bottom to top: a module may import its own layer or lower ones, never a higher one.
# A module belongs to the layer of its longest matching prefix (whole dotted parts only).
# fmt: off
LAYERS: list[tuple[str, list[str]]] = [
    ("pure", ["flows"]),
    ("foundation", ["bot.config", "bot.logs", "bot.storage", "bot.migrations", "bot.callbacks",
                    "bot.views", "bot.content", "bot.html", "bot.delivery", "bot.lease",
                    "bot.busy", "bot.keys", "bot.alerts", "bot.health", "bot.db_errors",
                    "bot.readonly", "bot.workers"]),
    ("features (Telegram-free)", ["bot.parent", "bot.broadcast", "bot.stats", "bot.checks",
                                  "bot.letters", "bot.followup"]),
    ("wiring", ["bot.wiring"]),
    ("adapters", ["bot.tg", "bot.terminal"]),
    # Any module named `*.cli` lands here too, whatever its package (see layer_of).
    ("command line", ["bot.cli", "bot.__main__", "bot.cli_errors", "bot.run_cli", "bot.db_cli"]),
]
# fmt: on
# Layers 0-3 must run without Telegram: the terminal chat and the tests use them as they are.
TELEGRAM_FREE_LAYERS = range(4)
TELEGRAM_FREE: list[str] = [p for i in TELEGRAM_FREE_LAYERS for p in LAYERS[i][1]]
BLOCKED = ("telegram", "httpx")

Kind = Literal["eager", "lazy", "typing-only"]


class Edge(NamedTuple):
    """One project import: its target module and how it runs."""

    target: str
    kind: Kind


class _Raw(NamedTuple):
    kind: Kind
    level: int
    module: str  # as written, without the leading dots
    names: tuple[str, ...] | None  # None for `import x.y`


def modules(root: Path, packages: Sequence[str] = PACKAGES) -> dict[str, Path]:
    """Every module under the packages, by dotted name (a package is its __init__)."""
    found: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if "__pycache__" in parts:
                continue
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _raw_imports(path: Path) -> Iterator[_Raw]:
    """Every import statement of a file, tagged eager, lazy (in a function) or typing-only."""

    def walk(nodes: list[ast.stmt], lazy: bool, typing: bool) -> Iterator[_Raw]:
        for node in nodes:
            kind: Kind = "typing-only" if typing else "lazy" if lazy else "eager"
            if isinstance(node, ast.Import):
                yield from (_Raw(kind, 0, alias.name, None) for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                names = tuple(alias.name for alias in node.names)
                yield _Raw(kind, node.level, node.module or "", names)
            elif isinstance(node, ast.If) and _is_type_checking(node.test):
                yield from walk(node.body, lazy, True)
                yield from walk(node.orelse, lazy, typing)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                yield from walk(node.body, True, typing)
            else:
                # Class bodies, try/with/for/match blocks run in the enclosing context.
                for child in ast.iter_child_nodes(node):
                    if isinstance(child, ast.stmt):
                        yield from walk([child], lazy, typing)
                    elif isinstance(child, ast.ExceptHandler | ast.match_case):
                        yield from walk(child.body, lazy, typing)

    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return walk(tree.body, False, False)


def _resolve(name: str, known: Mapping[str, Path]) -> str | None:
    # `import bot.x.Name`-style targets fall back to the deepest module that exists.
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def imports(root: Path, packages: Sequence[str] = PACKAGES) -> dict[str, set[Edge]]:
    """For each module, the project modules it imports and how (eager, lazy, typing-only)."""
    known = modules(root, packages)
    graph: dict[str, set[Edge]] = {}
    for name, path in known.items():
        edges: set[Edge] = set()
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for raw in _raw_imports(path):
            base = raw.module
            if raw.level:
                anchor = package.split(".")[: len(package.split(".")) - raw.level + 1]
                base = ".".join([*anchor, *([raw.module] if raw.module else [])])
            if base.split(".")[0] not in packages:
                continue
            # `from pkg import name` means the module pkg.name when there is one.
            candidates = [f"{base}.{n}" for n in raw.names or ()] or [base]
            for candidate in candidates:
                target = candidate if candidate in known else _resolve(base, known)
                if target and target != name:
                    edges.add(Edge(target, raw.kind))
        graph[name] = edges
    return graph


def runtime(graph: Mapping[str, set[Edge]]) -> dict[str, set[str]]:
    """The edges that run (eager and lazy); typing-only imports never execute."""
    return {m: {e.target for e in edges if e.kind != "typing-only"} for m, edges in graph.items()}


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for child in sorted(graph.get(node, ())):
            if child not in index:
                visit(child)
                low[node] = min(low[node], low[child])
            elif child in stack:
                low[node] = min(low[node], index[child])
        if low[node] == index[node]:  # node is the root of a component: pop it whole
            component = stack[stack.index(node) :]
            del stack[stack.index(node) :]
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def package_graph(graph: Mapping[str, set[str]], depth: int = 2) -> dict[str, set[str]]:
    """Collapse modules to their first `depth` parts; self-edges vanish, every node stays."""

    def collapse(name: str) -> str:
        return ".".join(name.split(".")[:depth])

    packages: dict[str, set[str]] = {}
    for module, targets in graph.items():
        edges = packages.setdefault(collapse(module), set())
        for target in targets:
            packages.setdefault(collapse(target), set())
            edges.add(collapse(target))
    return {p: targets - {p} for p, targets in packages.items()}


def layer_of(module: str, layers: Sequence[tuple[str, list[str]]] = LAYERS) -> int | None:
    """The layer index of a module by longest matching prefix, or None when unassigned."""
    if module.rpartition(".")[2] == "cli":
        return len(layers) - 1
    matches = [
        (len(prefix), layer)
        for layer, (_, prefixes) in enumerate(layers)
        for prefix in prefixes
        if module == prefix or module.startswith(prefix + ".")
    ]
    if matches:
        return max(matches)[1]
    # A root package's __init__ runs before any of its modules, so it is the bottom.
    return 0 if "." not in module else None


def telegram_free(module: str) -> bool:
    """Whether a module sits in a Telegram-free layer (a `*.cli` never does)."""
    return layer_of(module) in TELEGRAM_FREE_LAYERS


def upward_edges(
    graph: Mapping[str, set[str]], layers: Sequence[tuple[str, list[str]]] = LAYERS
) -> list[tuple[str, str]]:
    """Runtime imports from a lower layer into a higher one (unassigned modules are skipped)."""
    found = []
    for module, targets in graph.items():
        for target in targets:
            low, high = layer_of(module, layers), layer_of(target, layers)
            if low is not None and high is not None and high > low:
                found.append((module, target))
    return sorted(found)


def third_party_imports(path: Path, packages: Sequence[str] = PACKAGES) -> set[str]:
    """Top-level names of the non-project, non-stdlib imports a module runs (lazy included)."""
    return {
        top
        for raw in _raw_imports(path)
        if raw.kind != "typing-only" and raw.level == 0
        for top in [raw.module.split(".")[0]]
        if top not in packages and top not in sys.stdlib_module_names
    }


def telegram_leaks(root: Path, packages: Sequence[str] = PACKAGES) -> dict[str, list[str]]:
    """Telegram-free modules that reach a BLOCKED package, with one import chain each."""
    known = modules(root, packages)
    graph = runtime(imports(root, packages))
    direct = {m: sorted(third_party_imports(p, packages) & set(BLOCKED)) for m, p in known.items()}
    leaks: dict[str, list[str]] = {}
    for start in sorted(filter(telegram_free, known)):
        parent: dict[str, str | None] = {start: None}
        queue = [start]
        for module in queue:  # breadth first, so the chain shown is a shortest one
            if direct[module]:
                chain = [direct[module][0], module]
                while (previous := parent[chain[-1]]) is not None:
                    chain.append(previous)
                leaks[start] = chain[::-1]
                break
            for target in sorted(graph[module] - parent.keys()):
                parent[target] = module
                queue.append(target)
    return leaks


def part_of(module: str) -> str | None:
    """The box a module is drawn in on the map: its package, its layer, or the command line."""
    parts = module.split(".")
    layer = layer_of(module)
    if layer == len(LAYERS) - 1:
        return "command line"
    if parts[0] == "flows":
        return "flows (pure)"
    if len(parts) > 2 or (len(parts) == 2 and layer == 2):
        return ".".join(parts[:2])  # a package of bot/
    if layer == 1:
        return "foundation"
    return None if module == "bot" else module


def map_graph(graph: Mapping[str, set[str]]) -> dict[str, set[str]]:
    """The import graph between parts (see part_of), without self-loops."""
    parts: dict[str, set[str]] = {}
    for source, targets in graph.items():
        box = part_of(source)
        if box is None:
            continue
        parts.setdefault(box, set())
        for target in targets:
            other = part_of(target)
            if other is not None and other != box:
                parts[box].add(other)
    return parts


def write_map(root: Path, text: str) -> Path:
    """Put the diagram between the map markers of ARCHITECTURE.md."""
    path = root / DIAGRAM.relative_to(ROOT)
    doc = path.read_text(encoding="utf-8")
    head, _, rest = doc.partition(MAP_START)
    _, _, tail = rest.partition(MAP_END)
    path.write_text(f"{head}{MAP_START}\n```mermaid\n{text}```\n{MAP_END}{tail}", encoding="utf-8")
    return path


def current_map(root: Path = ROOT) -> str:
    """The diagram ARCHITECTURE.md shows now."""
    doc = (root / DIAGRAM.relative_to(ROOT)).read_text(encoding="utf-8")
    block = doc.partition(MAP_START)[2].partition(MAP_END)[0]
    return block.strip().removeprefix("```mermaid").removesuffix("```").strip() + "\n"


def mermaid(graph: Mapping[str, set[str]]) -> str:
    """A deterministic Mermaid `graph TD`: sorted nodes, then sorted edges."""

    def node(name: str) -> str:
        return "".join(c if c.isalnum() else "_" for c in name)

    lines = ["graph TD", "    %% Generated by `python -m tests.import_graph --write`; do not edit."]
    lines += [f'    {node(name)}["{name}"]' for name in sorted(graph)]
    lines += [
        f"    {node(source)} --> {node(target)}"
        for source in sorted(graph)
        for target in sorted(graph[source])
    ]
    return "\n".join(lines) + "\n"


class Summary(TypedDict):
    """What `python -m tests.import_graph` prints."""

    modules: int
    largest_module: str
    largest_lines: int
    edges: int
    lazy_edges: int
    typing_only_edges: int
    cycles: int
    cycle_members: list[list[str]]
    upward_edges: int
    upward: list[tuple[str, str]]
    unassigned: list[str]


def summary(root: Path = ROOT, packages: Sequence[str] = PACKAGES) -> Summary:
    """Size, edges, cycles and layer violations of the tree at root."""
    known = modules(root, packages)
    graph = imports(root, packages)
    edges = [e for targets in graph.values() for e in targets]
    # Distinct module pairs: a target imported both eagerly and lazily is one runtime edge.
    pairs = {(m, e.target) for m, es in graph.items() for e in es if e.kind != "typing-only"}
    lines = {m: len(p.read_text(encoding="utf-8").splitlines()) for m, p in known.items()}
    largest = max(sorted(lines), key=lines.__getitem__)
    found = cycles(runtime(graph))
    upward = upward_edges(runtime(graph))
    return Summary(
        modules=len(known),
        largest_module=largest,
        largest_lines=lines[largest],
        edges=len(pairs),
        lazy_edges=sum(e.kind == "lazy" for e in edges),
        typing_only_edges=sum(e.kind == "typing-only" for e in edges),
        cycles=len(found),
        cycle_members=found,
        upward_edges=len(upward),
        upward=upward,
        unassigned=sorted(m for m in known if layer_of(m) is None),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Print the summary, or the map, or rewrite the map in ARCHITECTURE.md."""
    parser = argparse.ArgumentParser(prog="python -m tests.import_graph", description=__doc__)
    parser.add_argument("--mermaid", action="store_true", help="print the package diagram")
    parser.add_argument("--write", action="store_true", help="rewrite the map in ARCHITECTURE.md")
    # Another checkout, e.g. `git worktree add /tmp/before HEAD~5`, for before/after figures.
    parser.add_argument("--root", type=Path, default=ROOT, help="tree to read (default: this one)")
    args = parser.parse_args(argv)
    if args.mermaid or args.write:
        text = mermaid(map_graph(runtime(imports(args.root))))
        if args.write:
            print(f"wrote the map into {write_map(args.root, text)}")
        else:
            print(text, end="")
        return 0
    s = summary(args.root)
    print(f"modules:        {s['modules']}")
    print(f"largest module: {s['largest_module']} ({s['largest_lines']} lines)")
    edges = f"{s['edges']} runtime ({s['lazy_edges']} lazy), {s['typing_only_edges']} typing-only"
    print(f"import edges:   {edges}")
    print(f"cycles:         {s['cycles']}")
    print("".join(f"  - {' <-> '.join(members)}\n" for members in s["cycle_members"]), end="")
    print(f"upward edges:   {s['upward_edges']}")
    print("".join(f"  - {source} -> {target}\n" for source, target in s["upward"]), end="")
    print(f"unassigned:     {len(s['unassigned'])}", *s["unassigned"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
