"""The package's stages import one way: inputs -> core -> analyses / outputs (then the pipeline and the command
line), and no module imports itself back through others (no import cycle). Read from the source, so a new module
is checked without being listed here."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import dxsim

ROOT = Path(dxsim.__file__).parent
# stage -> the stages it must not import from (base modules dxsim.errors, dxsim.laws and dxsim.progress are below all)
STAGES = {"inputs", "core", "analyses", "outputs", "pipeline", "cli"}
FORBIDDEN = {"errors": STAGES, "laws": STAGES, "progress": STAGES,
             "inputs": {"core", "analyses", "outputs", "pipeline", "cli"},
             "core": {"analyses", "outputs", "pipeline", "cli"},
             "analyses": {"cli"}, "outputs": {"cli"}}
# Imports against the order that remain (none; a new one fails the test):
KNOWN: set[tuple[str, str]] = set()


def modules() -> list[str]:
    return sorted(".".join(("dxsim", *p.relative_to(ROOT).with_suffix("").parts)).removesuffix(".__init__")
                  for p in ROOT.rglob("*.py"))


def imports(module: str, top_level_only: bool) -> set[str]:
    """The dxsim modules ``module`` imports (all of them, or those imported when it is first imported)."""
    path = ROOT.joinpath(*module.split(".")[1:])
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    known = set(modules())
    out = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("dxsim"):
            subs = {f"{node.module}.{a.name}" for a in node.names}
            out |= (subs & known) or {node.module}
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("dxsim")}
    return out - {module}


def stage(module: str) -> str:
    """inputs, core, analyses, outputs, pipeline, cli (a module or a package), errors, progress or dxsim."""
    return module.split(".")[1] if "." in module else "facade"


@pytest.mark.parametrize("module", [m for m in modules() if not m.endswith("__main__")])
def test_every_module_imports(module: str) -> None:
    importlib.import_module(module)


def test_stages_import_one_way() -> None:
    against = {(m, i) for m in modules() for i in imports(m, top_level_only=False)
               if stage(i) in FORBIDDEN.get(stage(m), set())}
    assert not against - KNOWN, sorted(against - KNOWN)
    assert not KNOWN - against, f"no longer imported, remove from KNOWN: {sorted(KNOWN - against)}"


def test_no_import_cycle() -> None:
    graph = {m: imports(m, top_level_only=True) for m in modules()}
    cycles = []

    def visit(m: str, trail: tuple[str, ...]) -> None:
        for n in sorted(graph.get(m, ())):
            if n in trail:
                cycles.append(trail[trail.index(n):] + (n,))
            elif n not in done:
                visit(n, trail + (n,))
        done.add(m)

    done: set[str] = set()
    for m in graph:
        if m not in done:
            visit(m, (m,))
    assert not cycles, cycles[:3]


def test_the_checks_can_fail() -> None:
    """The cycle and stage checks see imports: core.ensemble imports core.simulate, inputs.scenario the
    programmes."""
    assert "dxsim.core.simulate" in imports("dxsim.core.ensemble", top_level_only=True)
    assert "dxsim.inputs.programmes" in imports("dxsim.inputs.scenario", top_level_only=True)
