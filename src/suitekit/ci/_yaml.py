"""A small, deterministic YAML emitter for the CI files suitekit writes.

Only what CI files need: mappings with string keys, sequences, strings, ints, bools and null,
all in block style, two spaces per level, sequences indented under their key (the style of
GitHub's and GitLab's own examples). Output is a pure function of the input, so that a
regenerated file can be compared with the committed one byte for byte.

Strings are written plain when a YAML 1.1 reader (PyYAML, GitLab's Ruby parser) and a YAML 1.2
reader (GitHub, ruamel.yaml) both read them back as the same string; otherwise they are quoted,
always with double quotes (one escaping rule to get right). Multi-line strings, such as the
``run`` scripts of steps, become literal blocks (``|``), which keep every character as written.

PyYAML is not used at run time: suitekit would otherwise depend on it for a few hundred lines of
output, and its emitter's choices (line folding, quoting style) are harder to keep stable across
its versions than our own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, TypeAlias, TypeGuard

__all__ = ["Commented", "Spaced", "YamlValue", "dump"]

YamlValue: TypeAlias = (
    "str | int | bool | Commented | Mapping[str, YamlValue] | Sequence[YamlValue] | None"
)
"""What :func:`dump` writes: scalars, and mappings and sequences of them."""


@dataclass(frozen=True, slots=True)
class Commented:
    """A string written with a comment after it on its line: ``uses: a/b@<sha> # v1.2.3``.

    Dependabot and Renovate read the comment of a pinned action as its version, and rewrite it
    with the SHA. The comment must fit on one line.
    """

    text: str
    comment: str

    def __post_init__(self) -> None:
        """Refuse a comment that would end its line early."""
        if not _PRINTABLE.fullmatch(self.comment):
            message = f"a comment must be printable text on one line, not {self.comment!r}"
            raise ValueError(message)


class Spaced(dict[str, "YamlValue"]):
    """A mapping written with a blank line between its entries (CI jobs read better so)."""

    __slots__ = ()


_INDENT: Final = 2

# Characters that may not start a plain scalar (YAML 1.2, 7.3.3 "c-indicator").
_INDICATORS: Final = frozenset("-?:,[]{}#&*!|>'\"%@`")
# Those three may start one when a non-space character follows ("-x", ":x", "?x").
_INDICATORS_BEFORE_TEXT: Final = frozenset("-?:")

# Scalars a YAML 1.1 or 1.2 reader resolves to something other than a string: null, booleans
# (YAML 1.1 also reads yes/no/on/off and y/n), numbers in any base, sexagesimal numbers and
# timestamps (YAML 1.1), infinities and NaN, the merge key and the YAML 1.1 value key.
_NOT_A_STRING: Final = re.compile(
    r"""
    ~ | null | Null | NULL
    | (?i: y | n | yes | no | true | false | on | off )
    | [-+]? [0-9_.,:]* [0-9] [0-9a-zA-Z_.,:+-]*   # anything numeric-looking, dates included
    | [-+]? \. (?i: inf | nan )
    | << | =
    """,
    re.VERBOSE,
)

# Printable characters (YAML 1.2, 5.1), minus the line breaks, tab and byte order mark, which
# a plain scalar or a literal block cannot hold as written. Written as the complement (control
# characters, C1, U+2028/9, surrogates, BOM, U+FFFE/F): the same set, but a class of the wide
# printable ranges took 20 ms to compile.
_PRINTABLE: Final = re.compile("[^\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]*")
_PRINTABLE_IN_BLOCK: Final = re.compile(
    "[^\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]*"
)

_ESCAPES: Final = {
    "\0": "\\0",
    "\a": "\\a",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\v": "\\v",
    "\f": "\\f",
    "\r": "\\r",
    "\x1b": "\\e",
    '"': '\\"',
    "\\": "\\\\",
    "\x85": "\\N",
    "\xa0": "\\_",
    "\u2028": "\\L",
    "\u2029": "\\P",
}


def dump(document: Mapping[str, YamlValue], *, header: Sequence[str] = ()) -> str:
    """The YAML text of ``document``, a mapping, preceded by ``header`` as comment lines.

    The top-level entries are separated by blank lines, as are the entries of any
    :class:`Spaced` mapping. The text ends with one newline.

    Raises:
        TypeError: A value is of a type YAML output is not defined for here (a float, bytes).
    """
    lines = [f"# {line}".rstrip() for line in header]
    if lines:
        lines.append("")
    lines += _mapping(document, 0, spaced=True) if document else ["{}"]
    return "\n".join(lines) + "\n"


def _mapping(mapping: Mapping[str, YamlValue], indent: int, *, spaced: bool) -> list[str]:
    lines: list[str] = []
    pad = " " * indent
    for number, (key, value) in enumerate(mapping.items()):
        if spaced and number:
            lines.append("")
        lines += _entry(f"{pad}{_key(key)}:", value, indent)
    return lines


def _key(key: object) -> str:
    # Typed callers pass strings; this catches the others before they write a broken file.
    if not isinstance(key, str):
        message = f"a mapping key must be a string, not {key!r}"
        raise TypeError(message)
    return _scalar_text(key)


def _entry(head: str, value: YamlValue, indent: int) -> list[str]:
    """``head`` (``key:`` or ``-``) followed by ``value``, on one line or as a nested block."""
    if isinstance(value, Mapping) and value:
        return [head, *_mapping(value, indent + _INDENT, spaced=isinstance(value, Spaced))]
    if _is_sequence(value) and value:
        return [head, *_sequence(value, indent + _INDENT)]
    if isinstance(value, str) and _as_block(value):
        return [f"{head} {_block_header(value)}", *_block_lines(value, indent + _INDENT)]
    if value is None and head.endswith(":"):
        return [head]  # `pull_request:` reads as null, and is how workflows write it
    if isinstance(value, Commented):
        text = _scalar_text(value.text)
        return [f"{head} {text} # {value.comment}" if value.comment else f"{head} {text}"]
    return [f"{head} {_inline(value)}"]


def _sequence(items: Sequence[YamlValue], indent: int) -> list[str]:
    lines: list[str] = []
    pad = " " * indent
    for item in items:
        if (isinstance(item, Mapping) or _is_sequence(item)) and item:
            # The item's block, indented one level, with its first indent replaced by "- ".
            block = (
                _mapping(item, indent + _INDENT, spaced=False)
                if isinstance(item, Mapping)
                else _sequence(item, indent + _INDENT)
            )
            lines.append(f"{pad}- {block[0][indent + _INDENT :]}")
            lines += block[1:]
        else:
            lines += _entry(f"{pad}-", item, indent)
    return lines


def _is_sequence(value: object) -> TypeGuard[Sequence[YamlValue]]:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes | bytearray)


def _inline(value: YamlValue) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _scalar_text(value)
    if isinstance(value, Mapping):
        return "{}"
    if _is_sequence(value):
        return "[]"
    message = f"cannot write a {type(value).__name__} as YAML: {value!r}"
    raise TypeError(message)


def _scalar_text(text: str) -> str:
    """``text`` plain when every reader reads it back unchanged, else double-quoted."""
    return text if _plain_ok(text) else _double_quoted(text)


def _plain_ok(text: str) -> bool:
    if not text or text != text.strip(" ") or not _PRINTABLE.fullmatch(text):
        return False
    first = text[0]
    if first in _INDICATORS and not (
        first in _INDICATORS_BEFORE_TEXT and len(text) > 1 and text[1] != " "
    ):
        return False
    if text.startswith(("---", "...")):  # document markers at the start of a line
        return False
    if ": " in text or " #" in text or text.endswith(":"):
        return False
    return not _NOT_A_STRING.fullmatch(text)


def _double_quoted(text: str) -> str:
    out = []
    for char in text:
        escape = _ESCAPES.get(char)
        if escape is not None:
            out.append(escape)
        elif _PRINTABLE.fullmatch(char):
            out.append(char)
        elif ord(char) <= 0xFF:  # noqa: PLR2004 - the \x escape's range
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) <= 0xFFFF:  # noqa: PLR2004 - the \u escape's range
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    return '"' + "".join(out) + '"'


def _as_block(text: str) -> bool:
    """Whether ``text`` is written as a literal block: several lines that a block keeps as is.

    A first line that starts with a space or is empty would need an indentation indicator,
    characters outside YAML's printable set need escapes, and several final line breaks would
    need the "keep" indicator, which would also keep the blank line that may follow the block:
    such text is double-quoted.
    """
    return (
        "\n" in text
        and not text.startswith((" ", "\n", "\t"))
        and not text.endswith("\n\n")
        and _PRINTABLE_IN_BLOCK.fullmatch(text) is not None
        # A line of spaces before the last line break would be read as content indentation.
        and not any(line and not line.strip(" ") for line in text.split("\n"))
    )


def _block_header(text: str) -> str:
    return "|" if text.endswith("\n") else "|-"  # clip one final line break, or strip none


def _block_lines(text: str, indent: int) -> list[str]:
    pad = " " * indent
    body = text.removesuffix("\n")
    return [f"{pad}{line}" if line else "" for line in body.split("\n")]
