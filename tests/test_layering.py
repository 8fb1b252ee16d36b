"""The house: data flows one way, and no module imports one that imports it back.

Every import is read from the source (including imports inside functions and under
``TYPE_CHECKING``, which hide a cycle from Python but not from a reader), so the check does not
depend on what happens to be imported first.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "iomscore"

#: Rooms of the house by floor, bottom first: a room may import only from lower floors.
FLOORS: tuple[tuple[str, ...], ...] = (
    ("_errors", "_public", "_arrays", "_chain", "_pandas"),  # the hash chain shared by the decision and run logs
    ("schema",),                      # referral -> columns
    ("features", "fairness"),         # -> features; group rates for audits and panels
    ("scoring",),                     # -> scorer -> result
    ("io", "learn", "testing", "monitoring"),  # batch jobs, learned scorers, the property kit, run log and drift
    ("cohort", "evaluation", "synth", "dask"),  # -> selection; the batch kernel on Dask
    ("panel", "_contract"),           # -> pack; the JSON Schemas of every model above
    ("iomscore",),                    # the public face
    ("cli",),                         # the one command line
    ("demo", "__main__"),
)
FLOOR = {room: i for i, rooms in enumerate(FLOORS) for room in rooms}


def _modules() -> dict[str, Path]:
    out = {}
    for p in PACKAGE.rglob("*.py"):
        parts = ["iomscore", *p.relative_to(PACKAGE).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = p
    return out


MODULES = _modules()


def _room(module: str) -> str:
    parts = module.split(".")
    return "iomscore" if len(parts) == 1 else parts[1]


def _imports(module: str) -> set[str]:
    path = MODULES[module]
    base = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom):
            if node.level:
                target = ".".join(base[: len(base) - (node.level - 1)] + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [target, *(f"{target}.{a.name}" for a in node.names)]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        found.update(n for n in names if n in MODULES and n != module)
    return found


GRAPH = {m: _imports(m) for m in MODULES}


def test_every_room_has_a_floor() -> None:
    assert {_room(m) for m in MODULES} <= set(FLOOR)


def test_data_flows_one_way() -> None:
    up = sorted(
        f"{m} -> {t}" for m, targets in GRAPH.items() for t in targets
        if _room(m) != _room(t) and FLOOR[_room(t)] >= FLOOR[_room(m)]
    )
    assert not up, "imports that run back up the house:\n" + "\n".join(up)


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(m: str, stack: list[str]) -> None:
        state[m] = 1
        stack.append(m)
        for t in sorted(graph.get(m, ())):
            if state.get(t) == 1:
                cycles.append([*stack[stack.index(t):], t])
            elif t not in state:
                visit(t, stack)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [])
    return cycles


def test_no_import_cycles() -> None:
    # package __init__ files re-export their own private modules; they are the one allowed loop
    graph: dict[str, set[str]] = defaultdict(set)
    for m, targets in GRAPH.items():
        for t in targets:
            if not (MODULES[t].name == "__init__.py" and m.startswith(t + ".")):
                graph[m].add(t)
    cycles = find_cycles(graph)
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)


def test_the_checkers_can_fail() -> None:
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    # imports inside functions are seen (the CLI imports its domain code lazily)
    assert "iomscore.io" in GRAPH["iomscore.cli._common"]
