"""Generated CI for a project with MariaDB: a service container with a health check.

Golden files (``tests/unit/golden/ci/mysql.*.yml``), validated as every generated file is, by
actionlint (with shellcheck) and by the providers' JSON schemas.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Final

import pytest

from suitekit import Project
from suitekit.ci import PROVIDERS, Provider, render
from suitekit.ci._pins import IMAGES
from suitekit.services._endpoints import MySQLServer
from tests.unit.test_ci import VERSION, loaded, tool, write_project
from tests.unit.test_summary import assert_golden

SHOP: Final = """\
[project]
name = "shop"
version = "1.0"

[dependency-groups]
test = ["pytest", "pymysql"]

[tool.suitekit]
python = ["3.12"]
install = { groups = ["test"] }

[tool.suitekit.suites.unit]
paths = ["tests/unit"]

[tool.suitekit.suites.integration]
paths = ["tests/integration"]
services = ["mariadb", "redis"]
shards = 2

[tool.suitekit.services.mysql]
setup = ["python migrate.py"]
env = ["url", "split"]

[tool.suitekit.checks]
migrations = { run = "python migrate.py", services = ["mysql"] }
"""


@pytest.fixture
def shop(tmp_path: Path) -> Project:
    return write_project(tmp_path, SHOP)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_golden_files(shop: Project, provider: Provider) -> None:
    assert_golden(f"ci/mysql.{provider}.yml", render(shop, provider, version=VERSION))


def test_actionlint_accepts_the_workflow(tmp_path: Path, shop: Project) -> None:
    path = tmp_path / "mysql.yml"
    path.write_text(render(shop, "github", version=VERSION), encoding="utf-8")

    result = subprocess.run(
        [tool("actionlint"), "-no-color", "-shellcheck", tool("shellcheck"), str(path)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("provider", "schema"),
    [("github", "vendor.github-workflows"), ("gitlab", "vendor.gitlab-ci")],
)
def test_the_providers_schemas_accept_the_files(
    tmp_path: Path, shop: Project, provider: Provider, schema: str
) -> None:
    path = tmp_path / f"mysql.{provider}.yml"
    path.write_text(render(shop, provider, version=VERSION), encoding="utf-8")

    result = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", schema, str(path)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_github_runs_mariadb_with_a_health_check_on_tmpfs(shop: Project) -> None:
    jobs = loaded(render(shop, "github", version=VERSION))["jobs"]
    job = next(job for name, job in jobs.items() if name.startswith("integration"))

    mariadb = job["services"]["mysql"]
    # Pinned to a full version, in the major of the local throwaway servers.
    assert mariadb["image"] == f"mariadb:{IMAGES['mariadb']}"
    assert mariadb["image"].startswith("mariadb:11.")
    assert mariadb["env"] == {"MARIADB_ALLOW_EMPTY_ROOT_PASSWORD": "1"}
    assert "--tmpfs /var/lib/mysql" in mariadb["options"]
    assert '--health-cmd "healthcheck.sh --connect --innodb_initialized"' in mariadb["options"]
    server = MySQLServer.from_url(job["env"]["SUITEKIT_MYSQL_URL"])
    assert (server.host, server.port, server.user, server.password) == (
        "127.0.0.1",
        3306,
        "root",
        "",
    )
    tune = next(step for step in job["steps"] if step["name"].startswith("Tune MariaDB"))
    assert tune["env"] == {"MYSQL_CONTAINER": "${{ job.services.mysql.id }}"}
    assert "SET GLOBAL innodb_flush_log_at_trx_commit = 0;" in tune["run"]
    # Only the jobs that need it get it: the unit suite runs without.
    unit = next(job for name, job in jobs.items() if name.startswith("unit"))
    assert "services" not in unit


def test_gitlab_passes_mariadb_its_settings_and_reaches_it_by_alias(shop: Project) -> None:
    pipeline = loaded(render(shop, "gitlab", version=VERSION))
    job = next(job for name, job in pipeline.items() if name.startswith("integration"))

    image = f"mariadb:{IMAGES['mariadb']}"
    (mariadb,) = (service for service in job["services"] if service["name"] == image)
    assert mariadb["command"][0] == "mariadbd"
    assert "--innodb-flush-log-at-trx-commit=0" in mariadb["command"]
    assert MySQLServer.from_url(job["variables"]["SUITEKIT_MYSQL_URL"]).host == mariadb["alias"]
