"""Unit tests of marker expressions (suitekit._markexpr), parsed without pytest."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from suitekit._markexpr import MarkerExpression, MarkerSyntaxError


def matches(text: str, *markers: str) -> bool:
    return MarkerExpression.compile(text).matches(frozenset(markers))


def test_a_name_matches_a_test_carrying_that_marker() -> None:
    assert matches("slow", "slow")
    assert matches("slow", "slow", "db")
    assert not matches("slow")
    assert not matches("slow", "slowish")


@pytest.mark.parametrize(
    ("text", "markers", "expected"),
    [
        ("a and b", {"a", "b"}, True),
        ("a and b", {"a"}, False),
        ("a or b", {"b"}, True),
        ("a or b", set(), False),
        ("not a", set(), True),
        ("not a", {"a"}, False),
        ("not not a", {"a"}, True),
        # and binds tighter than or: a or (b and c)
        ("a or b and c", {"a"}, True),
        ("a or b and c", {"b"}, False),
        ("a or b and c", {"b", "c"}, True),
        # not binds tighter than and: (not a) and b
        ("not a and b", {"b"}, True),
        ("not a and b", set(), False),
        ("not a and b", {"a", "b"}, False),
        # not binds tighter than or: (not a) or b
        ("not a or b", {"a"}, False),
        ("not a or b", {"a", "b"}, True),
        # parentheses override precedence
        ("(a or b) and c", {"a"}, False),
        ("(a or b) and c", {"a", "c"}, True),
        ("not (a and b)", {"a"}, True),
        ("not (a and b)", {"a", "b"}, False),
        ("not (a or b)", {"b"}, False),
        ("((a))", {"a"}, True),
        ("a and (b or (c and not d))", {"a", "c"}, True),
        ("a and (b or (c and not d))", {"a", "c", "d"}, False),
        # chains
        ("a and b and c", {"a", "b", "c"}, True),
        ("a and b and c", {"a", "b"}, False),
        ("a or b or c", {"c"}, True),
    ],
)
def test_operators_and_precedence(text: str, markers: set[str], expected: object) -> None:
    assert MarkerExpression.compile(text).matches(frozenset(markers)) is expected


def test_whitespace_is_free() -> None:
    assert matches("  (a\tor\nb)and c ", "b", "c")
    assert matches("(a)or(b)", "b")


def test_names_may_hold_the_characters_pytest_allows() -> None:
    for name in ("slow_db", "api-v2", "py3.12", "a:b", "x+y", "param[1]", "path/like", "a\\b"):
        assert matches(name, name), name
        assert not matches(f"not {name}", name), name


def test_keywords_are_whole_words_only() -> None:
    assert matches("android", "android")
    assert matches("notice", "notice")
    assert matches("order and notable", "order", "notable")


def test_text_and_names() -> None:
    expression = MarkerExpression.compile("(slow or db) and not slow and api")

    assert expression.text == "(slow or db) and not slow and api"
    # Each name once, in order of first appearance; keywords and parentheses are not names.
    assert expression.names == ("slow", "db", "api")


def test_names_of_a_single_marker() -> None:
    assert MarkerExpression.compile("processing").names == ("processing",)


def test_a_compiled_expression_is_frozen() -> None:
    expression = MarkerExpression.compile("a")

    with pytest.raises(AttributeError):
        expression.text = "b"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("", r"^the expression is empty$", id="empty"),
        pytest.param("   ", r"^the expression is empty$", id="blank"),
        pytest.param(
            "processing and",
            r"^the expression ends too early in marker expression 'processing and'$",
            id="dangling-and",
        ),
        pytest.param(
            "a or", r"^the expression ends too early in marker expression 'a or'$", id="dangling-or"
        ),
        pytest.param(
            "not", r"^the expression ends too early in marker expression 'not'$", id="lone-not"
        ),
        pytest.param("and a", r"^unexpected 'and' in marker expression 'and a'$", id="leading-and"),
        pytest.param(
            "a or or b", r"^unexpected 'or' in marker expression 'a or or b'$", id="double-or"
        ),
        pytest.param(
            "a and not", r"^the expression ends too early in marker expression 'a and not'$"
        ),
        pytest.param(
            "(a", r"^the expression ends too early in marker expression '\(a'$", id="unclosed-end"
        ),
        pytest.param(
            "(a b", r"^a '\(' is not closed in marker expression '\(a b'$", id="unclosed-paren"
        ),
        pytest.param(
            "(a or (b)", r"^the expression ends too early in marker expression", id="unclosed-outer"
        ),
        pytest.param("a)", r"^unexpected '\)' in marker expression 'a\)'$", id="stray-paren"),
        pytest.param(")", r"^unexpected '\)' in marker expression '\)'$", id="lone-paren"),
        pytest.param("()", r"^unexpected '\)' in marker expression '\(\)'$", id="empty-parens"),
        pytest.param("a b", r"^unexpected 'b' in marker expression 'a b'$", id="two-names"),
        pytest.param("a & b", r"^unexpected character '&'", id="bad-character"),
        pytest.param("a == 1", r"^unexpected character '='", id="comparison"),
        pytest.param("slow(x=1)", r"^unexpected character '='", id="keyword-argument"),
    ],
)
def test_syntax_errors(text: str, message: str) -> None:
    with pytest.raises(MarkerSyntaxError, match=message):
        MarkerExpression.compile(text)


def test_a_syntax_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="empty"):
        MarkerExpression.compile("")


def test_the_column_of_a_bad_character_at_the_start() -> None:
    with pytest.raises(MarkerSyntaxError, match=r"unexpected character '!' at column 1$"):
        MarkerExpression.compile("!a")


def test_the_column_of_a_bad_character_after_whitespace() -> None:
    # 'a & b': the '&' is the third character.
    with pytest.raises(MarkerSyntaxError, match=r"unexpected character '&' at column 3$"):
        MarkerExpression.compile("a & b")


# -- property: the same text means the same as in Python -------------------------------------

NAMES = ("a", "b", "c")
spaces = st.sampled_from([" ", "  ", "\t"])


def _not(inner: str, space: str) -> str:
    return f"not{space}{inner}"


def _extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    def join(left: str, operator: str, right: str, before: str, after: str) -> str:
        return f"{left}{before}{operator}{after}{right}"

    def parenthesise(text: str, inside: str) -> str:
        return f"({inside}{text}{inside})"

    return st.one_of(
        st.builds(_not, inner, spaces),
        st.builds(join, inner, st.sampled_from(["and", "or"]), inner, spaces, spaces),
        st.builds(parenthesise, inner, st.sampled_from(["", " "])),
    )


expressions: st.SearchStrategy[str] = st.recursive(st.sampled_from(NAMES), _extend, max_leaves=12)


def python_value(text: str, markers: frozenset[str]) -> bool:
    """Python's own reading of the same text, with each name bound to 'is it a marker'."""
    variables = {name: name in markers for name in NAMES}
    code = compile(text.replace("\t", " ").strip(), "<marker>", "eval")
    # The text comes only from the strategy above: names a, b, c, and/or/not and parentheses.
    return bool(eval(code, {"__builtins__": {}}, variables))  # noqa: S307


@settings(database=None, max_examples=300)
@given(text=expressions, markers=st.frozensets(st.sampled_from([*NAMES, "other"])))
def test_matches_agrees_with_python(text: str, markers: frozenset[str]) -> None:
    assert MarkerExpression.compile(text).matches(markers) is python_value(text, markers)


@settings(database=None)
@given(text=expressions)
def test_names_are_the_identifiers_of_the_text(text: str) -> None:
    expected = tuple(dict.fromkeys(re.findall(r"\b[abc]\b", text)))

    assert MarkerExpression.compile(text).names == expected
