"""Mutated configurations load into a Project or fail with a ConfigError: nothing else, ever.

Valid declarations (the shapes of the unit tests' example, of examples/bookshop and of the
service, isolation, CI and quarantine tables) are mutated: values replaced by other types, by
hostile strings (quotes, NUL, line breaks, ``${{``, unicode, unclosed braces), by huge, negative
or non-finite numbers, by deeply nested arrays; keys deleted, unknown keys added, tables
emptied. Each mutant is loaded the way users load it, from pyproject.toml text through
:func:`~suitekit.config.load_project`, and also handed to
:func:`~suitekit.config.parse_project` as a mapping, which reaches values TOML text cannot carry
(integers beyond 4300 digits, nesting past the TOML reader's own limit).
"""

from __future__ import annotations

import copy
import math
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from suitekit import ConfigError, Project
from suitekit.config import load_project, parse_project
from tests.unit.test_config import EXAMPLE

EXAMPLES: Final = 500
"""At least this many mutants per run, whatever Hypothesis profile is loaded (issue 12)."""

FULL: Final = """\
[project]
name = "shop"
version = "1.0"
optional-dependencies = { pg = ["psycopg"] }

[dependency-groups]
test = ["pytest>=8", { include-group = "base" }]
base = ["attrs"]
lint = ["ruff"]

[tool.suitekit]
python = ["3.11", "3.12"]
install = { groups = ["test"], extras = ["pg"], packages = ["rich"] }
source = ["src"]
tests = ["tests"]
reports = "reports"
env = { PYTHONPATH = ".", DJANGO_SETTINGS_MODULE = "shop.settings" }

[tool.suitekit.suites.unit]
paths = ["tests/unit"]
workers = 4
dist = "loadfile"
target-seconds = 10.5
env = { APP_MODE = "test", EMPTY = "" }
pytest-args = "-k 'not slow' --tb=short"
shards = 2
retries = 1
coverage = false

[tool.suitekit.suites.processing]
paths = ["tests/processing"]
marker = "processing and not (slow or db)"
workers = "logical"
python = "3.12"
install = { project = false, groups = ["lint"], requirements = ["requirements.txt"] }

[tool.suitekit.suites.integration]
paths = ["tests/integration"]
services = ["postgres", "redis"]
workers = 0

[tool.suitekit.services.postgres]
url = "postgresql://user:secret@localhost:5432/postgres"
env = { DATABASE_URL = "{url}", PG_HOST = "{host}:{port:>6}" }
setup = ["alembic upgrade head", { sql = "CREATE EXTENSION hstore" }]
keep-template = ["migrations/**/*.py"]

[tool.suitekit.services.redis]
url = "redis://:pw@[::1]:6379/0"
env = ["url", "celery", { CACHE_DB = "{db}" }]

[tool.suitekit.isolation]
dirs = ["MEDIA_ROOT"]
ports = 10
hashseed = 1234

[tool.suitekit.coverage]
fail-under = 92.5

[tool.suitekit.ci]
github = ".github/workflows/tests.yml"
runner = "ubuntu-24.04"
branches = ["main", "release/*"]

[[tool.suitekit.quarantine]]
test = "tests/unit/test_x.py::test_y"
reason = "flaky (issue 7)"
release-after = 3

[tool.suitekit.checks]
lint = "ruff check ."
typecheck = { run = ["mypy src", "mypy tests"], python = "3.12", install = { groups = ["lint"] } }
migrations = { run = "alembic check", services = ["postgres"], env = { X = "1" } }
security = { run = "pip-audit", allow-failure = true }
"""

BOOKSHOP: Final = (
    Path(__file__).parents[2] / "examples" / "bookshop" / "pyproject.toml"
).read_text(encoding="utf-8")

MINIMAL: Final = """\
[tool.suitekit.suites.unit]
marker = "not slow"
"""

BASES: Final = tuple(tomllib.loads(text) for text in (EXAMPLE, FULL, BOOKSHOP, MINIMAL))

