"""A suite named on a command line, looked up with the errors the commands share."""

from __future__ import annotations

from suitekit._model import Project, Suite
from suitekit.errors import ConfigError

__all__ = ["pytest_suite"]


def pytest_suite(project: Project, name: str, *, command: str, purpose: str, fix: str) -> Suite:
    """The suite ``name``, which ``command`` needs pytest to run.

    Args:
        project: The project.
        name: The suite's name, as the user gave it.
        command: The command, for the message (```suitekit shards```).
        purpose: What the command does with pytest's suites (``plans``).
        fix: What to do instead with a suite of another runner.

    Raises:
        ConfigError: There is no such suite, or another runner runs it.
    """
    try:
        suite = project.suite(name)
    except KeyError:
        raise ConfigError(
            file=project.config_file,
            key="tool.suitekit.suites",
            value=name,
            problem=f"there is no suite called {name!r}",
            fix=f"use one of: {', '.join(s.name for s in project.suites)}",
        ) from None
    if suite.runner.kind != "pytest":
        raise ConfigError(
            file=project.config_file,
            key=f"tool.suitekit.suites.{name}.runner",
            value=suite.runner.kind,
            problem=f"suite {name!r} runs {suite.runner.kind}; {command} {purpose} pytest's suites",
            fix=fix,
        )
    return suite
