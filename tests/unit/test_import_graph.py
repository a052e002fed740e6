"""The import graph of suitekit's packages has no cycle (STYLE: one import direction).

Each module of ``src/suitekit`` is parsed with :mod:`ast` (nothing is imported) and every
``import`` and ``from ... import`` in it is collected, those inside functions and under
``TYPE_CHECKING`` included, as are the module names a package's lazy re-export table
(``suitekit._lazy.exports``) maps its names to. Each module and each target is mapped to its
*unit*: the top-level package under ``suitekit`` (``suitekit.reporting``) or the single module
(``suitekit.plan``, ``suitekit._runner``); ``suitekit`` itself is the package's ``__init__``.
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterator, Mapping
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Final

import suitekit

SOURCE: Final = Path(suitekit.__file__).parent

PACKAGES: Final = (
    "suitekit.ci",
    "suitekit.flaky",
    "suitekit.reporting",
    "suitekit.services",
    "suitekit.sharding",
)
"""No two of these may import each other in a circle, directly or through other modules."""

Graph = Mapping[str, AbstractSet[str]]


def unit_of(module: str) -> str | None:
    """The unit a module belongs to; ``None`` outside suitekit."""
    parts = module.split(".")
    if parts[0] != "suitekit":
        return None
    if len(parts) > 1 and _is_module(parts[1]):
        return f"suitekit.{parts[1]}"
    return "suitekit"


def _is_module(name: str) -> bool:
    return (SOURCE / name).is_dir() or (SOURCE / f"{name}.py").is_file()


def _module_name(path: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(SOURCE.parent).with_suffix("").parts)
    package = parts[-1] == "__init__"
    return ".".join(parts[:-1] if package else parts), package


def imported(path: Path) -> set[str]:
    """Every module that the module at ``path`` imports, anywhere in it."""
    name, package = _module_name(path)
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the module's package, up level - 1 packages
                parents = name.split(".") if package else name.split(".")[:-1]
                anchor = parents[: len(parents) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            for alias in node.names:
                # ``from suitekit import plan`` imports the module suitekit.plan; ``from
                # suitekit import Project`` a name of the package's __init__.
                submodule = f"{base}.{alias.name}"
                found.add(submodule if unit_of(submodule) != unit_of(base) else base)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "exports":
            for table in (arg for arg in node.args if isinstance(arg, ast.Dict)):
                found.update(
                    value.value
                    for value in table.values
                    if isinstance(value, ast.Constant) and isinstance(value.value, str)
                )
    return found


def import_graph() -> dict[str, set[str]]:
    """Unit -> the other units its modules import."""
    graph: dict[str, set[str]] = {}
    for path in sorted(SOURCE.rglob("*.py")):
        unit = unit_of(_module_name(path)[0])
        assert unit is not None
        targets = {unit_of(module) for module in imported(path)}
        graph.setdefault(unit, set()).update(
            target for target in targets if target is not None and target != unit
        )
    return graph


def _path(graph: Graph, start: str, goal: str) -> list[str] | None:
    """A shortest import path from ``start`` to ``goal`` (breadth first), or ``None``."""
    came_from: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for target in sorted(graph.get(node, ())):
            if target in came_from:
                continue
            came_from[target] = node
            if target == goal:
                path = [goal]
                while (previous := came_from[path[-1]]) is not None:
                    path.append(previous)
                return path[::-1]
            queue.append(target)
    return None


def cycles_between(graph: Graph, packages: AbstractSet[str]) -> Iterator[list[str]]:
    """One import cycle for each pair of ``packages`` that import each other in a circle.

    The cycle goes from the first package to the second and back, through any units.
    """
    ordered = sorted(packages)
    for index, first in enumerate(ordered):
        for second in ordered[index + 1 :]:
            there = _path(graph, first, second)
            back = _path(graph, second, first)
            if there is not None and back is not None:
                yield [*there, *back[1:]]


def without(graph: Graph, left_out: AbstractSet[str]) -> dict[str, set[str]]:
    """The graph without the units ``left_out`` (and every import of them)."""
    return {
        unit: {target for target in targets if target not in left_out}
        for unit, targets in graph.items()
        if unit not in left_out
    }


def test_the_cycle_finder_finds_a_loop_through_a_single_module() -> None:
    graph = {
        "suitekit.reporting": {"suitekit.flaky"},
        "suitekit.flaky": {"suitekit._runner"},
        "suitekit._runner": {"suitekit.reporting", "suitekit.plan"},
        "suitekit.sharding": {"suitekit.plan"},
    }

    found = list(cycles_between(graph, {"suitekit.flaky", "suitekit.reporting", "suitekit.plan"}))

    assert found == [
        ["suitekit.flaky", "suitekit._runner", "suitekit.reporting", "suitekit.flaky"],
    ]
    assert list(cycles_between(without(graph, {"suitekit._runner"}), set(PACKAGES))) == []


def test_the_graph_maps_imports_to_packages_and_single_modules() -> None:
    graph = import_graph()

    assert "suitekit._runner" in graph["suitekit.flaky"]  # from suitekit._runner import Runner
    assert "suitekit.plan" in graph["suitekit.flaky"]  # from suitekit import plan
    assert "suitekit.sharding" in graph["suitekit.reporting"]  # the lazy re-export table
    assert "suitekit.reporting" not in graph["suitekit.reporting"]


def test_no_import_cycle_between_the_packages() -> None:
    graph = import_graph()

    found = list(cycles_between(graph, set(PACKAGES)))

    assert found == [], "import cycles between packages:\n" + "\n".join(
        " -> ".join(cycle) for cycle in found
    )


def test_no_import_cycle_between_any_two_units() -> None:
    # Every package and every single module: the import direction of STYLE.md, with no loop.
    graph = import_graph()

    found = list(cycles_between(graph, set(graph)))

    assert found == [], "import cycles:\n" + "\n".join(" -> ".join(c) for c in found)


def test_no_module_of_reporting_imports_flaky() -> None:
    reporting = SOURCE / "reporting"

    importing = {
        path.name
        for path in sorted(reporting.glob("*.py"))
        if any(unit_of(module) == "suitekit.flaky" for module in imported(path))
    }

    assert importing == set()


LIBRARIES: Final[Mapping[str, tuple[str, ...]]] = {
    "nox": ("nox.py",),
    "invoke": ("invoke.py",),
    "pytest": ("pytest_plugin/",),
    "_pytest": ("pytest_plugin/",),
    "xdist": ("pytest_plugin/",),
    "pytest_django": ("pytest_plugin/",),
    "psycopg": ("services/_pgwire.py",),
    "redis": ("services/_redis.py",),
    "pymysql": ("services/_mysql.py",),
    "coverage": ("reporting/_coverage.py",),
    # Django runs inside a Django suite's test processes: its database work, and the plugin's.
    "django": ("services/_django.py", "pytest_plugin/_django.py"),
}
"""Each third-party library and the one module (or package) that may import it."""


def test_each_library_is_imported_in_one_place() -> None:
    found: dict[str, set[str]] = {}
    for path in sorted(SOURCE.rglob("*.py")):
        where = path.relative_to(SOURCE).as_posix()
        for module in imported(path):
            library = module.split(".")[0]
            if library in LIBRARIES and not where.startswith(LIBRARIES[library]):
                found.setdefault(library, set()).add(where)

    assert found == {}


def test_a_package_is_entered_only_through_its_init() -> None:
    # STYLE: a package's modules are its own; others import it through its __init__, whose
    # lazy table (suitekit._lazy.exports) loads the module on first use, so this costs nothing.
    packages = {path.parent.name for path in SOURCE.glob("*/__init__.py")}
    found = []
    for path in sorted(SOURCE.rglob("*.py")):
        own = path.relative_to(SOURCE).parts[0]
        for module in sorted(imported(path)):
            parts = module.split(".")
            if (
                len(parts) > 2  # suitekit.<package>.<module>
                and parts[0] == "suitekit"
                and parts[1] in packages
                and parts[1] != own
                and parts[2].startswith("_")
            ):
                found.append(f"{path.relative_to(SOURCE)} imports {module}")

    assert found == []
