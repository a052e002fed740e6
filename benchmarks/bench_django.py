"""A Django suite under suitekit against plain pytest-django ``-n 2``, in the same virtualenv.

Run on demand (not part of the test suites):

    .venv/bin/python benchmarks/bench_django.py [--rounds 3]

It copies ``examples/library`` (a Django site: the lending app's two migrations and Django's
contrib apps', 23 integration tests using pytest-django's ``db`` fixture, ``TestCase`` and
``TransactionTestCase``) to a temporary folder and builds its ``integration`` session
virtualenv with one ``nox -s integration`` run. Both runs then use that virtualenv and the same
PostgreSQL server: ``DATABASE_URL`` when it is set, else one throwaway server suitekit starts
for the whole benchmark. ``--rounds`` times each, alternately, it times:

- **plain**: ``python -m pytest -n 2 -p no:suitekit tests/integration``, pytest-django alone:
  each xdist worker creates ``test_<name>_gwN`` and migrates it, and drops it at the end;
- **suitekit**: ``python -m pytest --suitekit-suite=integration -n 2`` (what the nox session
  runs) with ``SUITEKIT_KEEP_TEMPLATE=0``: the template is migrated once, each worker clones
  it, everything is dropped at the end;
- **kept** (only on a server named by ``DATABASE_URL``: a throwaway server keeps nothing): the
  same run with the template kept between runs, as a Django suite has it by default on a
  persistent server. Its first (cold) run, which migrates and keeps the template, is timed once
  before the rounds; the rounds then clone the kept template without migrating. The benchmark's
  copy of the project has a folder of its own, so its kept templates are its own: they are
  dropped at the end (``suitekit clean --templates``), as are the plain runs' test databases
  (pytest-django drops them).

Then the same again with ``--history`` more migrations (default 60) in the lending app's
history, each pair adding a column to a table and removing it again: an older project's
history of schema changes, which every plain run replays once per worker and suitekit once per
run. The final schema, and so the tests, are the same.

PYTHONDONTWRITEBYTECODE is dropped from the runs' environment, as on a user's machine. It
prints every round, the medians, their spread (min-max), and the ratio to plain of each, with
the goal: no slower (at most 1.0x).

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python benchmarks/bench_django.py --rounds 5
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shutil
import statistics
import sys
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Final

from bench_overhead import timed  # one way to time a command, beside this script

BIN: Final = Path(sys.executable).parent
EXAMPLE: Final = Path(__file__).resolve().parents[1] / "examples" / "library"
IGNORED: Final = shutil.ignore_patterns(".nox", "reports", ".venv*", "__pycache__", ".*_cache")


def environ(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This environment without settings that change what the runs do."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SUITEKIT_", "PYTEST_", "NOX_", "COVERAGE_", "DJANGO_"))
        and key not in ("PYTHONDONTWRITEBYTECODE", "DATABASE_URL", "VIRTUAL_ENV")
    }
    env.update(extra or {})
    return env


@contextlib.contextmanager
def server(project: Path) -> Iterator[str]:
    """The URL of the server both runs use: ``DATABASE_URL``, else a throwaway one."""
    url = os.environ.get("DATABASE_URL")
    if url:
        yield url
        return
    from suitekit import services  # noqa: PLC0415
    from suitekit.config import load_project  # noqa: PLC0415

    model = load_project(project)
    with services.provide(model, ("postgres",), environ(), say=print) as provided:
        yield provided["SUITEKIT_POSTGRES_URL"]


MIGRATION: Final = """\
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("lending", "{previous}")]
    operations = [{operation}]
"""
ADD: Final = 'migrations.AddField("book", "note_{n}", models.CharField(max_length=50, default=""))'
REMOVE: Final = 'migrations.RemoveField("book", "note_{n}")'


def add_history(project: Path, pairs: int) -> None:
    """Append ``pairs`` add-then-remove migrations to the lending app (same final schema)."""
    folder = project / "lending" / "migrations"
    previous = max(p.stem for p in folder.glob("0*.py"))
    number = int(previous[:4])
    for n in range(pairs):
        for operation in (ADD.format(n=n), REMOVE.format(n=n)):
            number += 1
            name = f"{number:04d}_history"
            text = MIGRATION.format(previous=previous, operation=operation)
            (folder / f"{name}.py").write_text(text, encoding="utf-8")
            previous = name


def drop_kept(project: Path, url: str) -> None:
    """Drop the kept templates of this benchmark's copy of the project (its own only)."""
    from suitekit import services  # noqa: PLC0415
    from suitekit.config import load_project  # noqa: PLC0415

    services.clean_templates(load_project(project), {"DATABASE_URL": url})


