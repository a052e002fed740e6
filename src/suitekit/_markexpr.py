"""Marker expressions (``"processing and not slow"``), parsed and evaluated without pytest.

The grammar is the one of pytest's ``-m`` option, less keyword arguments::

    expression := or_expr EOF
    or_expr    := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | "(" or_expr ")" | IDENT

The core needs it on its own because the partition guard evaluates every suite's expression on
every collected test, and because configuration errors must be found before pytest runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Final, NoReturn

__all__ = ["MAX_DEPTH", "MarkerExpression", "MarkerSyntaxError"]

MAX_DEPTH: Final = 100
"""The deepest nesting of ``(`` and ``not`` an expression may have.

The parser and the compiled evaluator recurse once per level, so an expression nested thousands
deep would end in a ``RecursionError``; no real selection needs more than a few levels.
"""

_TOKEN = re.compile(r"\s*(?:(?P<paren>[()])|(?P<ident>(?:\w|:|\+|-|\.|\[|\]|\\|/)+))")
_SHOWN: Final = 120  # how much of an expression an error message quotes
_KEYWORDS = frozenset({"and", "or", "not"})

Evaluator = Callable[[AbstractSet[str]], bool]


class MarkerSyntaxError(ValueError):
    """The expression does not parse; the message says where."""


@dataclass(frozen=True, slots=True)
class MarkerExpression:
    """A compiled marker expression.

    Attributes:
        text: The expression as written.
        names: The marker names it mentions (for registering them with pytest).
    """

    text: str
    names: tuple[str, ...]
    _evaluate: Evaluator

    @classmethod
    def compile(cls, text: str) -> MarkerExpression:
        """Parse ``text``.

        Raises:
            MarkerSyntaxError: The text is not a marker expression.
        """
        tokens = _tokenize(text)
        parser = _Parser(text, tokens)
        evaluate = parser.parse()
        names = tuple(dict.fromkeys(t for t in tokens if t not in _KEYWORDS and t not in "()"))
        return cls(text, names, evaluate)

    def matches(self, markers: AbstractSet[str]) -> bool:
        """Whether a test carrying ``markers`` is selected."""
        return self._evaluate(markers)


def _tokenize(text: str) -> list[str]:
    tokens: list[str] = []
    position = 0
    stripped_end = len(text.rstrip())
    while position < stripped_end:
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            column = len(text) - len(text[position:].lstrip()) + 1
            message = f"unexpected character {text[position:].lstrip()[:1]!r} at column {column}"
            raise MarkerSyntaxError(message)
        tokens.append(match.group("paren") or match.group("ident"))
        position = match.end()
    if not tokens:
        message = "the expression is empty"
        raise MarkerSyntaxError(message)
    return tokens


class _Parser:
    def __init__(self, text: str, tokens: list[str]) -> None:
        self._text = text
        self._tokens = tokens
        self._index = 0
        self._depth = 0

    def parse(self) -> Evaluator:
        evaluate = self._or()
        if self._index != len(self._tokens):
            self._fail(f"unexpected {self._tokens[self._index]!r}")
        return evaluate

    def _peek(self) -> str | None:
        return self._tokens[self._index] if self._index < len(self._tokens) else None

    def _take(self) -> str:
        token = self._peek()
        if token is None:
            self._fail("the expression ends too early")
        self._index += 1
        return token

    def _fail(self, problem: str) -> NoReturn:
        shown = repr(self._text)
        if len(shown) > _SHOWN:  # a machine-made expression: its start is enough to find it
            shown = f"{shown[:_SHOWN]}... ({len(self._text)} characters)"
        message = f"{problem} in marker expression {shown}"
        raise MarkerSyntaxError(message)

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
        keyword: str,
        operand: Callable[[], Evaluator],
        combine: Callable[[Iterable[bool]], bool],
    ) -> Evaluator:
        """``operand (keyword operand)*``, true as ``combine`` (``any`` or ``all``) of its parts."""
        parts = [operand()]
        while self._peek() == keyword:
            self._index += 1
            parts.append(operand())
        if len(parts) == 1:
            return parts[0]
        return lambda markers: combine(part(markers) for part in parts)

    def _not(self) -> Evaluator:
        token = self._take()
        if token == "not":  # noqa: S105 - a keyword, not a password (same below)
            self._enter()
            inner = self._not()
            self._depth -= 1
            return lambda markers: not inner(markers)
        if token == "(":  # noqa: S105
            self._enter()
            inner = self._or()
            if self._take() != ")":
                self._fail("a '(' is not closed")
            self._depth -= 1
            return inner
        if token in _KEYWORDS or token == ")":  # noqa: S105
            self._fail(f"unexpected {token!r}")
        name = token
        return lambda markers: name in markers
