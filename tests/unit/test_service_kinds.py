"""The services suitekit knows: one kind (data) and one backend (behaviour) each, by one name."""

from __future__ import annotations

from pathlib import Path

import pytest

from suitekit import _handoff
from suitekit._kinds import KINDS
from suitekit._model import SERVICES, Project, ServiceConfig
from suitekit.services._backend import BACKENDS
from suitekit.services._resources import WorkerResources


def test_every_kind_has_a_backend_and_every_backend_a_kind() -> None:
    assert list(KINDS) == list(BACKENDS) == list(SERVICES)
    assert all(backend.kind is KINDS[name] for name, backend in BACKENDS.items())


@pytest.mark.parametrize("name", list(KINDS))
def test_a_kind_is_consistent(name: str) -> None:
    kind = KINDS[name]
    assert kind.name == name == name.lower()
    assert kind.provided_url == _handoff.provided_url(name)
    assert kind.default_env == kind.presets["url"]
    assert kind.example_url.split("://", 1)[0] in kind.schemes
    assert f":{kind.default_port}" in kind.example_url
    assert set(kind.keys) >= {"url", "env"}
    # Every template of every preset uses only the kind's fields.
    for preset in kind.presets.values():
        for template in preset.values():
            template.format_map(dict.fromkeys(kind.fields, ""))


def test_the_built_in_services_variables_are_the_declared_ones() -> None:
    assert _handoff.provided_url("postgres") == _handoff.ENV_POSTGRES_URL
    assert _handoff.provided_url("redis") == _handoff.ENV_REDIS_URL
    assert _handoff.provided_url("mysql") == "SUITEKIT_MYSQL_URL"


def test_a_project_has_every_service_and_defaults_for_those_not_given() -> None:
    given = ServiceConfig(service="redis", url="redis://h:1/0", env={})
    root = Path("/project")
    project = Project(
        root=root, config_file=root / "pyproject.toml", python=("3.11",), services={"redis": given}
    )
    assert list(project.services) == list(KINDS)
    assert project.redis is given
    assert project.redis.env == {}  # an empty env is kept: no variable, not the default
    assert project.postgres == ServiceConfig(service="postgres")
    assert project.postgres.env == KINDS["postgres"].default_env


def test_worker_resources_carry_other_services_parts() -> None:
    resources = WorkerResources(
        run_id="r", suite="s", worker="gw1", hashseed="1", given={"mysql": "sk_r_gw1"}
    )
    assert WorkerResources.from_json(resources.to_json()) == resources
    assert resources.describe() == "gw1: mysql sk_r_gw1"
    assert (
        "given" not in WorkerResources(run_id="r", suite="s", worker="gw1", hashseed="").to_json()
    )