def measure(
    project: Path, python: Path, url: str, rounds: int, *, kept: bool
) -> dict[str, list[float]]:
    """``rounds`` runs of plain, suitekit (and kept, after its cold run), alternately."""
    # pytest-django's databases are test_<NAME>_gwN: a name of this benchmark's own.
    plain_env = environ({"DATABASE_URL": f"{url.rsplit('/', 1)[0]}/bench_{secrets.token_hex(3)}"})
    env = environ({"DATABASE_URL": url, "SUITEKIT_KEEP_TEMPLATE": "0"})
    kept_env = environ({"DATABASE_URL": url})
    plain = [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    plain += ["-p", "no:suitekit", "-n", "2", "tests/integration"]
    suitekit = [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    suitekit += ["--suitekit-suite=integration", "-n", "2"]
    walls: dict[str, list[float]] = {"plain": [], "suitekit": []}
    if kept:
        drop_kept(project, url)
        walls["kept (cold)"] = [timed(suitekit, project, kept_env)]
        print(f"  kept, cold (migrates and keeps the template): {walls['kept (cold)'][0]:.2f}s")
        walls["kept"] = []
    for index in range(rounds):
        walls["plain"].append(timed(plain, project, plain_env))
        walls["suitekit"].append(timed(suitekit, project, env))
        if kept:
            walls["kept"].append(timed(suitekit, project, kept_env))
        print(
            f"  round {index + 1}: "
            + ", ".join(f"{name} {v[-1]:.2f}s" for name, v in walls.items() if "cold" not in name)
        )
    if kept:
        drop_kept(project, url)
    return walls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--history", type=int, default=60, help="extra migrations (even)")
    parser.add_argument(
        "--no-kept", action="store_true", help="skip the kept-template runs (DATABASE_URL only)"
    )
    options = parser.parse_args()
    rounds = options.rounds
    kept = bool(os.environ.get("DATABASE_URL")) and not options.no_kept
    results: list[tuple[str, dict[str, list[float]]]] = []
    with tempfile.TemporaryDirectory(prefix="suitekit-bench-django-") as scratch:
        project = Path(scratch) / "library"
        shutil.copytree(EXAMPLE, project, ignore=IGNORED)
        with server(project) as url:
            print(f"project at {project}; building the integration session's virtualenv ...")
            timed([str(BIN / "nox"), "-s", "integration"], project, environ({"DATABASE_URL": url}))
            python = project / ".nox" / "integration-3-11" / "bin" / "python"
            print("examples/library as it is (20 migrations):")
            results.append(("as it is", measure(project, python, url, rounds, kept=kept)))
            add_history(project, options.history // 2)
            print(f"with {options.history} more migrations:")
            label = f"+{options.history} migrations"
            results.append((label, measure(project, python, url, rounds, kept=kept)))
    print(f"cpus {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}; medians of {rounds}")
    for label, walls in results:
        plain_s = statistics.median(walls["plain"])
        cells = [f"plain {plain_s:.2f}s ({min(walls['plain']):.2f}-{max(walls['plain']):.2f})"]
        for name, values in walls.items():
            if name == "plain":
                continue
            median = statistics.median(values)
            ratio = median / plain_s
            verdict = "" if name == "kept (cold)" else f", {'ok' if ratio <= 1.0 else 'MISSED'}"
            cells.append(
                f"{name} {median:.2f}s ({min(values):.2f}-{max(values):.2f}) {ratio:.2f}x{verdict}"
            )
        print(f"pytest-django -n 2, {label}: " + "; ".join(cells))
    print("goal: suitekit / plain <= 1.0x; (min-max) is the spread of the rounds")


if __name__ == "__main__":
    main()
