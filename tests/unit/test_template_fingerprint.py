"""The fingerprint of a kept template: which files count, their order, the exclusions, the name."""

from __future__ import annotations

from pathlib import Path

import pytest

from suitekit import _naming
from suitekit._model import ServiceConfig, SetupStep
from suitekit.errors import ServiceError
from suitekit.services._databases import Kept, keeping, project_mark, rebuilding, template_key
from suitekit.services._fingerprint import (
    KEY_LENGTH,
    TemplateInputs,
    Unkeyable,
    django_inputs,
    listed_files,
    migration_files,
)

CONFIG = ServiceConfig(service="postgres")


def _write(root: Path, relative: str, text: str = "x") -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _project(root: Path) -> None:
    _write(root, "lending/migrations/__init__.py", "")
    _write(root, "lending/migrations/0001_initial.py", "one")
    _write(root, "lending/migrations/0002_more.py", "two")
    _write(root, "lending/migrations/sql/seed.sql", "INSERT")
    _write(root, "lending/models.py", "models")
    _write(root, "shop/migrations/0001_initial.py", "shop")


def test_every_file_of_every_migrations_folder_counts_in_sorted_order(tmp_path: Path) -> None:
    _project(tmp_path)
    _write(tmp_path, "lending/migrations/__pycache__/0001_initial.cpython-311.pyc")
    _write(tmp_path, "lending/migrations/0003_stale.pyc")
    assert migration_files(tmp_path) == (
        "lending/migrations/0001_initial.py",
        "lending/migrations/0002_more.py",
        "lending/migrations/__init__.py",
        "lending/migrations/sql/seed.sql",
        "shop/migrations/0001_initial.py",
    )


@pytest.mark.parametrize(
    "folder",
    [".venv", ".nox", ".git", ".tox", "node_modules", "env/lib/site-packages", "build/__pycache__"],
)
def test_virtualenvs_tool_folders_and_hidden_ones_are_not_walked(
    tmp_path: Path, folder: str
) -> None:
    _project(tmp_path)
    _write(tmp_path, f"{folder}/django/contrib/auth/migrations/0001_initial.py")
    assert all(not path.startswith(folder) for path in migration_files(tmp_path))


def test_a_virtualenv_is_known_by_its_pyvenv_cfg_whatever_its_name(tmp_path: Path) -> None:
    _project(tmp_path)
    _write(tmp_path, "myenv/pyvenv.cfg", "home = /usr")
    _write(tmp_path, "myenv/lib/thing/migrations/0001_initial.py")
    assert all(not path.startswith("myenv") for path in migration_files(tmp_path))


def test_the_key_changes_with_any_input_and_only_then(tmp_path: Path) -> None:
    _project(tmp_path)
    inputs = django_inputs(CONFIG, tmp_path, django="5.2.1", settings="site.settings")
    key = inputs.key(tmp_path)
    assert len(key) == KEY_LENGTH
    assert int(key, 16) >= 0
    # The same inputs, read again: the same key (and a file outside migrations changes nothing).
    _write(tmp_path, "lending/models.py", "changed models")
    again = django_inputs(CONFIG, tmp_path, django="5.2.1", settings="site.settings")
    assert again.key(tmp_path) == key
    others = {
        "django": django_inputs(CONFIG, tmp_path, django="5.2.2", settings="site.settings"),
        "settings": django_inputs(CONFIG, tmp_path, django="5.2.1", settings="site.other"),
        "setup": django_inputs(
            ServiceConfig(service="postgres", setup=(SetupStep(sql="CREATE EXTENSION x"),)),
            tmp_path,
            django="5.2.1",
            settings="site.settings",
        ),
    }
    keys = {name: other.key(tmp_path) for name, other in others.items()}
    keys["role"] = inputs.key(tmp_path, role="ci")  # each role of a server keeps its own
    assert inputs.key(tmp_path, role="") == key
    assert key not in keys.values()
    assert len(set(keys.values())) == len(keys)
    _write(tmp_path, "lending/migrations/0002_more.py", "two, changed")
    assert inputs.key(tmp_path) != key  # contents count
    _write(tmp_path, "lending/migrations/0002_more.py", "two")
    assert inputs.key(tmp_path) == key
    _write(tmp_path, "lending/migrations/0003_new.py", "three")
    added = django_inputs(CONFIG, tmp_path, django="5.2.1", settings="site.settings")
    assert added.key(tmp_path) != key  # a new file counts