HOSTILE_STRINGS: Final = (
    "",
    " ",
    "\0",
    "a\0b",
    "${{ secrets.TOKEN }}",
    "'",
    '"',
    "\\",
    "-k 'unclosed",
    'echo "x',
    "trailing\\",
    "\n",
    "line\nbreak",
    "\r\n",
    "\t",
    "\x7f",
    "\u2028",
    "\x1b[31m",
    "é",
    "😀",
    "Ω≈ç√",
    "((((",
    "not",
    "a and",
    "(a",
    "..",
    "../..",
    "/etc",
    "/dev/zero",
    "tests/../..",
    "pyproject.toml",
    "{",
    "}",
    "{url",
    "{nope}",
    "{url!r}",
    "{url:>99999999}",
    "{port:{url:{host}}}",
    "{netloc}",
    "libpq",
    "libqp",
    "django",
    "sqlalchemy",
    "celery",
    "3.11",
    "3.99t",
    "auto",
    "logical",
    "postgres",
    "redis",
    "tests/unit",
    "reports",
    "test",
    "load",
    "all",
    "postgresql://h:99999/db",
    "postgresql://h:abc/db",
    "redis://[::1/0",
    "redis://:p@h:0/0",
    "A=B",
    "x" * 300,
)

HUGE_EXPONENTS: Final = (19, 400, 5000)
"""Powers of ten beyond 64 bits, beyond a float, beyond Python's 4300-digit str() limit (made
when drawn: Hypothesis prints the choices it offers, and could not print the last one)."""


def huge(exponent: int) -> int:
    return cast("int", 10**exponent)  # int ** int is typed Any (a negative power is a float)


@dataclass(frozen=True)
class Deep:
    """A value nested ``depth`` levels deep (tables and arrays in turn), made only when loaded.

    Kept as a marker in the drawn document so that Hypothesis, and this file's TOML emitter,
    never recurse through thousands of levels themselves.
    """

    depth: int

    def build(self) -> object:
        value: object = "x"
        for level in range(self.depth):
            value = [value] if level % 2 else {"k": value}
        return value

    def toml(self) -> str:
        levels = range(self.depth - 1, -1, -1)  # outermost first
        opening = "".join("[" if level % 2 else '{"k" = ' for level in levels)
        closing = "".join("]" if level % 2 else "}" for level in reversed(levels))
        return f'{opening}"x"{closing}'


def built(value: object) -> Any:
    """``value`` with every :class:`Deep` marker made into the nested value it stands for."""
    if isinstance(value, Deep):
        return value.build()
    if isinstance(value, Mapping):
        return {key: built(item) for key, item in value.items()}
    if isinstance(value, list):
        return [built(item) for item in value]
    return value


leaves = st.one_of(
    st.sampled_from(HOSTILE_STRINGS),
    st.text(max_size=12),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from(HUGE_EXPONENTS).map(huge),
    st.sampled_from(HUGE_EXPONENTS).map(huge).map(int.__neg__),
    st.sampled_from((2**63, -(2**63) - 1)),
    st.integers(min_value=-3, max_value=1100),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from((math.nan, math.inf, -math.inf, -0.0, 1e308, 5e-324)),
    st.booleans(),
    st.sampled_from((1, 5, 17, 40, 400, 3000)).map(Deep),
)


values = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(("paths", "run", "sql", "include-group", "x")), inner),
    ),
    max_leaves=8,
)

keys = st.one_of(
    st.sampled_from(("wokers", "path", "paths ", "", "é", "a.b", "include-group", "run", "env")),
    st.text(max_size=8),
)

Path_ = tuple[str | int, ...]


