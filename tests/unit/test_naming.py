"""Unit tests of resource names (suitekit._naming): safe, short, deterministic and unique."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Final

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from suitekit import _naming
from suitekit._naming import (
    PREFIX,
    database_name,
    new_run_id,
    slug,
    template_name,
    work_folder,
)

SAFE: Final = re.compile(r"^sk_[a-z0-9_]+$")
MAX_IDENTIFIER: Final = 63  # PostgreSQL's NAMEDATALEN - 1, in bytes
RUN_ID: Final = "20260101120000a1b2c3"

# Arbitrary NUL-free text (quotes, spaces, unicode), plus text over a small alphabet so that
# near-collisions (case, punctuation, shared prefixes) come up often.
any_text = st.text(st.characters(exclude_characters="\x00"), max_size=200)
near_text = st.text(st.sampled_from("aAbB09 _-.'\"/é\u0130\u00df"), max_size=200)
names = st.one_of(any_text, near_text)
parts = st.tuples(names, names, names)
hex_keys = st.text(st.sampled_from("0123456789abcdef"), min_size=24, max_size=24)


def variants(text: str) -> list[str]:
    """Texts that differ from ``text`` only a little: case, punctuation, one character."""
    candidates = [
        text.swapcase(),
        text.upper(),
        text.lower(),
        text.replace(" ", "_"),
        text.replace("_", " "),
        text.replace("-", "_"),
        text + "x",
        text + " ",
        text + "_",
        "x" + text,
        text[:-1],
    ]
    return [candidate for candidate in dict.fromkeys(candidates) if candidate != text]


def assert_safe(name: str) -> None:
    assert SAFE.fullmatch(name), name
    assert len(name.encode("utf-8")) <= MAX_IDENTIFIER, name


# -- slug --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        pytest.param("unit", 16, "unit", id="plain"),
        pytest.param("Hello, World!", 20, "hello_world", id="case-and-punctuation"),
        pytest.param("  api--slow  ", 20, "api_slow", id="runs-and-edges"),
        pytest.param("a__b", 20, "a_b", id="underscores-collapse"),
        pytest.param("ab cd", 3, "ab", id="no-trailing-underscore-after-the-cut"),
        pytest.param("café", 20, "caf", id="non-ascii-dropped"),
        pytest.param("'; DROP DATABASE x; --", 40, "drop_database_x", id="quotes"),
        pytest.param("", 10, "", id="empty"),
        pytest.param("!!!", 10, "", id="nothing-safe"),
        pytest.param("abc", 0, "", id="zero-limit"),
    ],
)
def test_slug_examples(text: str, limit: int, expected: str) -> None:
    assert slug(text, limit) == expected


@settings(database=None, max_examples=300)
@given(text=names, limit=st.integers(min_value=0, max_value=80))
def test_slug_is_safe_short_and_idempotent(text: str, limit: int) -> None:
    result = slug(text, limit)

    assert re.fullmatch(r"[a-z0-9_]*", result), result
    assert len(result) <= limit
    assert not result.startswith("_")
    assert not result.endswith("_")
    assert "__" not in result
    assert slug(result, limit) == result


# -- new_run_id --------------------------------------------------------------------------------


def test_a_run_id_is_the_time_then_a_random_tail() -> None:
    before = time.strftime("%Y%m%d%H%M%S")
    run_id = new_run_id()
    after = time.strftime("%Y%m%d%H%M%S")

    assert re.fullmatch(r"\d{14}[0-9a-f]{6}", run_id), run_id
    assert before <= run_id[:14] <= after


def test_run_ids_are_unique() -> None:
    assert len({new_run_id() for _ in range(200)}) == 200


def test_a_run_id_survives_slugging_whole() -> None:
    """Names keep the whole run id, so databases of one run are recognisable by it."""
    run_id = new_run_id()

    assert slug(run_id, 20) == run_id
    assert database_name(run_id, "unit", "gw0").startswith(f"{PREFIX}{run_id}_")


# -- database_name -----------------------------------------------------------------------------


def test_a_database_name_is_recognisable() -> None:
    name = database_name(RUN_ID, "unit", "gw0")

    assert re.fullmatch(rf"sk_{RUN_ID}_unit_gw0_[0-9a-f]{{8}}", name), name


def test_a_database_name_of_nothing_safe_is_still_safe() -> None:
    name = database_name("", "", "")

    assert_safe(name)
    assert name != database_name("", "", "_")


@settings(database=None, max_examples=300)
@given(run_id=names, suite=names, worker=names)
def test_a_database_name_is_safe_short_and_deterministic(
    run_id: str, suite: str, worker: str
) -> None:
    name = database_name(run_id, suite, worker)

    assert_safe(name)
    assert name == database_name(run_id, suite, worker)


@settings(database=None, max_examples=300)
@given(first=parts, second=parts)
def test_different_parts_give_different_database_names(
    first: tuple[str, str, str], second: tuple[str, str, str]
) -> None:
    assume(first != second)

    assert database_name(*first) != database_name(*second)


@settings(database=None, max_examples=200)
@given(run_id=names, suite=names, worker=names, position=st.integers(min_value=0, max_value=2))
def test_a_small_change_to_any_part_changes_the_database_name(
    run_id: str, suite: str, worker: str, position: int
) -> None:
    original = [run_id, suite, worker]
    name = database_name(*original)
    for variant in variants(original[position]):
        changed = list(original)
        changed[position] = variant

        assert database_name(changed[0], changed[1], changed[2]) != name, (original, changed)


LONG: Final = "x" * 70
NEAR_PAIRS: Final = [
    pytest.param("a b", "a_b", id="space-vs-underscore"),
    pytest.param("a-b", "a_b", id="dash-vs-underscore"),
    pytest.param("Unit", "unit", id="case"),
    pytest.param("it's", "its", id="quote"),
    pytest.param("café", "caf", id="unicode"),
    pytest.param(LONG + "a" * 10, LONG + "b" * 10, id="80-chars-sharing-70"),
]


@pytest.mark.parametrize(("one", "other"), NEAR_PAIRS)
@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda text: database_name(text, "unit", "gw0"), id="run-id"),
        pytest.param(lambda text: database_name(RUN_ID, text, "gw0"), id="suite"),
        pytest.param(lambda text: database_name(RUN_ID, "unit", text), id="worker"),
        pytest.param(lambda text: template_name(text, "unit", None), id="template-run-id"),
        pytest.param(lambda text: template_name(RUN_ID, text, None), id="template-suite"),
        pytest.param(lambda text: PREFIX + work_folder(text, "unit", "gw0"), id="folder-run-id"),
        pytest.param(lambda text: PREFIX + work_folder(RUN_ID, text, "gw0"), id="folder-suite"),
        pytest.param(lambda text: PREFIX + work_folder(RUN_ID, "unit", text), id="folder-worker"),
    ],
)
def test_near_identical_names_stay_apart(build: Callable[[str], str], one: str, other: str) -> None:
    first, second = build(one), build(other)

    assert_safe(first)
    assert_safe(second)
    assert first != second


def test_parts_cannot_be_shifted_between_positions() -> None:
    """The digest is of the separated parts, so moving text across a boundary shows."""
    assert database_name("a_b", "c", "gw0") != database_name("a", "b_c", "gw0")
    assert database_name(RUN_ID, "a", "b_c") != database_name(RUN_ID, "a_b", "c")


# -- work_folder -------------------------------------------------------------------------------


def test_a_work_folder_is_recognisable() -> None:
    assert re.fullmatch(rf"{RUN_ID}_unit_gw0_[0-9a-f]{{8}}", work_folder(RUN_ID, "unit", "gw0"))


@settings(database=None, max_examples=300)
@given(run_id=names, suite=names, worker=names)
def test_a_work_folder_is_safe_short_and_deterministic(
    run_id: str, suite: str, worker: str
) -> None:
    folder = work_folder(run_id, suite, worker)

    assert re.fullmatch(r"[a-z0-9_]+", folder), folder
    assert len(folder) <= MAX_IDENTIFIER
    assert folder == work_folder(run_id, suite, worker)


@settings(database=None, max_examples=300)
@given(first=parts, second=parts)
def test_different_parts_give_different_work_folders(
    first: tuple[str, str, str], second: tuple[str, str, str]
) -> None:
    assume(first != second)

    assert work_folder(*first) != work_folder(*second)


def test_the_workers_of_a_long_suite_get_different_folders() -> None:
    suite = "integration-" + "x" * 36  # the longest name the config accepts: 48 characters

    assert work_folder(RUN_ID, suite, "gw0") != work_folder(RUN_ID, suite, "gw1")


# -- template_name -----------------------------------------------------------------------------


def test_a_keyed_template_name_is_recognisable() -> None:
    key = "0123456789abcdef01234567"

    assert template_name(RUN_ID, "unit", key) == f"sk_tpl_{key}"


@settings(database=None, max_examples=200)
@given(first=parts, second=parts, key=hex_keys)
def test_a_keyed_template_name_depends_on_the_key_only(
    first: tuple[str, str, str], second: tuple[str, str, str], key: str
) -> None:
    """A persistent server keeps the template between runs: the run id must not matter."""
    name = template_name(first[0], first[1], key)

    assert_safe(name)
    assert name == template_name(second[0], second[1], key)


@settings(database=None, max_examples=200)
@given(one=hex_keys, other=hex_keys)
def test_different_keys_give_different_templates(one: str, other: str) -> None:
    assume(one != other)

    assert template_name(RUN_ID, "unit", one) != template_name(RUN_ID, "unit", other)


@settings(database=None, max_examples=300)
@given(run_id=names, suite=names)
def test_a_run_template_name_is_safe_short_and_deterministic(run_id: str, suite: str) -> None:
    name = template_name(run_id, suite, None)

    assert_safe(name)
    assert name == template_name(run_id, suite, None)


@settings(database=None, max_examples=300)
@given(first=parts, second=parts)
def test_a_run_template_depends_on_run_and_suite(
    first: tuple[str, str, str], second: tuple[str, str, str]
) -> None:
    assume(first[:2] != second[:2])

    assert template_name(first[0], first[1], None) != template_name(second[0], second[1], None)


def test_a_run_template_changes_with_the_run_and_with_the_suite() -> None:
    name = template_name(RUN_ID, "unit", None)

    assert re.fullmatch(rf"sk_{RUN_ID}_unit_tpl_[0-9a-f]{{8}}", name), name
    assert template_name("20260101120000ffffff", "unit", None) != name
    assert template_name(RUN_ID, "api", None) != name


@settings(database=None, max_examples=300)
@given(run_id=names, suite=names, worker=names)
def test_a_template_is_never_a_worker_database(run_id: str, suite: str, worker: str) -> None:
    assert template_name(run_id, suite, None) != database_name(run_id, suite, worker)


def test_a_worker_called_tpl_does_not_take_the_template() -> None:
    assert database_name(RUN_ID, "unit", "tpl") != template_name(RUN_ID, "unit", None)


@pytest.mark.parametrize("worker", ["main", "gw0", "gw15"])
def test_a_workers_database_is_known_by_its_name_alone(worker: str) -> None:
    name = _naming.database_name("20261206abc-py3.11", "integration", worker)

    assert name.startswith(_naming.database_prefix("20261206abc-py3.11", "integration"))
    assert _naming.worker_of(name, "20261206abc-py3.11", "integration") == worker
    assert _naming.worker_of(name, "20261206abd-py3.11", "integration") is None
    assert _naming.worker_of(name, "20261206abc-py3.11", "unit") is None


def test_a_database_merely_named_alike_is_no_workers() -> None:
    name = _naming.database_name("run1", "unit", "gw0")
    lookalike = name[:-8] + "00000000"  # the same shape, another digest

    assert _naming.worker_of(lookalike, "run1", "unit") is None
    assert _naming.worker_of(name + "x", "run1", "unit") is None
