"""Fixtures for every layer of suitekit's tests."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Final, NoReturn

import pytest

if TYPE_CHECKING:
    import xmlschema

XSD_MEMBER: Final = "testing/example_scripts/junit-10.xsd"
"""pytest's own JUnit schema, as its tests use it, inside pytest's source distribution."""


@pytest.fixture(autouse=True)
def _no_outer_suitekit_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hide the variables of the suitekit run that runs these tests from the runs they start.

    suitekit's own suites run under suitekit, which sets SUITEKIT_* for the session (worker
    counts and their origin); pytester runs in-process and subprocesses would otherwise see them.
    """
    for name in list(os.environ):
        if name.startswith("SUITEKIT_"):
            monkeypatch.delenv(name)


def _unavailable(reason: str) -> NoReturn:
    """Fail on CI (the schema check must run there), skip elsewhere (e.g. offline)."""
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def _download_command(version: str, folder: Path) -> list[str]:
    args = ["download", "--no-deps", "--no-binary", ":all:", f"pytest=={version}", "-d"]
    if importlib.util.find_spec("pip") is None:
        # The session virtualenvs that uv creates have no pip; uv runs one for the download.
        from uv import find_uv_bin  # noqa: PLC0415 - uv is a dependency of suitekit

        return [find_uv_bin(), "tool", "run", "pip", *args, str(folder)]
    return [sys.executable, "-m", "pip", "-q", *args, str(folder)]


def _schema_from_sdist(folder: Path) -> bytes:
    """Download the sdist of the running pytest into ``folder``; its JUnit schema's bytes."""
    command = _download_command(pytest.__version__, folder)
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        _unavailable(f"cannot download pytest's sdist: {error}")
    if done.returncode != 0:
        _unavailable(f"cannot download pytest's sdist:\n{done.stdout}\n{done.stderr}")
    for archive in folder.glob("pytest-*.tar.gz"):
        with tarfile.open(archive) as tar:
            for member in tar.getmembers():
                if member.name.endswith(f"/{XSD_MEMBER}"):
                    source = tar.extractfile(member)
                    if source is not None:
                        return source.read()
    _unavailable(f"no {XSD_MEMBER} in pytest's sdist in {folder}")


@pytest.fixture(scope="session")
def junit_schema(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> xmlschema.XMLSchema:
    """pytest's JUnit schema, from the sdist of the pytest that runs these tests.

    The download (pip prepares the sdist's metadata, in a build environment of its own) takes
    seconds, in every xdist worker of every suite that validates JUnit files. The schema is kept
    in pytest's cache folder, one file per pytest version, so that it is downloaded once per
    checkout and pytest version.
    """
    try:
        import xmlschema  # noqa: PLC0415 - a test dependency, needed by this fixture only
    except ImportError:
        _unavailable("xmlschema is not installed (it is in the `test` dependency group)")
    kept = None
    cache: pytest.Cache | None = getattr(request.config, "cache", None)  # -p no:cacheprovider
    if cache is not None:
        kept = cache.mkdir("junit-schema") / f"pytest-{pytest.__version__}.xsd"
        if kept.is_file():
            return xmlschema.XMLSchema(str(kept))
    folder = tmp_path_factory.mktemp("pytest-sdist")
    schema = folder / "junit-10.xsd"
    schema.write_bytes(_schema_from_sdist(folder))
    if kept is not None:
        # Written whole under another name, then renamed: another xdist worker may be reading.
        partial = kept.with_name(f"{kept.name}.{os.getpid()}.tmp")
        partial.write_bytes(schema.read_bytes())
        partial.replace(kept)
    return xmlschema.XMLSchema(str(schema))


@pytest.fixture
def valid(junit_schema: xmlschema.XMLSchema) -> Callable[[Path], None]:
    """Assert that a file is valid against pytest's JUnit schema."""

    def check(path: Path) -> None:
        junit_schema.validate(str(path))

    return check