def positions(document: object, path: Path_ = ()) -> list[Path_]:
    """Every place in ``document`` a mutation may change, outermost first."""
    found = [path]
    if isinstance(document, Mapping):
        for key, value in document.items():
            found += positions(value, (*path, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            found += positions(value, (*path, index))
    return found


def container(document: Any, path: Path_) -> Any:
    for part in path:
        document = document[part]
    return document


@st.composite
def mutants(draw: st.DrawFn) -> dict[str, Any]:
    document: dict[str, Any] = copy.deepcopy(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        places = [p for p in positions(document) if p]
        if not places:
            break  # everything deleted: an empty file is a case too
        # Most of the interest is in [tool.suitekit]; the rest of the file still gets some.
        tool = [p for p in places if len(p) > 2 and p[:2] == ("tool", "suitekit")]
        in_tool = bool(tool) and draw(st.integers(min_value=0, max_value=3)) > 0
        path = draw(st.sampled_from(tool if in_tool else places))
        parent, last = container(document, path[:-1]), path[-1]
        action = draw(st.sampled_from(("replace", "replace", "delete", "add-key", "empty")))
        if action == "replace":
            parent[last] = draw(values)
        elif action == "delete":
            del parent[last]
        elif action == "empty":
            parent[last] = {} if isinstance(parent[last], Mapping) else []
        elif isinstance(parent[last], dict):
            parent[last][draw(keys)] = draw(values)
        else:
            parent[last] = draw(values)
    return document


def toml_string(text: str) -> str:
    escaped = []
    for char in text:
        if char in '"\\':
            escaped.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:  # the control characters
            escaped.append(f"\\u{ord(char):04x}")
        else:
            escaped.append(char)
    return '"' + "".join(escaped) + '"'


def toml_value(value: object) -> str:  # noqa: PLR0911 - one return per TOML type
    """``value`` as one line of TOML (inline tables and arrays: no line breaks)."""
    if isinstance(value, Deep):
        return value.toml()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, int):
        return str(value) if abs(value) < 10**4000 else "1" + "0" * 4400  # str() refuses more
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        items = (f"{toml_string(k)} = {toml_value(v)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    raise TypeError(value)


def toml_document(document: Mapping[str, object]) -> str:
    return "".join(f"{toml_string(k)} = {toml_value(v)}\n" for k, v in document.items())


def test_the_emitter_round_trips_the_bases_and_odd_values() -> None:
    for base in BASES:
        assert tomllib.loads(toml_document(base)) == base
    odd = {"s": "".join(HOSTILE_STRINGS), "n": [-(2**63), 1.5, math.inf], "d": Deep(7)}
    assert tomllib.loads(toml_document(odd)) == built(odd)


@pytest.fixture(scope="module")
def project_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder for every example: loading never writes, so they cannot disturb each other."""
    root = tmp_path_factory.mktemp("fuzz").resolve()
    for folder in ("tests/unit", "tests/integration", "tests/processing", "src", "migrations"):
        (root / folder).mkdir(parents=True)
    (root / "requirements.txt").write_text("attrs\n")
    return root


def outcome(load: Callable[[], Project]) -> str:
    """``"project"`` or ``"config-error"``; any other exception propagates and fails the test."""
    try:
        project = load()
    except ConfigError as error:
        message = str(error)
    else:
        assert isinstance(project, Project)
        return "project"
    assert "\n  fix: " in message, message  # every ConfigError says how to fix it
    return "config-error"


def test_mutated_configs_give_a_project_or_a_config_error(project_root: Path) -> None:
    config_file = project_root / "pyproject.toml"
    seen: dict[str, int] = {"project": 0, "config-error": 0}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(document=mutants())
    def check(document: dict[str, Any]) -> None:
        config_file.write_text(toml_document(document), encoding="utf-8")
        from_text = outcome(lambda: load_project(project_root))
        mapping = built(document)
        from_mapping = outcome(lambda: parse_project(mapping, config_file=config_file))
        seen[from_text] += 1
        seen[from_mapping] += 1

    check()

    # The figure the acceptance asks for, whatever profile is loaded; and both outcomes were
    # reached, so the mutants neither all broke nor all left the config valid.
    assert sum(seen.values()) >= 2 * EXAMPLES, seen
    assert seen["project"] > 0, seen
    assert seen["config-error"] > 0, seen
