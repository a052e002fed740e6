"""``suitekit flaky`` on Vitest and Jest suites through real nox: the runners' own seeded
shuffles find an order-dependent test, name the seeds it failed with and the command that
repeats the failure; a suite without order dependence has no flaky test."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from tests.e2e import test_jest, test_runners
from tests.e2e.helpers import npm_installed

FLAKY = Path(".suitekit/reports/flaky")
FAST = {"SLOW_MS": "10"}  # the fixtures' slow test waits that long

# Module state that one test sets and another expects unset: the second fails exactly when a
# shuffle runs the first before it (both runners run a file's tests in one module instance).
ORDER_TEST = """\
{imports}let polluted = false;

{it}("pollutes the shared state", () => {{
  polluted = true;
  expect(polluted).toBe(true);
}});

{it}("expects a clean state", () => {{
  expect(polluted).toBe(false);
}});

{it}("does not care", () => {{
  expect(1 + 1).toBe(2);
}});
"""

# The fixture's frontend runs as suite 'frontend' (its 7 tests, no order dependence); suite
# 'web' is the order-dependent file beside them, in the same folder.
WEB_SUITE = """
[tool.suitekit.suites.web]
runner = "vitest"
cwd = "frontend"
paths = ["order"]
workers = 2
"""


@pytest.fixture(scope="session")
def installed_frontend(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Vitest fixture with its node_modules, installed once by `npm ci`."""
    return npm_installed(test_runners.FIXTURE, tmp_path_factory.mktemp("vt") / "frontend", "vitest")


@pytest.fixture(scope="session")
def installed_jest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Jest fixture with its node_modules, installed once by `npm ci`."""
    return npm_installed(test_jest.FIXTURE, tmp_path_factory.mktemp("jt") / "web", "jest")


def _runs_line(out: str, number: int) -> str:
    found = re.search(rf"^  run {number}: .*$", out, re.MULTILINE)
    assert found is not None, out
    return found.group(0)


def test_vitest_shuffles_find_the_order_dependent_test_and_its_seed(
    tmp_path: Path, installed_frontend: Path
) -> None:
    project = test_runners._project(tmp_path / "demo", installed_frontend)
    with (project.root / "pyproject.toml").open("a", encoding="utf-8") as config:
        config.write(WEB_SUITE)
    project.write(
        "frontend/order/order.test.js",
        ORDER_TEST.format(imports='import { expect, it } from "vitest";\n\n', it="it"),
    )
    victim = "order/order.test.js::expects a clean state"

    # Vitest's shuffle is a function of the seed alone (checked with 4.1 at 1, 2 and 3
    # workers): seed 1 runs the polluter before the victim, seeds 2 and 3 do not.
    result = project.run("suitekit", "flaky", "web", "--runs", "3", "--seed", "1", env=FAST)

    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    assert "suitekit flaky: suite 'web' (web-3.11), 3 runs: 1 of 3 tests are flaky" in out, out
    row = re.search(rf"^{re.escape(victim)}\s+(.*)$", out, re.MULTILINE)
    assert row is not None, out
    assert row.group(1).split() == ["FAILED", "passed", "passed"], out
    assert _runs_line(out, 1) == "  run 1: 1 worker, seed 1: 2 passed, 1 failed", out
    assert _runs_line(out, 2) == "  run 2: 2 workers, seed 2: 3 passed", out
    assert _runs_line(out, 3).startswith("  run 3: "), out  # as many workers as the CPUs
    repeat = (
        "SUITEKIT_WORKERS=1 nox -s web-3.11 -- --sequence.shuffle --sequence.seed=1 "
        "--suitekit-retries=0"
    )
    assert f"  {victim}: expected true to be false" in out, out
    assert f"    run 1: {repeat}\n" in out, out
    assert (
        "causes: not searched (vitest cannot replay a given order of tests, only shuffle a "
        f"whole run by a seed); repeat a failing run with its command above:\n"
        f"  {victim}: failed in run 1 (seed 1)"
    ) in out, out
    assert out.rstrip().endswith("suitekit flaky: 1 flaky test(s) in suite 'web'"), out
    kept = sorted(path.name for path in (project.root / FLAKY / "web").glob("run-*.xml"))
    assert kept == ["run-1.xml", "run-2.xml", "run-3.xml"]

    # The printed command repeats the failure.
    variable, *argv = shlex.split(repeat)
    name, value = variable.split("=")
    again = project.run(*argv, env={name: value, **FAST})
    assert again.returncode == 1, again.stdout + again.stderr
    assert "expects a clean state" in again.stdout + again.stderr

    # The same folder without the order-dependent file: the same outcomes in every run.
    calm = project.run("suitekit", "flaky", "frontend", "--runs", "2", "--seed", "1", env=FAST)
    assert calm.returncode == 0, calm.stdout + calm.stderr
    assert (
        "suitekit flaky: suite 'frontend' (frontend-3.11), 2 runs: no flaky test among 7"
    ) in calm.stdout
    assert "  run 2: 2 workers, seed 2: 7 passed" in calm.stdout
    assert calm.stdout.rstrip().endswith(
        "suitekit flaky: suite 'frontend' gave the same outcomes in all runs"
    )

    # A command has no seeded order: refused, saying why and what to do.
    tool = project.run("suitekit", "flaky", "tool")
    assert tool.returncode == 2, tool.stdout + tool.stderr
    assert "tool.suitekit.suites.tool.runner" in tool.stderr
    assert "suite 'tool' runs command, which has no seeded test order" in tool.stderr
    assert "search a suite of pytest, vitest, jest (this project's: unit, frontend, web)" in (
        tool.stderr
    )


def test_jest_randomize_finds_the_order_dependent_test_and_its_seed(
    tmp_path: Path, installed_jest: Path
) -> None:
    project = test_jest._project(tmp_path / "demo", installed_jest)
    project.write("web/src/order.test.js", ORDER_TEST.format(imports="", it="test"))
    victim = "src/order.test.js::expects a clean state"

    # Jest's --randomize is a function of the seed alone: seed 2 runs the polluter before the
    # victim, seed 3 does not.
    result = project.run("inv", "test.flaky", "web", "--runs", "2", "--seed", "2", env=FAST)

    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    assert "suitekit flaky: suite 'web' (web-3.11), 2 runs: 1 of 8 tests are flaky" in out, out
    assert _runs_line(out, 1) == "  run 1: 1 worker, seed 2: 7 passed, 1 failed", out
    assert _runs_line(out, 2) == "  run 2: 2 workers, seed 3: 8 passed", out
    assert (
        "    run 1: SUITEKIT_WORKERS=1 nox -s web-3.11 -- --randomize --seed=2 "
        "--suitekit-retries=0\n"
        "\ncauses: not searched (jest cannot replay a given order of tests, only shuffle a "
        "whole run by a seed); repeat a failing run with its command above:\n"
        f"  {victim}: failed in run 1 (seed 2)"
    ) in out, out
