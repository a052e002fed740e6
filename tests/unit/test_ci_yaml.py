"""Unit tests of suitekit's YAML emitter (suitekit.ci._yaml): what it writes reads back the same.

PyYAML (a YAML 1.1 reader, as GitLab's is) is the judge; awkward strings are the cases that
trip hand-written emitters: indicators, YAML 1.1 booleans, numbers and dates that are strings,
expressions, unicode and line breaks.
"""

from __future__ import annotations

from typing import Any, Final

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from suitekit.ci._yaml import Spaced, YamlValue, dump

AWKWARD: Final = (
    "",
    " ",
    " leading",
    "trailing ",
    "a: b",
    "a:b",
    "ends with:",
    ":",
    "key: value # comment",
    "a #b",
    "a#b",
    "#",
    "# comment",
    "-",
    "- item",
    "-item",
    "--tmpfs /var/lib/postgresql/data",
    "?",
    "? x",
    "*alias",
    "&anchor",
    "!tag",
    "!reference [.x]",
    "|",
    ">",
    "%directive",
    "@at",
    "`tick",
    "'single'",
    '"double"',
    "it's",
    'say "hi"',
    "{a: 1}",
    "[1, 2]",
    "{}",
    "[]",
    ",",
    "${{ matrix.python }}",
    "nox -s unit-${{ matrix.python }} -- --shard ${{ matrix.shard }}/2",
    "${{ !cancelled() }}",
    "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH",
    "yes",
    "Yes",
    "YES",
    "no",
    "No",
    "on",
    "On",
    "off",
    "OFF",
    "y",
    "n",
    "Y",
    "N",
    "true",
    "False",
    "null",
    "Null",
    "NULL",
    "~",
    "0",
    "1",
    "-1",
    "+1",
    "3.11",
    "3.10",
    "1e3",
    "1_000",
    "0x1F",
    "0o17",
    "017",
    "0b101",
    ".5",
    "5.",
    ".inf",
    "-.Inf",
    ".NaN",
    "190:20:30",
    "5432:5432",
    "2001-12-14",
    "2001-12-14t21:59:43.10-05:00",
    "1,000",
    "<<",
    "=",
    "---",
    "--- x",
    "...",
    "python3.11",
    "postgres:16",
    "ghcr.io/astral-sh/uv:python3.12-bookworm-slim",
    "ünïcödé ✓ 中文 🐍",
    "tab\there",
    "nul\0",
    "bell\a",
    "escape\x1b[0m",
    "nbsp\xa0here",
    "\xa0",
    "nel\x85line",
    "line\u2028separator",
    "bom\ufeff",
    "back\\slash",
    "one\ntwo",
    "one\ntwo\n",
    "one\ntwo\n\n",
    "\nleading newline",
    " indented\nfirst",
    "first\n  indented second\n",
    "blank\n\nline\n",
    "spaces\n   \nline",
    "trailing spaces  \nline",
    "tab\n\tindented",
    "crlf\r\nline",
    "#!/bin/sh\nset -eu\necho 'a: b' # comment\n",
    "if [ -f x ]; then\n  echo yes\nfi\n",
)


# libyaml's loader where PyYAML was built with it: the same documents (checked on 5,000
# generated ones) in a fraction of the pure-Python loader's time, which a coverage run multiplies.
_LOADER: Final = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def round_trip(document: dict[str, Any]) -> Any:
    return yaml.load(dump(document), Loader=_LOADER)  # noqa: S506 - a safe loader


