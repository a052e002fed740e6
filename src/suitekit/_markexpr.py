r"""Marker expressions (``"processing and not slow"``), parsed and evaluated without pytest.

The grammar is the one of pytest's ``-m`` option, keyword arguments included::

    expression := or_expr EOF
    or_expr    := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | "(" or_expr ")" | IDENT ("(" kwargs ")")?
    kwargs     := NAME "=" VALUE ("," NAME "=" VALUE)*
    VALUE      := a string in '...' or "..." (no backslash: no escapes)
                | a whole number (-?[0-9]+) | True | False | None

``IDENT`` is made of word characters and ``: + - . [ ] \ /``; ``NAME`` is an ``IDENT`` that is
a Python identifier and not a Python keyword; each keyword argument is named once. A marker
name alone selects a test that carries that marker; ``device(serial="1")`` selects a test that
carries a ``device`` marker whose keyword arguments include ``serial="1"`` (compared with
``==``, as pytest does, so ``n=1`` also matches ``n=True``). As pytest, numbers are whole:
``1.5`` is no value.

Two differences from pytest, both stricter or wider only where pytest's choice makes no sense
in a configuration file: an empty expression is an error (pytest selects nothing), and any
whitespace separates tokens (pytest takes spaces and tabs only), so a TOML multi-line string
works.

The core needs it on its own because the partition guard evaluates every suite's expression on
every collected test, and because configuration errors must be found before pytest runs.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal, NoReturn

__all__ = ["MAX_DEPTH", "NO_KWARGS", "MarkKwargs", "MarkerExpression", "MarkerSyntaxError", "Value"]

MAX_DEPTH: Final = 100
"""The deepest nesting of ``(`` and ``not`` an expression may have.

The parser and the compiled evaluator recurse once per level, so an expression nested thousands
deep would end in a ``RecursionError``; no real selection needs more than a few levels.
"""

Value = str | int | bool | None
"""What a keyword argument of an expression may be (pytest's ``-m`` takes the same)."""

MarkKwargs = Mapping[str, Sequence[Mapping[str, object]]]
"""A test's markers' keyword arguments: for each marker name, the ``kwargs`` of each of its
marks that has any (a test may carry ``device(serial="1")`` and ``device(serial="2")``)."""

NO_KWARGS: Final[MarkKwargs] = MappingProxyType({})
"""No marker has keyword arguments."""

_NO_ARGUMENTS: Final[Mapping[str, Value]] = MappingProxyType({})
_PUNCTUATION: Final = "()=,"
_IDENT = re.compile(r"(?:\w|:|\+|-|\.|\[|\]|\\|/)+")
_NUMBER = re.compile(r"-?\d+")
_SHOWN: Final = 120  # how much of an expression an error message quotes
_KEYWORDS = frozenset({"and", "or", "not"})
_CONSTANTS: Final[Mapping[str, Value]] = {"True": True, "False": False, "None": None}

Matcher = Callable[[str, Mapping[str, Value]], bool]
"""Whether the test carries the marker ``name`` with (at least) the given keyword arguments."""
Evaluator = Callable[[Matcher], bool]
_Kind = Literal["punct", "string", "ident"]


class MarkerSyntaxError(ValueError):
    """The expression does not parse; the message says where."""


@dataclass(frozen=True, slots=True)
class _Token:
    kind: _Kind
    text: str
    column: int  # 1-based, for messages


@dataclass(frozen=True, slots=True)
class MarkerExpression:
    """A compiled marker expression.

    Attributes:
        text: The expression as written.
        names: The marker names it mentions (for registering them with pytest), without the
            names and values of keyword arguments.
        uses_kwargs: Whether it gives any marker keyword arguments (``device(serial="1")``):
            only then does :meth:`matches` read a test's marks' keyword arguments, which are
            otherwise not worth collecting.
    """

    text: str
    names: tuple[str, ...]
    uses_kwargs: bool
    _evaluate: Evaluator

    @classmethod
    def compile(cls, text: str) -> MarkerExpression:
        """Parse ``text``.

        Raises:
            MarkerSyntaxError: The text is not a marker expression.
        """
        parser = _Parser(text, _tokenize(text))
        evaluate = parser.parse()
        return cls(text, tuple(parser.names), parser.uses_kwargs, evaluate)

    def matches(self, markers: AbstractSet[str], kwargs: MarkKwargs = NO_KWARGS) -> bool:
        """Whether a test carrying ``markers`` is selected.

        Args:
            markers: The names of the test's markers.
            kwargs: Their keyword arguments (see :data:`MarkKwargs`); only an expression that
                gives a marker keyword arguments reads them.
        """

        def matcher(name: str, wanted: Mapping[str, Value]) -> bool:
            if not wanted:
                return name in markers
            return any(_carries(given, wanted) for given in kwargs.get(name, ()))

        return self._evaluate(matcher)


_MISSING: Final = object()


def _carries(given: Mapping[str, object], wanted: Mapping[str, Value]) -> bool:
    """Whether a mark's keyword arguments ``given`` hold every one of ``wanted``."""
    for name, value in wanted.items():
        found = given.get(name, _MISSING)
        try:
            if found is _MISSING or not bool(found == value):
                return False
        except Exception:  # noqa: BLE001 - a test's own object whose == fails matches nothing
            return False
    return True


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(text):
        char = text[position]
        if char.isspace():
            position += 1
        elif char in _PUNCTUATION:
            tokens.append(_Token("punct", char, position + 1))
            position += 1
        elif char in "'\"":
            end = text.find(char, position + 1)
            if end == -1:
                message = f"the quote {char} at column {position + 1} is not closed"
                raise MarkerSyntaxError(_where(message, text))
            quoted = text[position : end + 1]
            if "\\" in quoted:
                column = position + quoted.index("\\") + 1
                message = (
                    f"a backslash at column {column}: strings in marker expressions have no "
                    "escapes (quote with the other quote character instead)"
                )
                raise MarkerSyntaxError(_where(message, text))
            tokens.append(_Token("string", quoted, position + 1))
            position = end + 1
        elif match := _IDENT.match(text, position):
            tokens.append(_Token("ident", match.group(), position + 1))
            position = match.end()
        else:
            message = f"unexpected character {char!r} at column {position + 1}"
            raise MarkerSyntaxError(_where(message, text))
    if not tokens:
        message = "the expression is empty"
        raise MarkerSyntaxError(_where(message, text))
    return tokens


def _where(problem: str, text: str) -> str:
    """``problem`` followed by the expression, shortened when a machine made it long."""
    shown = repr(text)
    if len(shown) > _SHOWN:  # a machine-made expression: its start is enough to find it
        shown = f"{shown[:_SHOWN]}... ({len(text)} characters)"
    return f"{problem} in marker expression {shown}"


class _Parser:
    def __init__(self, text: str, tokens: list[_Token]) -> None:
        self._text = text
        self._tokens = tokens
        self._index = 0
        self._depth = 0
        self.names: dict[str, None] = {}  # in order of first appearance
        self.uses_kwargs = False

    def parse(self) -> Evaluator:
        evaluate = self._or()
        if self._index != len(self._tokens):
            self._fail(f"unexpected {self._tokens[self._index].text!r}")
        return evaluate

    def _peek(self) -> _Token | None:
        return self._tokens[self._index] if self._index < len(self._tokens) else None

    def _peek_is(self, text: str) -> bool:
        token = self._peek()
        return token is not None and token.kind != "string" and token.text == text

    def _take(self) -> _Token:
        token = self._peek()
        if token is None:
            self._fail("the expression ends too early")
        self._index += 1
        return token

    def _fail(self, problem: str) -> NoReturn:
        raise MarkerSyntaxError(_where(problem, self._text))

    def _enter(self) -> None:
        """Go one level deeper (a ``(`` or a ``not``), refusing to go past :data:`MAX_DEPTH`."""
        self._depth += 1
        if self._depth > MAX_DEPTH:
            self._fail(f"'(' and 'not' nested more than {MAX_DEPTH} deep (at token {self._index})")

    def _or(self) -> Evaluator:
        return self._chain("or", self._and, any)

    def _and(self) -> Evaluator:
        return self._chain("and", self._not, all)

    def _chain(
        self,
        word: str,
        operand: Callable[[], Evaluator],
        combine: Callable[[Iterable[bool]], bool],
    ) -> Evaluator:
        """``operand (word operand)*``, true as ``combine`` (``any`` or ``all``) of its parts."""
        parts = [operand()]
        while self._peek_is(word):
            self._index += 1
            parts.append(operand())
        if len(parts) == 1:
            return parts[0]
        return lambda matcher: combine(part(matcher) for part in parts)

    def _not(self) -> Evaluator:
        token = self._take()
        if (
            token.kind == "string"
            or (token.kind == "punct" and token.text != "(")
            or token.text in {"and", "or"}
        ):
            self._fail(f"unexpected {token.text!r}")
        if token.text == "not":
            self._enter()
            inner = self._not()
            self._depth -= 1
            return lambda matcher: not inner(matcher)
        if token.text == "(":
            self._enter()
            inner = self._or()
            if not self._peek_is(")"):
                self._take()  # the expression ends too early, or:
                self._fail("a '(' is not closed")
            self._index += 1
            self._depth -= 1
            return inner
        name = token.text
        self.names.setdefault(name)
        if not self._peek_is("("):
            return lambda matcher: matcher(name, _NO_ARGUMENTS)
        self._index += 1
        self.uses_kwargs = True
        wanted = MappingProxyType(self._kwargs(name))
        return lambda matcher: matcher(name, wanted)

    def _kwargs(self, marker: str) -> dict[str, Value]:
        """``NAME=VALUE, ...)``: the keyword arguments after ``marker(``, through the ``)``."""
        kwargs: dict[str, Value] = {}
        while True:
            token = self._take()
            if token.kind != "ident" or token.text in _KEYWORDS:
                self._fail(
                    f"expected a keyword argument (name=value) after '{marker}(', "
                    f"got {token.text!r} at column {token.column}"
                )
            name = token.text
            if not name.isidentifier() or keyword.iskeyword(name):
                what = "a Python keyword" if keyword.iskeyword(name) else "not a Python identifier"
                self._fail(f"the argument name {name!r} of {marker!r} is {what}")
            if name in kwargs:
                self._fail(f"the argument {name!r} of {marker!r} is given twice")
            if not self._peek_is("="):
                self._fail(f"expected '=' after the argument name {name!r} of {marker!r}")
            self._index += 1
            kwargs[name] = self._value(marker, name)
            token = self._take()
            if token.kind != "string" and token.text == ")":
                return kwargs
            if token.kind == "string" or token.text != ",":
                self._fail(
                    f"expected ',' or ')' after the argument {name!r} of {marker!r}, "
                    f"got {token.text!r} at column {token.column}"
                )

    def _value(self, marker: str, name: str) -> Value:  # noqa: RET503 - _fail never returns
        token = self._take()
        if token.kind == "string":
            return token.text[1:-1]
        if token.kind == "ident":
            if token.text in _CONSTANTS:
                return _CONSTANTS[token.text]
            if _NUMBER.fullmatch(token.text):  # \d: decimal digits, which int() reads
                return int(token.text)
        self._fail(
            f"{token.text!r} is no value for the argument {name!r} of {marker!r} (values are "
            "strings in quotes, whole numbers, True, False and None)"
        )
