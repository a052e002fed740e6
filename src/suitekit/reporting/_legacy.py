"""Reading the reports of a run made before the default reports folder moved.

The default folder was ``reports/`` and is ``.suitekit/reports/`` (see
:data:`~suitekit._model.DEFAULT_REPORTS`). Reports written there by an earlier suitekit, or
CI artifacts downloaded there by hand, stay readable: ``suitekit report`` merges the old folder,
and writes its outputs into it, when all of these hold:

- the project's ``reports`` is the default (a folder it names is always the only one read);
- the default folder has no JUnit file (``.suitekit/reports/junit/*.xml``);
- the old one has (``reports/junit/*.xml``).

Such a report says so first, with the fix. Coverage data is not read from the old folder: the
data files name the folder of the session that wrote them, and a run measures afresh. Nothing
else ever writes into the old folder, and nothing is moved or deleted: it may be the project's
own.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from suitekit._layout import JUNIT_FOLDER
from suitekit._model import DEFAULT_REPORTS, LEGACY_REPORTS, Project

__all__ = ["reading"]


def _has_junit(reports: Path) -> bool:
    folder = reports / JUNIT_FOLDER
    return folder.is_dir() and any(path.is_file() for path in folder.glob("*.xml"))


def reading(project: Project) -> tuple[Project, str | None]:
    """The project as ``suitekit report`` reads it.

    Returns:
        The project, with ``reports`` pointing at the old ``reports/`` folder when its files
        are the ones to read (see the module's documentation), and then a note that says so;
        else the project unchanged and ``None``.
    """
    if project.reports != DEFAULT_REPORTS:
        return project, None
    if _has_junit(project.root / DEFAULT_REPORTS):
        return project, None
    legacy = project.root / LEGACY_REPORTS
    if not _has_junit(legacy):
        return project, None
    note = (
        f"suitekit: reading {legacy}/, the reports folder's former default: "
        f"{project.root / DEFAULT_REPORTS}/ has nothing to read yet (runs now write there; "
        f'to keep the old folder, set reports = "{LEGACY_REPORTS}" in [tool.suitekit])'
    )
    return replace(project, reports=LEGACY_REPORTS), note
