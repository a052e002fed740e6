"""Each suite session keeps its temporary folders under a root of its own.

pytest's sessions share one root per user, and each deletes the others' old folders as it ends:
two sessions ending at once (as ``inv test.all --parallel`` runs them) can warn ``(rm_rf) error
removing``, which fails a project that turns warnings into errors. These runs are real
subprocesses without ``--basetemp`` (pytester gives its runs one, which is what is under test),
with ``TMPDIR`` in the test's folder.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import stat
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Final

import pytest

SUITES: Final = """
[tool.suitekit]
tests = ["tests"]

[tool.suitekit.suites.alpha]
paths = ["tests/alpha"]
workers = 0

[tool.suitekit.suites.beta]
paths = ["tests/beta"]
"""

# Each test says where its tmp_path is, in a file named after the test's suite and worker.
WRITES_ITS_FOLDER: Final = """
import os
from pathlib import Path

def test_writes(tmp_path):
    # suitekit sets it only while pytest reads it: what a test sees is the user's own.
    assert os.environ.get("PYTEST_DEBUG_TEMPROOT") == os.environ.get("USERS_TEMPROOT")
    (tmp_path / "data.txt").write_text("x")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    seen = Path(os.environ["SEEN"]) / f"{suite}-{{worker}}-{test}.txt"
    seen.write_text(str(tmp_path))
"""

PYTHON: Final = f"py{sys.version_info.major}.{sys.version_info.minor}"


@pytest.fixture
def temp(
    pytester: pytest.Pytester,
    write_pyproject: Callable[[str], Path],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    """A two-suite project, and the system temporary folder its runs see (``TMPDIR``)."""
    write_pyproject(SUITES)
    for suite, tests in (("alpha", 1), ("beta", 4)):
        for number in range(tests):
            body = WRITES_ITS_FOLDER.format(suite=suite, test=number)
            pytester.makepyfile(**{f"tests/{suite}/test_{suite}{number}": body})
    folder = tmp_path_factory.mktemp("system-tmp")
    (pytester.path / "seen").mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setenv("SEEN", str(pytester.path / "seen"))
    monkeypatch.delenv("PYTEST_DEBUG_TEMPROOT", raising=False)
    monkeypatch.delenv("USERS_TEMPROOT", raising=False)
    for name in [name for name in os.environ if name.startswith("PYTEST_XDIST_")]:
        monkeypatch.delenv(name)  # this test's own worker's: the runs below name theirs
    return folder


def _pytest(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """pytest in a subprocess, as a session runs it: no ``--basetemp``."""
    return pytester.run(sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args)


def _seen(pytester: pytest.Pytester, prefix: str) -> list[Path]:
    return [Path(path.read_text()) for path in sorted((pytester.path / "seen").glob(prefix))]


def _project_root(temp: Path, pytester: pytest.Pytester) -> Path:
    base = temp / f"suitekit-{os.geteuid()}-pytest"
    (project,) = base.iterdir()
    assert project.name.startswith(f"{pytester.path.name[:40]}-"), project
    return project


def test_each_suite_session_has_a_root_of_its_own_and_keeps_its_last_sessions(
    pytester: pytest.Pytester, temp: Path
) -> None:
    # What a session of a project since deleted left, two hours ago: the first session here
    # removes it.
    deleted = str(temp.parent / "deleted")
    digest = hashlib.sha256(deleted.encode()).hexdigest()[:12]
    stale = temp / f"suitekit-{os.geteuid()}-pytest" / f"deleted-{digest}"
    for folder in (stale.parent, stale, stale / f"alpha-{PYTHON}"):
        folder.mkdir(mode=0o700)
    (stale / "project").write_text(deleted)
    hours_ago = time.time() - 7200
    os.utime(stale, (hours_ago, hours_ago))
    for _ in range(2):
        alpha = _pytest(pytester, "--suitekit-suite=alpha")
        assert alpha.ret == pytest.ExitCode.OK, alpha.stdout.str()
    beta = _pytest(pytester, "--suitekit-suite=beta", "-n", "2")
    assert beta.ret == pytest.ExitCode.OK, beta.stdout.str()

    assert not stale.exists()
    project = _project_root(temp, pytester)
    user = f"pytest-of-{getpass.getuser()}"
    alpha_root = project / f"alpha-{PYTHON}" / user
    beta_root = project / f"beta-{PYTHON}" / user
    (folder,) = _seen(pytester, "alpha-main-*")
    assert folder.is_relative_to(alpha_root / "pytest-1"), folder
    assert (alpha_root / "pytest-0").is_dir()  # pytest still keeps the earlier session's
    # xdist's workers take theirs under the controller's, as xdist gives them.
    folders = _seen(pytester, "beta-gw*")
    assert len(folders) == 4
    assert all(path.is_relative_to(beta_root / "pytest-0") for path in folders), folders
    assert {path.relative_to(beta_root / "pytest-0").parts[0] for path in folders} <= {
        "popen-gw0",
        "popen-gw1",
    }
    # Only this user may enter any of them; pytest's shared root was never made.
    for path in (project.parent, project, alpha_root.parent, beta_root.parent):
        assert stat.S_IMODE(path.lstat().st_mode) == 0o700, path
    assert not (temp / user).exists()


def test_a_run_without_a_suite_keeps_pytests_own_root(
    pytester: pytest.Pytester, temp: Path
) -> None:
    result = _pytest(pytester, "tests/alpha")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    (folder,) = _seen(pytester, "alpha-*")
    assert folder.is_relative_to(temp / f"pytest-of-{getpass.getuser()}"), folder
    assert not (temp / f"suitekit-{os.geteuid()}-pytest").exists()


def test_a_run_that_runs_no_test_makes_no_root(pytester: pytest.Pytester, temp: Path) -> None:
    result = _pytest(pytester, "--suitekit-suite=alpha", "--collect-only", "-q")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    assert not (temp / f"suitekit-{os.geteuid()}-pytest").exists()


@pytest.mark.parametrize("given", ["--basetemp", "PYTEST_DEBUG_TEMPROOT"])
def test_a_folder_the_user_gives_is_kept(
    pytester: pytest.Pytester,
    temp: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
    given: str,
) -> None:
    mine = tmp_path_factory.mktemp("mine")
    args = ["--suitekit-suite=alpha"]
    if given == "--basetemp":
        args.append(f"--basetemp={mine}")
    else:
        monkeypatch.setenv(given, str(mine))
        monkeypatch.setenv("USERS_TEMPROOT", str(mine))
    result = _pytest(pytester, *args)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    (folder,) = _seen(pytester, "alpha-*")
    assert folder.is_relative_to(mine), folder
    assert not (temp / f"suitekit-{os.geteuid()}-pytest").exists()


def test_a_planted_link_is_refused_by_name_and_nothing_is_written_through_it(
    pytester: pytest.Pytester, temp: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    link = temp / f"suitekit-{os.geteuid()}-pytest"
    link.symlink_to(elsewhere)

    result = _pytest(pytester, "--suitekit-suite=alpha")

    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()
    output = result.stdout.str() + result.stderr.str()
    assert f"suitekit: {link}: " in output, output
    assert "symbolic link" in output, output
    assert "fix: remove it" in output, output
    assert list(elsewhere.iterdir()) == []
    assert _seen(pytester, "*") == []
