"""Bad input to the configuration: a ConfigError naming file, key, value and fix, no traceback.

Regression tests of issue 12, item 6: undecodable or unreadable files, nesting deep enough to
exhaust Python's recursion, NUL bytes, cycles of dependency groups, paths that leave the project,
and URLs with ports no service can use.
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path
from typing import Any, Final

import pytest

from suitekit import ConfigError
from suitekit._cli import main
from suitekit._install import fingerprint
from suitekit._markexpr import MAX_DEPTH, MarkerExpression, MarkerSyntaxError
from suitekit.config import MAX_CONFIG_BYTES, MAX_NESTING, load_project
from suitekit.config import _document as config_module
from tests.unit.test_config import ROOT, assert_well_formed, edited, make_folders, parse

BASE: Final = """\
[project]
name = "shop"
version = "1.0"

[dependency-groups]
test = ["pytest"]

[tool.suitekit]
install = { groups = ["test"] }

[tool.suitekit.suites.unit]
paths = ["tests/unit"]
"""

SUITE: Final = "tool.suitekit.suites.unit"
FIX_NUL: Final = "remove the NUL byte"


def write(root: Path, text: str | bytes) -> Path:
    make_folders(root)
    config_file = root / "pyproject.toml"
    if isinstance(text, bytes):
        config_file.write_bytes(text)
    else:
        config_file.write_text(text, encoding="utf-8")
    return config_file


def load_error(start: Path) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_project(start)
    return caught.value


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path.resolve()


# -- the file itself --------------------------------------------------------------------------


@pytest.mark.parametrize("found", [True, False], ids=["found-from-folder", "named-directly"])
def test_a_byte_that_is_not_utf8_names_line_column_and_offset(root: Path, *, found: bool) -> None:
    text = BASE.encode() + b'marker = "caf\xe9"\n'
    config_file = write(root, text)
    offset = text.index(b"\xe9")

    with pytest.raises(ConfigError, match=r"save the file as UTF-8") as caught:
        load_project(root / "tests" if found else config_file)

    line = BASE.count("\n") + 1
    assert f"byte 0xe9 at line {line}, column 14 (byte offset {offset}) is not UTF-8" in str(
        caught.value
    )
    assert_well_formed(caught.value, file=config_file, key="(file)")


def test_the_command_line_reports_a_bad_byte_with_exit_2_and_no_traceback(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_file = write(root, b"\xff\xfe" + BASE.encode())

    assert main(["--project", str(root), "config"]) == 2  # the usage error's exit code

    err = capsys.readouterr().err
    assert err.startswith(f"suitekit: {config_file}: (file): byte 0xff at line 1, column 1"), err
    assert "Traceback" not in err


def test_an_integer_too_long_for_python_is_a_config_error(root: Path) -> None:
    config_file = write(root, BASE + "target-seconds = 1" + "0" * 5000 + "\n")

    with pytest.raises(ConfigError, match=r"Exceeds the limit .*\n  fix: shorten the number"):
        load_project(config_file)


def test_an_array_nested_3000_deep_is_a_config_error(root: Path) -> None:
    config_file = write(root, BASE + "pytest-args = " + "[" * 3000 + "]" * 3000 + "\n")

    error = load_error(root)

    assert re.search(r"nested hundreds of levels deep\n  fix: flatten the nesting", str(error))
    assert_well_formed(error, file=config_file, key="(file)")


def test_a_folder_in_the_place_of_pyproject_is_refused(root: Path) -> None:
    make_folders(root)
    (root / "pyproject.toml").mkdir()

    error = load_error(root / "tests")

    assert "(file): is a folder, not a regular file" in str(error)
    assert_well_formed(error, file=root / "pyproject.toml", key="(file)")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_fifo_in_the_place_of_pyproject_is_refused_without_blocking(root: Path) -> None:
    make_folders(root)
    os.mkfifo(root / "pyproject.toml")
    errors: list[BaseException] = []

    def load() -> None:
        try:
            load_project(root)
        except BaseException as error:  # noqa: BLE001 - handed to the test's thread
            errors.append(error)

    # A blocking open of a FIFO never returns without a writer: run it where it can be waited on.
    thread = threading.Thread(target=load, daemon=True)
    thread.start()
    thread.join(timeout=10)

    assert not thread.is_alive(), "reading a FIFO pyproject.toml blocked"
    assert len(errors) == 1
    assert isinstance(errors[0], ConfigError)
    assert "is a named pipe (FIFO), not a regular file" in str(errors[0])


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_a_link_to_an_endless_device_is_refused(root: Path) -> None:
    make_folders(root)
    (root / "pyproject.toml").symlink_to("/dev/zero")

    for start in (root, root / "pyproject.toml"):
        error = load_error(start)

        assert "is a character device, not a regular file" in str(error)
        assert "fix: make pyproject.toml a regular file" in str(error)
        assert error.file == root / "pyproject.toml"


def test_a_dangling_link_is_reported_not_walked_past(root: Path) -> None:
    write(root.parent / "outer", BASE)  # must not be taken for this project's file
    make_folders(root)
    (root / "pyproject.toml").symlink_to(root / "gone.toml")

    error = load_error(root)

    assert "(file): cannot be read: No such file or directory" in str(error)
    assert error.file == root / "pyproject.toml"


def test_a_file_larger_than_the_bound_is_refused_unread(root: Path) -> None:
    config_file = write(root, BASE)
    with config_file.open("ab") as stream:
        stream.truncate(MAX_CONFIG_BYTES + 1)  # sparse: quick to make

    error = load_error(config_file)

    assert "(file): is larger than 10 MiB" in str(error)
    assert_well_formed(error, file=config_file, key="(file)")


def test_a_file_at_the_bound_is_read(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config_file = write(root, BASE)
    monkeypatch.setattr(config_module, "MAX_CONFIG_BYTES", len(BASE.encode()))

    assert load_project(config_file).suites[0].name == "unit"
    monkeypatch.setattr(config_module, "MAX_CONFIG_BYTES", len(BASE.encode()) - 1)
    assert "is larger than" in str(load_error(config_file))


# -- marker expressions -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "expression",
    [
        pytest.param("(" * 3000 + "a" + ")" * 3000, id="parentheses"),
        pytest.param("not " * 3000 + "a", id="not"),
        pytest.param("(not " * 1500 + "a" + ")" * 1500, id="mixed"),
    ],
)
def test_a_marker_nested_3000_deep_is_a_config_error(root: Path, expression: str) -> None:
    config_file = write(root, BASE + f'marker = "{expression}"\n')

    error = load_error(root)

    assert re.search(rf"nested more than {MAX_DEPTH} deep .*\.\.\. \(\d+ characters\)", str(error))
    assert_well_formed(error, file=config_file, key=f"{SUITE}.marker")
    assert error.value == expression


def test_the_marker_depth_bound_is_exact() -> None:
    deepest = "(" * MAX_DEPTH + "a" + ")" * MAX_DEPTH

    assert MarkerExpression.compile(deepest).matches({"a"})
    assert MarkerExpression.compile("not " * MAX_DEPTH + "a").matches({"a"})  # an even count
    assert not MarkerExpression.compile("not " * (MAX_DEPTH - 1) + "a").matches({"a"})
    with pytest.raises(MarkerSyntaxError, match=rf"nested more than {MAX_DEPTH} deep"):
        MarkerExpression.compile(f"({deepest})")
    with pytest.raises(MarkerSyntaxError, match=rf"nested more than {MAX_DEPTH} deep"):
        MarkerExpression.compile("not " * (MAX_DEPTH + 1) + "a")


def test_a_long_flat_marker_is_not_limited() -> None:
    expression = " or ".join(f"m{n}" for n in range(5000))

    assert MarkerExpression.compile(expression).matches({"m4999"})


# -- NUL bytes and variable names -------------------------------------------------------------

CHECKS: Final = (*ROOT, "checks")
SUITES: Final = (*ROOT, "suites")


@pytest.mark.parametrize(
    ("path", "value", "key"),
    [
        ((*SUITES, "unit", "env"), {"APP": "a\0b"}, f"{SUITE}.env.APP"),
        ((*CHECKS, "lint"), {"run": "ruff", "env": {"X": "\0"}}, "tool.suitekit.checks.lint.env.X"),
        (
            (*ROOT, "services", "postgres", "env"),
            {"DATABASE_URL": "{url}\0"},
            "tool.suitekit.services.postgres.env.DATABASE_URL",
        ),
        (
            (*ROOT, "services", "redis", "env"),
            {"REDIS_URL": "\0{url}"},
            "tool.suitekit.services.redis.env.REDIS_URL",
        ),
        ((*SUITES, "unit", "pytest-args"), "-k x\0y", f"{SUITE}.pytest-args"),
        ((*SUITES, "unit", "pytest-args"), ["-k", "x\0y"], f"{SUITE}.pytest-args"),
        ((*CHECKS, "lint"), "ruff check\0 .", "tool.suitekit.checks.lint.run"),
        ((*CHECKS, "lint"), ["ruff", "mypy\0"], "tool.suitekit.checks.lint.run"),
        (
            (*ROOT, "services", "postgres", "setup"),
            ["alembic\0"],
            "tool.suitekit.services.postgres.setup",
        ),
        (
            (*ROOT, "services", "postgres", "setup"),
            [{"sql": "SELECT\0"}],
            "tool.suitekit.services.postgres.setup",
        ),
        ((*ROOT, "python"), ["3.12\0"], "tool.suitekit.python"),
        ((*SUITES, "unit", "python"), "3.12\0", f"{SUITE}.python"),
        ((*SUITES, "unit", "paths"), ["tests/unit\0"], f"{SUITE}.paths"),
        ((*ROOT, "tests"), ["tests\0"], "tool.suitekit.tests"),
        ((*ROOT, "reports"), "reports\0", "tool.suitekit.reports"),
        ((*ROOT, "source"), ["src\0"], "tool.suitekit.source"),
        ((*ROOT, "install", "packages"), ["ruff\0"], "tool.suitekit.install.packages"),
        ((*SUITES, "unit", "marker"), "slow\0", f"{SUITE}.marker"),
    ],
)
def test_a_nul_byte_is_refused_wherever_it_would_reach_the_os(
    tmp_path: Path, path: tuple[str, ...], value: object, key: str
) -> None:
    config_file = tmp_path / "pyproject.toml"
    make_folders(tmp_path)

    with pytest.raises(ConfigError, match=rf"holds a NUL byte .*\n  fix: {FIX_NUL}$") as caught:
        parse(edited((path, value)), config_file)

    assert caught.value.key == key
    assert "\\x00" in str(caught.value)  # the value, shown so the byte can be seen


def test_a_nul_byte_written_as_a_toml_escape_is_refused(root: Path) -> None:
    config_file = write(root, BASE + 'env = { APP = "a\\u0000b" }\n')

    error = load_error(root)

    assert_well_formed(error, file=config_file, key=f"{SUITE}.env.APP")
    assert str(error).endswith(
        f"'a\\x00b' holds a NUL byte (\\u0000), which no command "
        f"argument, path or environment variable can hold\n  fix: {FIX_NUL}"
    )


@pytest.mark.parametrize("name", ['""', '"A=B"', '"A\\u0000"', '"1X"', '"A B"'])
def test_an_env_name_that_is_not_a_variable_name_is_refused(root: Path, name: str) -> None:
    write(root, BASE + f'env = {{ {name} = "x" }}\n')

    with pytest.raises(ConfigError, match=r"is not an environment variable name\n  fix: use "):
        load_project(root)


# -- dependency groups ------------------------------------------------------------------------


def groups_error(root: Path, groups: str) -> ConfigError:
    write(root, BASE.replace('test = ["pytest"]\n', groups))
    return load_error(root)


def test_a_group_that_includes_itself_is_named(root: Path) -> None:
    error = groups_error(root, 'test = ["pytest", { include-group = "test" }]\n')

    assert re.search(
        r"'test' \(installed by tool.suitekit.install.groups\) includes itself "
        r"through include-group: test -> test\n",
        str(error),
    )
    assert_well_formed(error, file=root / "pyproject.toml", key="dependency-groups.test")


def test_a_cycle_of_groups_is_shown_whole(root: Path) -> None:
    error = groups_error(
        root,
        'test = ["pytest", { include-group = "Lint" }]\n'
        'lint = [{ include-group = "types" }]\n'
        'types = ["mypy", { include-group = "lint" }]\n',
    )

    assert "is in a cycle through include-group: lint -> types -> lint\n" in str(error)
    assert "fix: remove one include-group of the cycle in [dependency-groups]" in str(error)
    assert error.key == "dependency-groups.types"


def test_a_missing_included_group_is_named(root: Path) -> None:
    error = groups_error(root, 'test = [{ include-group = "lnt" }]\nlint = []\n')

    assert (
        "includes 'lnt', which is not declared in [dependency-groups] (did you mean 'lint'?)"
        in str(error)
    )
    assert error.value == "lnt"


@pytest.mark.parametrize(
    ("group", "shown"),
    [
        ('test = "pytest"', "is a string, not an array"),
        ('test = [{ include = "x" }]', "{'include': 'x'} (in the group installed by"),
        ("test = [1]", "1 (in the group installed by"),
    ],
)
def test_a_malformed_group_is_named(root: Path, group: str, shown: str) -> None:
    error = groups_error(root, group + "\n")

    assert shown in str(error)
    assert_well_formed(error, file=root / "pyproject.toml", key="dependency-groups.test")


def test_a_long_chain_of_includes_resolves_without_recursion(root: Path) -> None:
    chain = "".join(f'g{n} = [{{ include-group = "g{n + 1}" }}]\n' for n in range(3000))
    write(
        root,
        BASE.replace(
            'test = ["pytest"]\n', f'test = [{{ include-group = "g0" }}]\n{chain}g3000 = ["x"]\n'
        ),
    )

    assert load_project(root).install.groups == ("test",)


def test_shared_includes_are_not_a_cycle(root: Path) -> None:
    write(
        root,
        BASE.replace(
            'test = ["pytest"]\n',
            'test = [{ include-group = "a" }, { include-group = "b" }]\n'
            'a = [{ include-group = "base" }]\nb = [{ include-group = "base" }]\nbase = ["x"]\n',
        ),
    )

    assert load_project(root).install.groups == ("test",)


# -- paths inside the project -----------------------------------------------------------------


def test_reports_pointing_at_a_file_is_refused(root: Path) -> None:
    config_file = write(
        root, BASE.replace("[tool.suitekit]\n", '[tool.suitekit]\nreports = "out"\n')
    )
    (root / "out").write_text("not a folder")

    error = load_error(root)

    assert f"'out' cannot be the reports folder: {root / 'out'} is a file" in str(error)
    assert "fix: move the file away, or name another folder" in str(error)
    assert_well_formed(error, file=config_file, key="tool.suitekit.reports")


def test_reports_under_a_file_is_refused(root: Path) -> None:
    write(root, BASE.replace("[tool.suitekit]\n", '[tool.suitekit]\nreports = "out/reports"\n'))
    (root / "out").write_text("")

    assert f"{root / 'out'} is a file" in str(load_error(root))


@pytest.mark.parametrize(
    ("reports", "problem"),
    [
        ("../elsewhere", "the reports folder must be inside the project"),
        ("/tmp/reports", "the reports folder must be inside the project"),
        ("tests/../..", "the reports folder must be inside the project"),
        (".", "is the project's own folder"),
        ("tests/..", "is the project's own folder"),
    ],
)
def test_reports_outside_the_project_is_refused(root: Path, reports: str, problem: str) -> None:
    config_file = write(
        root, BASE.replace("[tool.suitekit]\n", f'[tool.suitekit]\nreports = "{reports}"\n')
    )

    error = load_error(root)

    assert problem in str(error)
    assert error.value == reports
    assert_well_formed(error, file=config_file, key="tool.suitekit.reports")


def test_reports_through_a_link_outside_is_refused(
    root: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere").resolve()
    write(root, BASE.replace("[tool.suitekit]\n", '[tool.suitekit]\nreports = "out"\n'))
    (root / "out").symlink_to(elsewhere, target_is_directory=True)

    error = load_error(root)

    assert f"'out' leads out of it (to {elsewhere})" in str(error)


def test_reports_through_a_link_inside_is_accepted(root: Path) -> None:
    write(root, BASE.replace("[tool.suitekit]\n", '[tool.suitekit]\nreports = "out"\n'))
    (root / "build").mkdir()
    (root / "out").symlink_to(root / "build", target_is_directory=True)

    assert load_project(root).reports == "out"


@pytest.mark.parametrize("path", ["../outside", "/tmp", "tests/../../outside", "link"])
def test_suite_paths_outside_the_project_are_refused(root: Path, path: str) -> None:
    (root.parent / "outside").mkdir(exist_ok=True)
    config_file = write(root, BASE.replace('paths = ["tests/unit"]', f'paths = ["{path}"]'))
    (root / "link").symlink_to(root.parent / "outside", target_is_directory=True)

    error = load_error(root)

    assert re.search(
        rf"a suite path must be inside the project \({re.escape(str(root))}\), "
        rf"but '{re.escape(path)}' leads out of it",
        str(error),
    )
    assert error.value == path
    assert_well_formed(error, file=config_file, key=f"{SUITE}.paths")


def test_a_test_root_outside_the_project_is_refused(root: Path) -> None:
    write(root, BASE.replace("[tool.suitekit]\n", '[tool.suitekit]\ntests = ["tests", "../x"]\n'))

    assert "a test root must be inside the project" in str(load_error(root))


def test_an_absolute_path_inside_the_project_is_accepted(root: Path) -> None:
    write(root, BASE.replace('paths = ["tests/unit"]', f'paths = ["{root / "tests" / "unit"}"]'))

    assert load_project(root).suites[0].paths == (str(root / "tests" / "unit"),)


# -- service URLs -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "url", "problem"),
    [
        ("postgres", "postgresql://h:99999/db", "has the port '99999', which is not a TCP port"),
        ("postgres", "postgresql://u:p@h:abc/db", "has the port 'abc', which is not a TCP port"),
        ("postgres", "postgres://h:0/db", "has the port '0', which is not a TCP port"),
        ("postgres", "postgresql://[::1:5432/db", "is not a URL: Invalid IPv6 URL"),
        ("redis", "redis://h:65536/0", "has the port '65536', which is not a TCP port"),
        ("redis", "redis://:secret@h:-1/0", "has the port '-1', which is not a TCP port"),
    ],
)
def test_a_url_with_a_bad_port_is_refused_at_load(
    root: Path, service: str, url: str, problem: str
) -> None:
    config_file = write(root, BASE + f'[tool.suitekit.services.{service}]\nurl = "{url}"\n')

    error = load_error(root)

    assert problem in str(error)
    assert error.value == url
    assert "secret" not in str(error)  # the message goes to CI logs: no password in it
    assert "fix: give a port from 1 to 65535" in str(error) or "fix: write url" in str(error)
    assert_well_formed(error, file=config_file, key=f"tool.suitekit.services.{service}.url")


def test_a_bad_urls_password_is_not_in_the_message(root: Path) -> None:
    url = "postgresql://app:hunter2@h:99999/db"
    write(root, BASE + f'[tool.suitekit.services.postgres]\nurl = "{url}"\n')

    message = str(load_error(root))

    assert "'postgresql://app:***@h:99999/db' has the port '99999'" in message
    assert "hunter2" not in message


def test_urls_with_good_ports_or_none_are_accepted(root: Path) -> None:
    write(
        root,
        BASE + '[tool.suitekit.services.postgres]\nurl = "postgresql://u:p@[::1]:65535/db"\n'
        '[tool.suitekit.services.redis]\nurl = "redis://localhost/0"\n',
    )

    project = load_project(root)

    assert project.postgres.url == "postgresql://u:p@[::1]:65535/db"
    assert project.redis.url == "redis://localhost/0"


# -- values that would blow up later ----------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("{port:>99999999}", "asks for 1000 characters or more"),
        ("{port:{url:{host}}}", "format specs are nested too deeply"),
        ("{url:" + "{url:" * 3000 + "}" * 3001, "format specs are nested too deeply"),
    ],
)
def test_a_template_that_would_exhaust_memory_or_recursion_is_refused(
    tmp_path: Path, template: str, problem: str
) -> None:
    make_folders(tmp_path)
    document = edited(((*ROOT, "services", "postgres", "env"), {"DATABASE_URL": template}))

    with pytest.raises(ConfigError, match=re.escape(problem)):
        parse(document, tmp_path / "pyproject.toml")


def test_a_number_of_seconds_too_large_for_a_float_is_refused(tmp_path: Path) -> None:
    make_folders(tmp_path)
    document = edited(((*SUITES, "unit", "target-seconds"), 10**400))

    with pytest.raises(ConfigError, match=r"expected a positive number of seconds, got 1000"):
        parse(document, tmp_path / "pyproject.toml")


def test_a_project_table_that_is_not_a_table_is_no_crash(tmp_path: Path) -> None:
    make_folders(tmp_path)
    document = edited((("project",), "shop"))

    assert parse(document, tmp_path / "pyproject.toml").suites


# -- nesting and sizes in a mapping handed to parse_project -----------------------------------


def with_deep_paths(depth: int) -> dict[str, Any]:
    """The example with the unit suite's ``paths`` nested ``depth`` arrays deep (not copied:
    ``copy.deepcopy`` itself would recurse too deeply)."""
    value: object = "tests/unit"
    for _ in range(depth):
        value = [value]
    document = edited()
    document["tool"]["suitekit"]["suites"]["unit"]["paths"] = value
    return document


@pytest.mark.parametrize("depth", [MAX_NESTING, 3000])
def test_nesting_past_the_bound_is_refused_with_its_key(tmp_path: Path, depth: int) -> None:
    make_folders(tmp_path)
    config_file = tmp_path / "pyproject.toml"

    with pytest.raises(ConfigError, match=rf"nested more than {MAX_NESTING} levels deep") as c:
        parse(with_deep_paths(depth), config_file)

    # Levels count from [tool.suitekit]: paths is 3 down, the first level too deep is MAX + 1.
    assert c.value.key == f"{SUITE}.paths" + "[0]" * (MAX_NESTING + 1 - 3)
    assert_well_formed(c.value, file=config_file, key=c.value.key)


def test_nesting_within_the_bound_reaches_the_type_check(tmp_path: Path) -> None:
    make_folders(tmp_path)

    with pytest.raises(ConfigError, match=r"expected an array of strings, got an array \[\[\["):
        parse(with_deep_paths(MAX_NESTING - 3), tmp_path / "pyproject.toml")


def test_nesting_in_the_file_is_refused_with_its_key(root: Path) -> None:
    write(root, BASE + "pytest-args = " + "[" * 40 + "]" * 40 + "\n")

    assert f"{SUITE}.pytest-args[0][0]" in load_error(root).key


def test_an_integer_too_large_to_print_is_refused(tmp_path: Path) -> None:
    make_folders(tmp_path)
    document = edited(((*SUITES, "unit", "workers"), 10**5000))

    with pytest.raises(ConfigError, match=r"workers: an integer of more than 4096 bits"):
        parse(document, tmp_path / "pyproject.toml")


def test_an_install_fingerprint_survives_a_file_broken_since_loading(root: Path) -> None:
    config_file = write(root, BASE)
    project = load_project(root)
    spec = project.install

    for broken in ("x = " + "[" * 3000 + "]" * 3000, "x = 1" + "0" * 5000, "x = = 1"):
        config_file.write_text(broken, encoding="utf-8")

        assert len(fingerprint(project, spec, ["-e", "."]) or "") == 64  # a sha256, in hex


def test_a_symlink_loop_in_a_suite_path_is_a_config_error(root: Path) -> None:
    config_file = write(root, BASE.replace('paths = ["tests/unit"]', 'paths = ["tests/a"]'))
    (root / "tests" / "a").symlink_to(root / "tests" / "b")
    (root / "tests" / "b").symlink_to(root / "tests" / "a")

    error = load_error(root)

    # Python 3.11 and 3.12 cannot resolve the loop; later versions resolve it to a dead end.
    assert re.search(r"'tests/a' (cannot be resolved|does not exist)", str(error)), str(error)
    assert_well_formed(error, file=config_file, key=f"{SUITE}.paths")
