"""Reading ``[tool.suitekit.ci]``; refusing values a CI file would not take literally."""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Final, Literal, get_args

from suitekit._model import CiConfig
from suitekit.config._keys import CI_KEYS, did_you_mean, type_name
from suitekit.config._table import Table

__all__ = ["PIN_STYLES", "literal_ci_value", "read_ci"]

PinStyle = Literal["sha", "tag"]
PIN_STYLES: Final[tuple[PinStyle, ...]] = get_args(PinStyle)
"""``[tool.suitekit.ci] pin``: actions by commit SHA (the default) or by version tag."""


def read_ci(table: Table) -> CiConfig:
    """``[tool.suitekit.ci]``: the CI files' paths and what they run on."""
    table.finish(CI_KEYS)
    default = CiConfig()
    paths = {
        name: table.string(name, default=getattr(default, name)) for name in ("github", "gitlab")
    }
    for name, value in paths.items():
        where = Path(value)
        if (
            not value
            or where.is_absolute()
            or ".." in where.parts
            or not value.endswith((".yml", ".yaml"))
        ):
            raise table.error(
                name,
                f"{value!r} is not a YAML file path inside the project",
                f'write a relative path ending in .yml, e.g. {name} = "{getattr(default, name)}"',
            )
    if Path(paths["github"]) == Path(paths["gitlab"]):
        raise table.error(
            "gitlab",
            f"{paths['gitlab']!r} is also the GitHub workflow's path",
            "give the two CI files different paths",
        )
    comment = table.boolean("comment", default=default.comment)
    comment_path = CiConfig(github=paths["github"]).comment_path
    taken = next(
        (name for name, value in paths.items() if comment and Path(value) == Path(comment_path)),
        None,
    )
    if taken is not None:
        raise table.error(
            taken,
            f"{paths[taken]!r} is where comment = true writes the pull request comment "
            "workflow (beside the GitHub workflow)",
            f"give the {'GitHub workflow' if taken == 'github' else 'GitLab file'} another "
            f"file name than {Path(comment_path).name}",
        )
    runner = table.string("runner", default=default.runner)
    branches = table.str_list("branches", default=default.branches, allow_empty=False)
    suitekit = table.string("suitekit", default="") if "suitekit" in table.raw else ""
    for name, value in (*paths.items(), ("runner", runner), ("suitekit", suitekit)):
        literal_ci_value(table, name, value)
    for branch in branches:
        literal_ci_value(table, "branches", branch)
    return CiConfig(
        pin=_pin(table),
        github=paths["github"],
        gitlab=paths["gitlab"],
        runner=runner,
        branches=branches,
        # Empty (the default) means this suitekit's own version, from the index.
        suitekit=suitekit,
        configured=tuple(name for name in paths if name in table.raw),
        comment=comment,
    )


def _pin(table: Table) -> PinStyle:
    value = table.raw.get("pin", "sha")
    if value not in PIN_STYLES:
        if isinstance(value, str):
            problem = f"{value!r} is not a way to pin actions{did_you_mean(value, PIN_STYLES)}"
        else:
            problem = f"expected a string, got {type_name(value)}"
        raise table.error(
            "pin",
            problem,
            'write pin = "sha" (the default: each action by its commit, the version in a '
            'comment) or pin = "tag" (by version tag, which its owner can move)',
        )
    return value


_LINE_BREAKING: Final = frozenset({"Cc", "Zl", "Zp"})
"""Control characters and the line and paragraph separators (YAML 1.1 breaks lines at some)."""


def literal_ci_value(table: Table, name: str, value: str) -> None:
    """Refuse what a CI file would not take literally: an expression, or a line break.

    These values are written into the generated YAML (``runs-on:``, ``branches:``, ``run:``).
    GitHub expands ``${{ ... }}`` there before any shell quoting applies, and a newline or
    another control character would end the YAML line or the shell command early.
    """
    if "${{" in value:
        raise table.error(
            name,
            f"{value!r} holds '${{{{', an expression GitHub would expand in the workflow "
            "(before the shell's quoting), so the value could run code there",
            "write the value itself; compute anything dynamic in the workflow, not here",
        )
    bad = next((char for char in value if unicodedata.category(char) in _LINE_BREAKING), None)
    if bad is not None:
        raise table.error(
            name,
            f"{value!r} holds the control or line-break character {bad!r}, which would break "
            "the line it is written on in the CI file",
            "write the value on one line, without control characters",
        )
