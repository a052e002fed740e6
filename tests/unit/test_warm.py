"""A warm session's record, and when the runner may start the session's pytest without nox."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pytest

from suitekit import _install, _warm
from suitekit._model import Project
from suitekit._runner._direct import direct
from suitekit.config import load_project
from suitekit.plan import jobs

PYPROJECT = """\
[project]
name = "demo"
version = "0.1"

[dependency-groups]
test = ["pytest"]

[tool.suitekit]
python = ["3.11"]
install = { project = false, groups = ["test"] }

[tool.suitekit.suites.unit]
paths = ["tests"]
workers = 0

[tool.suitekit.checks]
lint = { run = ["ruff check .", "ruff format --check ."] }
hello = "python -c 'print(42)'"
"""

ARGS = ("pytest", "suitekit==1.0")


@pytest.fixture
def project(tmp_path: Path) -> Project:
    (tmp_path / "tests").mkdir()
    (tmp_path / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    (tmp_path / "noxfile.py").write_text("import suitekit.nox\n", encoding="utf-8")
    return load_project(tmp_path)


def edited(project: Project, old: str, new: str) -> Project:
    """The project again, after its pyproject.toml had ``old`` replaced by ``new``."""
    pyproject = project.root / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(text.replace(old, new), encoding="utf-8")
    return load_project(project.root)


def warm_record(
    project: Project,
    session: str = "unit-3.11",
    spec_of: str = "unit",
    programs: tuple[str, ...] = ("python",),
) -> _warm.Warm:
    """A record as the session writes it, for a virtualenv whose marker is current."""
    venv = project.root / ".nox" / session.replace(".", "-")
    (venv / "bin").mkdir(parents=True)
    for name in programs:
        program = venv / "bin" / name
        program.write_text("#!/bin/sh\n", encoding="utf-8")
        program.chmod(0o755)
    spec = project.suite(spec_of).install if spec_of == "unit" else project.check(spec_of).install
    fingerprint = _install.fingerprint(project, spec, ARGS)
    assert fingerprint is not None
    _install.record(venv, fingerprint)
    digest = _warm.noxfile_digest(project)
    assert digest is not None
    warm = _warm.Warm(
        root=project.root,
        session=session,
        python="3.11",
        venv=venv,
        bin=(str(venv / "bin"),),
        venv_env={
            "VIRTUAL_ENV": str(venv),
            "UV_PYTHON": str(venv),
            "NOX_CURRENT_SESSION": session,
            "CONDA_PREFIX": None,
            "PYTHONHOME": None,
        },
        spec=repr(spec),
        args=ARGS,
        fingerprint=fingerprint,
        noxfile=digest,
    )
    _warm.save(project, warm)
    return warm


def test_a_record_reads_back_as_written(project: Project) -> None:
    warm = warm_record(project)
    assert _warm.load(project, "unit-3.11") == warm
    assert _warm.usable(project, warm, project.suite("unit").install, {})
    record = project.root / ".suitekit" / "sessions" / "unit-3.11.json"
    assert record.stat().st_mode & 0o077 == 0  # the user's own


def test_no_record_a_broken_one_or_a_link_means_nox(project: Project, tmp_path: Path) -> None:
    assert _warm.load(project, "unit-3.11") is None
    warm_record(project)
    record = project.root / ".suitekit" / "sessions" / "unit-3.11.json"
    document = json.loads(record.read_text(encoding="utf-8"))
    for broken in ("{", "[]", json.dumps({**document, "version": 2}), json.dumps({"version": 1})):
        record.write_text(broken, encoding="utf-8")
        assert _warm.load(project, "unit-3.11") is None
    # A record of another session under this session's name.
    record.write_text(json.dumps({**document, "session": "slow-3.11"}), encoding="utf-8")
    assert _warm.load(project, "unit-3.11") is None
    # A link someone planted, to a record that reads well.
    planted = tmp_path / "planted.json"
    planted.write_text(json.dumps(document), encoding="utf-8")
    record.unlink()
    record.symlink_to(planted)
    assert _warm.load(project, "unit-3.11") is None


def test_anything_that_would_change_the_session_sends_it_through_nox(project: Project) -> None:
    warm = warm_record(project)
    spec = project.suite("unit").install
    assert _warm.usable(project, warm, spec, {"SUITEKIT_VIA_NOX": "0"})
    # Asked for: nox, or a reinstall.
    assert not _warm.usable(project, warm, spec, {"SUITEKIT_VIA_NOX": "1"})
    assert not _warm.usable(project, warm, spec, {"SUITEKIT_REINSTALL": "1"})
    # Another install spec than the recorded one.
    other = dataclasses.replace(spec, groups=("test", "lint"))
    assert not _warm.usable(project, warm, other, {})
    # The virtualenv installed since by something else (its marker changed).
    _install.record(warm.venv, "0" * 64)
    assert not _warm.usable(project, warm, spec, {})
    _install.record(warm.venv, warm.fingerprint)
    assert _warm.usable(project, warm, spec, {})
    # The noxfile edited since.
    noxfile = project.root / "noxfile.py"
    noxfile.write_text("import suitekit.nox\nsuitekit.nox.register()\n", encoding="utf-8")
    assert not _warm.usable(project, warm, spec, {})


def test_a_dependency_change_sends_it_through_nox(project: Project) -> None:
    warm = warm_record(project)
    changed = edited(project, 'test = ["pytest"]', 'test = ["pytest", "iniconfig"]')
    assert not _warm.usable(changed, warm, changed.suite("unit").install, {})


def test_a_warm_suite_job_runs_the_sessions_pytest_in_its_virtualenv(project: Project) -> None:
    warm = warm_record(project)
    (job,) = jobs(project, checks=[])
    environ = {"PATH": "/usr/bin", "PYTHONHOME": "/elsewhere", "KEEP": "1"}
    found = direct(job, project, environ)
    assert found is not None
    assert found.argv[0] == str(warm.venv / "bin" / "python")
    assert found.argv[1:3] == ("-m", "pytest")
    assert "--suitekit-suite=unit" in found.argv
    assert found.env["PATH"] == f"{warm.venv / 'bin'}{os.pathsep}/usr/bin"
    assert found.env["VIRTUAL_ENV"] == str(warm.venv)
    assert found.env["NOX_CURRENT_SESSION"] == "unit-3.11"
    assert found.env["KEEP"] == "1"
    assert "PYTHONHOME" not in found.env  # nox removes it for a virtualenv's commands
    assert found.junit == project.root / ".suitekit" / "reports" / "junit" / "unit-3.11.xml"
    assert found.records_durations
    assert "without nox" in found.header
    # Posargs after -- go to pytest, as nox passes them.
    (with_args,) = jobs(project, checks=[], posargs=["-k", "isbn"])
    found = direct(with_args, project, environ)
    assert found is not None
    assert found.argv[-2:] == ("-k", "isbn")
    # Without a project (no record to read), or with a cold virtualenv: nox.
    assert direct(job, None, environ) is None
    _install.forget(warm.venv)
    assert direct(job, project, environ) is None


def test_a_warm_check_runs_its_commands_one_after_another(project: Project) -> None:
    lint_record = warm_record(project, "lint", "lint", programs=("python", "ruff"))
    hello = warm_record(project, "hello", "hello")
    by_name = {job.session: job for job in jobs(project, suites=[])}
    lint = direct(by_name["lint"], project, {"PATH": "/usr/bin"})
    assert lint is not None
    ruff = lint_record.venv / "bin" / "ruff"
    assert lint.argv == ("/bin/sh", "-c", f"{ruff} check . && {ruff} format --check .")
    assert lint.junit is None
    assert not lint.records_durations
    assert lint.env["SUITEKIT_RUN_ID"]
    single = direct(by_name["hello"], project, {"PATH": "/usr/bin", "SUITEKIT_RUN_ID": "r1"})
    assert single is not None
    assert single.argv == (str(hello.venv / "bin" / "python"), "-c", "print(42)")
    assert single.env["SUITEKIT_RUN_ID"] == "r1"


def test_a_program_outside_the_virtualenv_or_arguments_leave_a_check_to_nox(
    project: Project,
) -> None:
    warm_record(project, "lint", "lint")  # no ruff in it: nox's rules for programs outside
    by_name = {job.session: job for job in jobs(project, suites=[])}
    assert direct(by_name["lint"], project, {"PATH": "/usr/bin"}) is None
    warm_record(project, "hello", "hello")
    hello = dataclasses.replace(by_name["hello"], command=(*by_name["hello"].command, "--", "x"))
    assert direct(hello, project, {"PATH": "/usr/bin"}) is None


def test_a_record_only_its_owner_may_write_is_read(project: Project) -> None:
    warm_record(project)
    record = project.root / ".suitekit" / "sessions" / "unit-3.11.json"
    record.chmod(0o666)
    assert _warm.load(project, "unit-3.11") is None
    record.chmod(0o600)
    assert _warm.load(project, "unit-3.11") is not None
    record.parent.chmod(0o777)
    try:
        assert _warm.load(project, "unit-3.11") is None
    finally:
        record.parent.chmod(0o700)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"bin": ("/usr/local/bin",)}, id="a-bin-outside-the-virtualenv"),
        pytest.param({"venv_env": {"LD_PRELOAD": "/tmp/x.so"}}, id="a-variable-not-noxs"),
        pytest.param({"venv_env": {"VIRTUAL_ENV": "/elsewhere"}}, id="another-virtualenv"),
        pytest.param({"root": Path("/elsewhere")}, id="another-project-folder"),
    ],
)
def test_a_record_that_points_elsewhere_is_not_used(
    project: Project, change: dict[str, object]
) -> None:
    warm = dataclasses.replace(warm_record(project), **change)  # type: ignore[arg-type]
    assert not _warm.usable(project, warm, project.suite("unit").install, {})


def test_a_virtualenv_outside_the_projects_nox_or_without_its_python_is_not_used(
    project: Project,
) -> None:
    warm = warm_record(project)
    spec = project.suite("unit").install
    python = warm.venv / "bin" / "python"
    python.unlink()
    python.symlink_to(project.root / "gone" / "python3.11")  # its Python was removed
    assert not _warm.usable(project, warm, spec, {})
    python.unlink()
    python.write_text("#!/bin/sh\n", encoding="utf-8")
    python.chmod(0o755)
    assert _warm.usable(project, warm, spec, {})
    moved = project.root / "venvs" / warm.venv.name
    moved.parent.mkdir()
    warm.venv.rename(moved)
    elsewhere = dataclasses.replace(
        warm, venv=moved, bin=(str(moved / "bin"),), venv_env={"VIRTUAL_ENV": str(moved)}
    )
    assert not _warm.usable(project, elsewhere, spec, {})


def test_a_record_of_another_python_leaves_the_job_to_nox(project: Project) -> None:
    warm = warm_record(project)
    (job,) = jobs(project, checks=[])
    forced = dataclasses.replace(warm, python="3.12")  # nox --force-python 3.12 -s unit-3.11
    _warm.save(project, forced)
    assert direct(job, project, {"PATH": "/usr/bin"}) is None


def test_a_suite_under_coverage_runs_the_virtualenvs_coverage(project: Project) -> None:
    measured = edited(project, "[tool.suitekit]\n", '[tool.suitekit]\nsource = ["src"]\n')
    (job,) = jobs(measured, checks=[])
    warm = warm_record(measured)  # a virtualenv without coverage: the session's nox decides
    assert direct(job, measured, {"PATH": "/usr/bin"}) is None
    coverage = warm.venv / "bin" / "coverage"
    coverage.write_text("#!/bin/sh\n", encoding="utf-8")
    coverage.chmod(0o755)
    found = direct(job, measured, {"PATH": "/usr/bin"})
    assert found is not None
    assert found.argv[:2] == (str(coverage), "run")
    rcfile = found.argv[2].removeprefix("--rcfile=")
    assert Path(rcfile).is_file()  # written, as the session writes it before its pytest
    assert found.argv[3:6] == ("-m", "pytest", "--suitekit-suite=unit")