def test_a_file_moved_is_another_key_even_with_the_same_contents(tmp_path: Path) -> None:
    first = TemplateInputs(files=("a/migrations/0001.py",))
    second = TemplateInputs(files=("b/migrations/0001.py",))
    _write(tmp_path, "a/migrations/0001.py", "same")
    _write(tmp_path, "b/migrations/0001.py", "same")
    assert first.key(tmp_path) != second.key(tmp_path)


def test_parts_are_length_prefixed_so_shifted_text_does_not_collide(tmp_path: Path) -> None:
    assert TemplateInputs(setup=("cmd:ab", "cmd:c")).key(tmp_path) != TemplateInputs(
        setup=("cmd:a", "cmd:bc")
    ).key(tmp_path)


def test_a_linked_migrations_folder_or_file_is_unkeyable(tmp_path: Path) -> None:
    _project(tmp_path)
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    _write(outside, "0001_initial.py", "planted")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "migrations").symlink_to(outside)
    with pytest.raises(Unkeyable, match="other/migrations is a symbolic link"):
        migration_files(tmp_path)
    (tmp_path / "other" / "migrations").unlink()
    (tmp_path / "lending" / "migrations" / "0009_link.py").symlink_to(outside / "0001_initial.py")
    with pytest.raises(Unkeyable, match=r"lending/migrations/0009_link\.py is a symbolic link"):
        migration_files(tmp_path)


def test_a_linked_folder_elsewhere_is_neither_followed_nor_refused(tmp_path: Path) -> None:
    _project(tmp_path)
    outside = tmp_path.parent / f"{tmp_path.name}-elsewhere"
    _write(outside, "app/migrations/0001_initial.py")
    (tmp_path / "vendored").symlink_to(outside)
    assert all(not path.startswith("vendored") for path in migration_files(tmp_path))


def test_a_file_swapped_for_a_link_after_the_walk_is_refused(tmp_path: Path) -> None:
    _write(tmp_path, "a/migrations/0001.py")
    inputs = TemplateInputs(files=("a/migrations/0001.py",))
    target = _write(tmp_path, "elsewhere.py", "planted")
    (tmp_path / "a/migrations/0001.py").unlink()
    (tmp_path / "a/migrations/0001.py").symlink_to(target)
    with pytest.raises(Unkeyable, match="cannot be read safely"):
        inputs.key(tmp_path)


def test_keep_template_files_are_listed_and_links_among_them_refused(tmp_path: Path) -> None:
    _write(tmp_path, "alembic.ini")
    _write(tmp_path, "migrations/versions/0001.py")
    assert listed_files(tmp_path, ["migrations/**/*.py", "alembic.ini", "none/*"]) == (
        "alembic.ini",
        "migrations/versions/0001.py",
    )
    (tmp_path / "migrations" / "versions" / "0002.py").symlink_to(tmp_path / "alembic.ini")
    with pytest.raises(Unkeyable, match=r"0002\.py is a symbolic link"):
        listed_files(tmp_path, ["migrations/**/*.py"])


def test_a_suite_with_setup_is_keyed_only_when_keep_template_lists_files(tmp_path: Path) -> None:
    _write(tmp_path, "migrations/0001.py")
    setup = (SetupStep(command="alembic upgrade head"),)
    assert template_key(ServiceConfig(service="postgres", setup=setup), tmp_path) is None
    listed = ServiceConfig(service="postgres", setup=setup, keep_template=("migrations/*.py",))
    key = template_key(listed, tmp_path)
    assert key is not None
    assert len(key) == KEY_LENGTH
    off = ServiceConfig(
        service="postgres", setup=setup, keep_template=("migrations/*.py",), keeps_template=False
    )
    assert template_key(off, tmp_path) is None


