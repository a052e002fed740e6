"""Unit tests of marker expressions (suitekit._markexpr), parsed without pytest."""

from __future__ import annotations

import re
from collections.abc import Mapping

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
        pytest.param("", r"^the expression is empty in marker expression ''$", id="empty"),
        pytest.param("   ", r"^the expression is empty in marker expression '   '$", id="blank"),
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
        pytest.param(
            "a & b",
            r"^unexpected character '&' at column 3 in marker expression 'a & b'$",
            id="bad-character",
        ),
        pytest.param("a == 1", r"^unexpected '=' in marker expression 'a == 1'$", id="comparison"),
        pytest.param("'slow'", r"^unexpected \"'slow'\" in marker expression", id="lone-string"),
        pytest.param("a, b", r"^unexpected ',' in marker expression 'a, b'$", id="comma"),
        pytest.param(
            "slow(",
            r"^the expression ends too early in marker expression 'slow\('$",
            id="open-call",
        ),
        pytest.param(
            "slow()",
            r"^expected a keyword argument \(name=value\) after 'slow\(', got '\)' at column 6 ",
            id="no-arguments",
        ),
        pytest.param(
            "slow(1)",
            r"^the argument name '1' of 'slow' is not a Python identifier ",
            id="positional",
        ),
        pytest.param(
            "slow(x)", r"^expected '=' after the argument name 'x' of 'slow' ", id="name-alone"
        ),
        pytest.param(
            "slow(x=)",
            r"^'\)' is no value for the argument 'x' of 'slow' \(values are strings",
            id="no-value",
        ),
        pytest.param("slow(x=1.5)", r"^'1.5' is no value for the argument 'x'", id="float"),
        pytest.param("slow(x=y)", r"^'y' is no value for the argument 'x'", id="bare-word"),
        pytest.param("slow(x=1", r"^the expression ends too early", id="unclosed-call"),
        pytest.param(
            "slow(x=1,)", r"^expected a keyword argument .* got '\)'", id="trailing-comma"
        ),
        pytest.param(
            "slow(x=1 y=2)",
            r"^expected ',' or '\)' after the argument 'x' of 'slow', got 'y' at column 10 ",
            id="missing-comma",
        ),
        pytest.param(
            "slow(class=1)",
            r"^the argument name 'class' of 'slow' is a Python keyword ",
            id="python-keyword",
        ),
        pytest.param(
            "slow(True=1)", r"^the argument name 'True' of 'slow' is a Python keyword ", id="true"
        ),
        pytest.param(
            "slow(and=1)", r"^expected a keyword argument .* got 'and' at column 6 ", id="and-name"
        ),
        pytest.param("slow(x=1, x=2)", r"^the argument 'x' of 'slow' is given twice ", id="twice"),
        pytest.param(
            "slow(x='a)",
            r"^the quote ' at column 8 is not closed in marker expression",
            id="open-quote",
        ),
        pytest.param(
            r'slow(x="a\"b")',
            r"^a backslash at column 10: strings in marker expressions have no escapes",
            id="escape",
        ),
        pytest.param("slow(x=(1))", r"^'\(' is no value for the argument 'x'", id="nested"),
    ],
)
def test_syntax_errors(text: str, message: str) -> None:
    with pytest.raises(MarkerSyntaxError, match=message):
        MarkerExpression.compile(text)


def test_a_syntax_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="empty"):
        MarkerExpression.compile("")


def test_the_column_of_a_bad_character_at_the_start() -> None:
    with pytest.raises(MarkerSyntaxError, match=r"unexpected character '!' at column 1 in"):
        MarkerExpression.compile("!a")


def test_the_column_of_a_bad_character_after_whitespace() -> None:
    # 'a & b': the '&' is the third character.
    with pytest.raises(MarkerSyntaxError, match=r"unexpected character '&' at column 3 in"):
        MarkerExpression.compile("a & b")


# -- keyword arguments ---------------------------------------------------------------------


def marked(text: str, *marks: tuple[str, Mapping[str, object]]) -> bool:
    """Whether ``text`` selects a test carrying ``marks`` (name and keyword arguments each)."""
    kwargs: dict[str, list[Mapping[str, object]]] = {}
    for name, arguments in marks:
        if arguments:
            kwargs.setdefault(name, []).append(arguments)
    return MarkerExpression.compile(text).matches(frozenset(n for n, _ in marks), kwargs)


def test_keyword_arguments_select_marks_that_carry_them() -> None:
    assert marked('device(serial="1")', ("device", {"serial": "1"}))
    assert marked('device(serial="1")', ("device", {"serial": "1", "port": 2}))
    assert not marked('device(serial="1")', ("device", {"serial": "2"}))
    assert not marked('device(serial="1")', ("device", {}))
    assert not marked('device(serial="1")', ("other", {"serial": "1"}))
    assert not marked('device(serial="1")')