@pytest.mark.parametrize("text", AWKWARD)
def test_awkward_strings_read_back_as_written(text: str) -> None:
    document: dict[str, Any] = {
        "value": text,
        "in a list": [text, {"nested": text}],
        text: "as a key",
    }
    assert round_trip(document) == document


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("ubuntu-latest", "ubuntu-latest"),
        ("${{ matrix.python }}", "${{ matrix.python }}"),
        ("--tmpfs /var/lib/postgresql/data", "--tmpfs /var/lib/postgresql/data"),
        ("3.11", '"3.11"'),
        ("on", '"on"'),
        ("a: b", '"a: b"'),
        ('say "hi": now', '"say \\"hi\\": now"'),
        ("*alias", '"*alias"'),
        ("tab\there", '"tab\\there"'),
        ("ünïcödé", "ünïcödé"),
    ],
)
def test_strings_are_quoted_only_when_needed_and_then_with_double_quotes(
    text: str, written: str
) -> None:
    assert dump({"k": text}) == f"k: {written}\n"


def test_multi_line_strings_are_literal_blocks() -> None:
    text = dump({"run": "set -eu\necho 'a: b'\n", "script": ["one\ntwo"]})
    assert text == "run: |\n  set -eu\n  echo 'a: b'\n\nscript:\n  - |-\n    one\n    two\n"


def test_block_style_layout() -> None:
    document: dict[str, YamlValue] = {
        "name": "ci",
        "on": {"push": {"branches": ["main"]}, "pull_request": None},
        "jobs": Spaced(
            {
                "a": {"steps": [{"uses": "x", "with": {"k": True}}, {"run": "echo"}]},
                "b": {"needs": [], "env": {}, "matrix": [[1, 2], [3]]},
            }
        ),
    }
    assert dump(document, header=["Generated.", "", "Do not edit."]) == (
        "# Generated.\n"
        "#\n"
        "# Do not edit.\n"
        "\n"
        "name: ci\n"
        "\n"
        '"on":\n'
        "  push:\n"
        "    branches:\n"
        "      - main\n"
        "  pull_request:\n"
        "\n"
        "jobs:\n"
        "  a:\n"
        "    steps:\n"
        "      - uses: x\n"
        "        with:\n"
        "          k: true\n"
        "      - run: echo\n"
        "\n"
        "  b:\n"
        "    needs: []\n"
        "    env: {}\n"
        "    matrix:\n"
        "      - - 1\n"
        "        - 2\n"
        "      - - 3\n"
    )
    assert yaml.safe_load(dump(document)) == {
        "name": "ci",
        "on": {"push": {"branches": ["main"]}, "pull_request": None},
        "jobs": {
            "a": {"steps": [{"uses": "x", "with": {"k": True}}, {"run": "echo"}]},
            "b": {"needs": [], "env": {}, "matrix": [[1, 2], [3]]},
        },
    }


def test_scalars_of_other_types() -> None:
    document: dict[str, Any] = {"int": -3, "big": 10**20, "t": True, "f": False, "none": None}
    assert round_trip(document) == document
    assert round_trip({"items": [None, 0, False]}) == {"items": [None, 0, False]}


@pytest.mark.parametrize("value", [1.5, b"bytes", object()])
def test_unsupported_values_are_type_errors(value: object) -> None:
    with pytest.raises(TypeError, match="cannot write"):
        dump({"k": value})  # type: ignore[dict-item]


def test_keys_must_be_strings() -> None:
    with pytest.raises(TypeError, match="key must be a string"):
        dump({1: "x"})  # type: ignore[dict-item]


_SCALARS: Final = (
    st.text()
    | st.integers()
    | st.booleans()
    | st.none()
    | st.sampled_from(AWKWARD)
    | st.text(alphabet=" \n\t:#-'\"!&*abc").map(str)
)
_VALUES: Final = st.recursive(
    _SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=250, deadline=None)
@given(st.dictionaries(st.text() | st.sampled_from(AWKWARD), _VALUES, max_size=5))
def test_any_document_reads_back_as_written(document: dict[str, Any]) -> None:
    assert round_trip(document) == document


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(), _VALUES, max_size=5))
def test_output_is_deterministic(document: dict[str, Any]) -> None:
    assert dump(document) == dump(dict(document))