def test_the_kept_name_is_the_key_behind_sk_tpl_and_a_valid_identifier(tmp_path: Path) -> None:
    _project(tmp_path)
    key = django_inputs(CONFIG, tmp_path, django="5.2", settings="s").key(tmp_path)
    name = _naming.template_name("20261206aaaa", "integration", key)
    assert name == f"sk_tpl_{key}"
    assert len(name) <= 63
    assert name.startswith(_naming.PREFIX)
    # A run's own template is another name, of that run.
    assert _naming.template_name("20261206aaaa", "integration", None) != name


def test_the_project_mark_is_a_digest_of_the_root_folder(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert project_mark(tmp_path / "a") == project_mark(tmp_path / "a" / ".." / "a")
    assert project_mark(tmp_path / "a") != project_mark(tmp_path / "b")
    assert str(tmp_path) not in project_mark(tmp_path / "a")


def test_a_kept_template_is_complete_only_when_marked_so_and_of_the_same_schema() -> None:
    kept = Kept(project="p", suite="integration", key="k", schema="abc")
    assert kept.marks("building") == {
        "kept": "building",
        "suite": "integration",
        "project": "p",
        "key": "k",
        "schema": "abc",
    }
    assert kept.complete(kept.marks("true"))
    assert not kept.complete(kept.marks("building"))
    assert not kept.complete({**kept.marks("true"), "schema": "other"})
    assert Kept(project="p", suite="s", key="k").complete({"kept": "true"})


@pytest.mark.parametrize(
    ("value", "keeps"), [("", True), ("1", True), ("yes", True), ("0", False), ("false", False)]
)
def test_the_environment_can_opt_out(value: str, *, keeps: bool) -> None:
    assert keeping(CONFIG, {"SUITEKIT_KEEP_TEMPLATE": value}) is keeps
    assert not keeping(ServiceConfig(service="postgres", keeps_template=False), {})


def test_a_bad_opt_out_value_says_what_to_write() -> None:
    with pytest.raises(
        ServiceError,
        match=r"SUITEKIT_KEEP_TEMPLATE='maybe' is neither 0 nor 1\n  fix: set "
        r"SUITEKIT_KEEP_TEMPLATE=0 to keep no template in this run, or unset it",
    ):
        keeping(CONFIG, {"SUITEKIT_KEEP_TEMPLATE": "maybe"})


def test_reinstall_rebuilds() -> None:
    assert rebuilding({"SUITEKIT_REINSTALL": "1"})
    assert not rebuilding({})


def _config(tmp_path: Path, value: str) -> Path:
    (tmp_path / "tests").mkdir(exist_ok=True)
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "p"\nversion = "0"\n\n[tool.suitekit]\n\n'
        '[tool.suitekit.suites.integration]\npaths = ["tests"]\nservices = ["postgres"]\n\n'
        f"[tool.suitekit.services.postgres]\nkeep-template = {value}\n"
    )
    return tmp_path


def test_keep_template_false_opts_out_and_true_says_what_to_write(tmp_path: Path) -> None:
    from suitekit.config import load_project  # noqa: PLC0415
    from suitekit.errors import ConfigError  # noqa: PLC0415

    project = load_project(_config(tmp_path, "false"))
    assert project.postgres.keeps_template is False
    assert project.postgres.keep_template == ()
    listed = load_project(_config(tmp_path, '["migrations/*.py"]'))
    assert listed.postgres.keeps_template is True
    assert listed.postgres.keep_template == ("migrations/*.py",)
    with pytest.raises(
        ConfigError,
        match=r"tool\.suitekit\.services\.postgres\.keep-template.*true does not say which "
        r"files(.|\n)*fix: list the files the setup reads(.|\n)*keep-template = false",
    ):
        load_project(_config(tmp_path, "true"))
