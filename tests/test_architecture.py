"""The architecture holds: no cycles, no upward imports, Telegram-free layers, a current map."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.import_graph import (
    BLOCKED,
    LAYERS,
    ROOT,
    TELEGRAM_FREE,
    Edge,
    current_map,
    cycles,
    imports,
    layer_of,
    map_graph,
    mermaid,
    modules,
    package_graph,
    part_of,
    runtime,
    summary,
    telegram_free,
    telegram_leaks,
    third_party_imports,
    upward_edges,
)

# Runs in a fresh interpreter: blocks BLOCKED, imports each named module, prints failures as JSON.
_IMPORT_BLOCKED = textwrap.dedent(
    """
    import importlib, json, sys, traceback

    class Block:
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in {blocked!r}:
                raise ImportError(f"{{name}} is blocked: this layer must stay Telegram-free")
            return None

    root = sys.argv[1]
    sys.path.insert(0, root)
    sys.meta_path.insert(0, Block())
    failures = {{}}
    for name in sys.argv[2:]:
        try:
            importlib.import_module(name)
        except (Exception, SystemExit) as error:
            # The deepest project frame says which import statement pulled it in.
            frames = traceback.extract_tb(error.__traceback__)
            ours = [f"{{f.filename[len(root) + 1:]}}:{{f.lineno}}" for f in frames
                    if f.filename.startswith(root)]
            where = f" (at {{ours[-1]}})" if ours else ""
            failures[name] = f"{{type(error).__name__}}: {{error}}{{where}}"
    print(json.dumps(failures))
    """
).format(blocked=BLOCKED)


def import_blocked(root: Path, names: list[str]) -> dict[str, str]:
    """Import names in one fresh subprocess with BLOCKED unavailable; failures by module."""
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT_BLOCKED, str(root), *names],
        capture_output=True,
        text=True,
        cwd=root,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    # Modules may print while importing; the report is the last line.
    failures: dict[str, str] = json.loads(done.stdout.strip().splitlines()[-1])
    return failures


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return runtime(imports(ROOT))


def test_no_import_cycles(graph: dict[str, set[str]]) -> None:
    found = cycles(graph)
    assert not found, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in found)


def test_no_upward_imports(graph: dict[str, set[str]]) -> None:
    found = upward_edges(graph)
    assert not found, "a lower layer imports a higher one:\n" + "\n".join(
        f"{a} (layer {layer_of(a)}) -> {b} (layer {layer_of(b)})" for a, b in found
    )


def test_every_module_has_a_layer() -> None:
    unassigned = [m for m in modules(ROOT) if layer_of(m) is None]
    assert not unassigned, "add these to LAYERS in tests/import_graph.py: " + ", ".join(unassigned)


def test_telegram_free_layers_do_not_reach_telegram_even_lazily() -> None:
    leaks = telegram_leaks(ROOT)
    assert not leaks, (
        "Telegram-free modules reaching "
        + "/".join(BLOCKED)
        + ":\n"
        + "\n".join(" -> ".join(chain) for chain in leaks.values())
    )


def test_telegram_free_layers_import_without_telegram() -> None:
    names = sorted(filter(telegram_free, modules(ROOT)))
    assert "flows.screening" in names and "bot.config" in names  # not vacuous
    failures = import_blocked(ROOT, names)
    assert not failures, "these fail to import without telegram/httpx:\n" + "\n".join(
        f"{name}: {why}" for name, why in failures.items()
    )


def test_the_map_in_architecture_md_is_current(graph: dict[str, set[str]]) -> None:
    assert current_map() == mermaid(map_graph(graph)), (
        "the map in ARCHITECTURE.md is stale: run .venv/bin/python -m tests.import_graph --write"
    )


def test_the_map_groups_modules_into_parts() -> None:
    assert part_of("bot.broadcast.queue") == "bot.broadcast"
    assert part_of("bot.broadcast.cli") == "command line"
    assert part_of("bot.storage") == "foundation"
    assert part_of("flows.spec") == "flows (pure)"
    assert part_of("bot.wiring") == "bot.wiring"
    graph = {"bot.broadcast.queue": {"bot.storage", "bot.broadcast.message"}, "bot.cli": set()}
    assert map_graph(graph) == {"bot.broadcast": {"foundation"}, "command line": set()}


def test_the_summary_counts_the_real_tree() -> None:
    s = summary()
    assert s["modules"] >= 40 and s["edges"] >= 50
    assert s["largest_lines"] > 100


# The tool itself, on a tiny package, so the checks above cannot pass vacuously.

SAMPLE = {
    "app/__init__.py": "",
    "app/a.py": "from app import b\nimport json\n",
    "app/b.py": "def later():\n    from app.a import thing\n    import httpx\n",
    "app/c.py": (
        "from typing import TYPE_CHECKING\nimport telegram.ext\n"
        "if TYPE_CHECKING:\n    from app.d import D\n    import yaml\nelse:\n    import app.e\n"
    ),
    "app/d.py": "from app import c\n",
    "app/e.py": "",
    "app/sub/__init__.py": "from . import leaf\n",
    "app/sub/leaf.py": "from ..a import thing\nfrom .. import c\n",
    "app/sub/cli.py": "from app.sub import leaf\nfrom . import not_a_module\n",
    "app/__pycache__/stale.py": "import telegram\n",
}
SAMPLE_LAYERS = [("low", ["app.sub"]), ("high", ["app.a", "app.b", "app.c"]), ("top", [])]


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    for name, text in SAMPLE.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


def test_modules_names_packages_and_skips_pycache(sample: Path) -> None:
    assert sorted(modules(sample, ["app"])) == [
        "app", "app.a", "app.b", "app.c", "app.d", "app.e",
        "app.sub", "app.sub.cli", "app.sub.leaf",
    ]  # fmt: skip


def test_imports_kinds_and_relative_resolution(sample: Path) -> None:
    found = imports(sample, ["app"])
    assert found["app.a"] == {Edge("app.b", "eager")}
    assert found["app.b"] == {Edge("app.a", "lazy")}
    assert found["app.c"] == {Edge("app.d", "typing-only"), Edge("app.e", "eager")}
    assert found["app.sub"] == {Edge("app.sub.leaf", "eager")}
    assert found["app.sub.leaf"] == {Edge("app.a", "eager"), Edge("app.c", "eager")}
    # `from . import not_a_module` names no module, so it imports the package itself.
    assert found["app.sub.cli"] == {Edge("app.sub.leaf", "eager"), Edge("app.sub", "eager")}


def test_lazy_imports_make_cycles_and_typing_only_ones_do_not(sample: Path) -> None:
    graph = runtime(imports(sample, ["app"]))
    assert cycles(graph) == [["app.a", "app.b"]]
    assert "app.d" not in graph["app.c"]  # else c <-> d would be a cycle too
    assert cycles({"x": {"y"}, "y": {"z"}, "z": {"x"}, "w": {"w"}}) == [["x", "y", "z"]]


def test_upward_imports_are_flagged(sample: Path) -> None:
    graph = runtime(imports(sample, ["app"]))
    assert layer_of("app.sub.cli", SAMPLE_LAYERS) == 2  # any *.cli is the top layer
    assert layer_of("app.subway", SAMPLE_LAYERS) is None  # prefixes match whole parts
    assert layer_of("app.d", SAMPLE_LAYERS) is None
    assert upward_edges(graph, SAMPLE_LAYERS) == [
        ("app.sub.leaf", "app.a"),
        ("app.sub.leaf", "app.c"),
    ]


def test_third_party_imports_are_runtime_only(sample: Path) -> None:
    assert third_party_imports(sample / "app/c.py", ["app"]) == {"telegram"}  # not yaml
    assert third_party_imports(sample / "app/b.py", ["app"]) == {"httpx"}  # lazy counts
    assert third_party_imports(sample / "app/a.py", ["app"]) == set()  # stdlib is not third party


def test_blocked_imports_fail_in_the_subprocess(sample: Path) -> None:
    failures = import_blocked(sample, ["app.a", "app.b", "app.c", "app.missing"])
    assert set(failures) == {"app.c", "app.missing"}  # app.b imports httpx only when called
    assert "telegram is blocked" in failures["app.c"] and "app/c.py:2" in failures["app.c"]
    assert "ModuleNotFoundError" in failures["app.missing"]


def test_package_graph_and_mermaid_are_deterministic() -> None:
    graph = {
        "bot.broadcast.queue": {"bot.config", "bot.broadcast.drip"},
        "bot.broadcast.drip": set(),
    }
    graph |= {"bot.config": set(), "bot.cli": {"bot.broadcast.queue"}}
    packages = package_graph(graph)
    assert packages == {
        "bot.broadcast": {"bot.config"}, "bot.config": set(), "bot.cli": {"bot.broadcast"},
    }  # fmt: skip
    assert mermaid(packages).splitlines() == [
        "graph TD",
        "    %% Generated by `python -m tests.import_graph --write`; do not edit.",
        '    bot_broadcast["bot.broadcast"]',
        '    bot_cli["bot.cli"]',
        '    bot_config["bot.config"]',
        "    bot_broadcast --> bot_config",
        "    bot_cli --> bot_broadcast",
    ]
    assert mermaid(packages) == mermaid(dict(reversed(packages.items())))


def test_the_layer_table_is_ordered_bottom_up() -> None:
    names = [name for name, _ in LAYERS]
    assert names[0] == "pure" and names[-1] == "command line"
    assert layer_of("flows.spec") == 0 and layer_of("bot") == 0
    assert layer_of("bot.broadcast.cli") == layer_of("bot.stats.cli") == len(LAYERS) - 1
    assert layer_of("bot.broadcast.queue") == 2 and layer_of("bot.tg.app") == 4


def test_telegram_leaks_follow_project_imports_and_lazy_ones(tmp_path: Path) -> None:
    tree = {
        "bot/__init__.py": "",
        "bot/config.py": "import bot.storage\n",
        "bot/storage.py": "def send():\n    import httpx.auth\n",
        "bot/views.py": "import typing\nif typing.TYPE_CHECKING:\n    import telegram\n",
        "bot/tg/__init__.py": "import telegram\n",
        "bot/stats/cli.py": "import telegram\n",
    }
    for name, text in tree.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    assert telegram_leaks(tmp_path, ["bot"]) == {
        "bot.config": ["bot.config", "bot.storage", "httpx"],
        "bot.storage": ["bot.storage", "httpx"],
    }
    assert telegram_free("bot.stats.aggregate") and not telegram_free("bot.stats.cli")
    assert "bot.wiring" in TELEGRAM_FREE and "bot.tg" not in TELEGRAM_FREE