def test_any_of_a_tests_marks_of_that_name_may_match() -> None:
    marks = (("device", {"serial": "1"}), ("device", {"serial": "2"}))

    assert marked('device(serial="2")', *marks)
    assert not marked('device(serial="3")', *marks)
    # All the arguments of the expression are found on one and the same mark.
    assert not marked(
        'device(serial="1", port=2)', ("device", {"serial": "1"}), ("device", {"port": 2})
    )


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        ("m(v=1)", 1, True),
        ("m(v=-1)", -1, True),
        ("m(v=1)", "1", False),
        ("m(v='1')", "1", True),
        ('m(v="a b (c) and d")', "a b (c) and d", True),
        ("m(v=True)", True, True),
        ("m(v=False)", False, True),
        ("m(v=None)", None, True),
        ("m(v=None)", 0, False),
        # Compared with ==, as pytest does: True == 1 and False == 0.
        ("m(v=1)", True, True),
        ("m(v=0)", False, True),
    ],
)
def test_values(text: str, value: object, expected: bool) -> None:
    assert marked(text, ("m", {"v": value})) is expected


def test_a_value_whose_equality_fails_matches_nothing() -> None:
    class Weird:
        def __eq__(self, other: object) -> bool:
            message = "no comparison"
            raise TypeError(message)

        __hash__ = object.__hash__

    assert not marked("m(v=1)", ("m", {"v": Weird()}))


def test_keyword_arguments_combine_with_the_operators() -> None:
    text = 'db and not device(serial="1") or (slow(n=2))'

    assert marked(text, ("db", {}), ("device", {"serial": "2"}))
    assert not marked(text, ("db", {}), ("device", {"serial": "1"}))
    assert marked(text, ("slow", {"n": 2}))
    assert MarkerExpression.compile(text).names == ("db", "device", "slow")


def test_a_call_may_be_spaced_as_pytest_allows() -> None:
    assert marked('device ( serial = "1" ,port=2 )', ("device", {"serial": "1", "port": 2}))


def test_the_names_of_keyword_arguments_are_no_marker_names() -> None:
    assert MarkerExpression.compile("a(b=1, c='d')").names == ("a",)


@pytest.mark.parametrize(
    ("text", "uses"),
    [
        ("slow and not db", False),
        ("device(serial='1')", True),
        ("slow or not (db and device(n=2))", True),
        ("a", False),
    ],
)
def test_an_expression_says_whether_it_reads_keyword_arguments(text: str, uses: bool) -> None:
    # What the plugin asks before it collects every test's marks' keyword arguments.
    assert MarkerExpression.compile(text).uses_kwargs is uses


def test_without_kwargs_a_call_matches_nothing() -> None:
    # A caller that knows only the names (the default) never selects by arguments.
    assert not MarkerExpression.compile("a(b=1)").matches(frozenset({"a"}))
    assert MarkerExpression.compile("not a(b=1)").matches(frozenset({"a"}))


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


# -- property: the same text means the same as in pytest's own -m ----------------------------

ARGUMENTS = st.sampled_from(["x", "y"])
VALUES = st.sampled_from(["1", "0", "-1", "'1'", '"a b"', "True", "False", "None"])


def _call(name: str, arguments: list[tuple[str, str]]) -> str:
    return f"{name}({', '.join(f'{key}={value}' for key, value in arguments)})"


calls = st.builds(
    _call,
    st.sampled_from(NAMES),
    st.lists(st.tuples(ARGUMENTS, VALUES), min_size=1, max_size=2, unique_by=lambda kv: kv[0]),
)
pytest_expressions: st.SearchStrategy[str] = st.recursive(
    st.one_of(st.sampled_from(NAMES), calls), _extend, max_leaves=8
)
mark_kwargs = st.dictionaries(
    ARGUMENTS, st.sampled_from([1, 0, -1, "1", "a b", True, False, None, 2.5]), max_size=2
)
test_marks = st.lists(st.tuples(st.sampled_from([*NAMES, "other"]), mark_kwargs), max_size=4)


def pytest_value(text: str, marks: list[tuple[str, dict[str, object]]]) -> bool:
    """pytest's own -m evaluation of ``text`` on a test carrying ``marks``."""
    from _pytest.mark import MarkMatcher  # noqa: PLC0415 - pytest's internals, for reference
    from _pytest.mark.expression import Expression  # noqa: PLC0415

    matcher = MarkMatcher.from_markers(
        pytest.Mark(name, (), kwargs, _ispytest=True) for name, kwargs in marks
    )
    return Expression.compile(text).evaluate(matcher)


@settings(database=None, max_examples=300)
@given(text=pytest_expressions, marks=test_marks)
def test_matches_agrees_with_pytest(text: str, marks: list[tuple[str, dict[str, object]]]) -> None:
    assert marked(text, *marks) is pytest_value(text, marks)


BAD_PIECES = st.sampled_from(["a", "b(", ")", "(", "x=", "1", ",", "'s'", " and ", " or ", "not "])


@settings(database=None, max_examples=300)
@given(text=st.lists(BAD_PIECES, min_size=1, max_size=8).map("".join))
def test_what_parses_agrees_with_pytest(text: str) -> None:
    from _pytest.mark.expression import Expression  # noqa: PLC0415

    try:
        Expression.compile(text)
    except SyntaxError:
        pytest_parses = False
    else:
        pytest_parses = bool(text.strip())  # pytest takes an empty expression; suitekit not
    try:
        MarkerExpression.compile(text)
    except MarkerSyntaxError:
        suitekit_parses = False
    else:
        suitekit_parses = True
    assert suitekit_parses is pytest_parses
