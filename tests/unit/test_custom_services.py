"""Services of the project's own: ``[tool.suitekit.services.<name>]`` with ``run``.

How they are read (every key, the defaults, each bad value with its key and fix, a name in a
suite's ``services``), and the pure parts of running them: the templates' fields, the
instance records' round trip and the log tail of a failed start.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import pytest

from suitekit import ConfigError, Project
from suitekit._model import UserService
from suitekit.services import _custom
from tests.unit.test_config import ROOT, SUITES, Edit, assert_well_formed, edited, make_folders
from tests.unit.test_config import parse as parse_document

SERVICES: Final = (*ROOT, "services")
NATS: Final = (*SERVICES, "nats")
NATS_KEY: Final = "tool.suitekit.services.nats"
INTEGRATION: Final = (*SUITES, "integration", "services")
RUN: Final = "nats-server -a {host} -p {port} --store_dir '{dir}/store'"


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    make_folders(tmp_path)
    return tmp_path / "pyproject.toml"


def with_nats(config_file: Path, table: dict[str, Any], *more: Edit) -> Project:
    document = edited((NATS, table), (INTEGRATION, ["postgres", "nats"]), *more)
    return parse_document(document, config_file)


def test_a_table_with_run_is_a_service_of_the_projects_own(config_file: Path) -> None:
    project = with_nats(config_file, {"run": RUN, "env": {"NATS_URL": "nats://{host}:{port}"}})

    assert project.custom_services == (
        UserService(
            name="nats",
            run=("nats-server", "-a", "{host}", "-p", "{port}", "--store_dir", "{dir}/store"),
            env={"NATS_URL": "nats://{host}:{port}"},
        ),
    )
    integration = project.suite("integration")
    assert integration.services == ("postgres",)
    assert integration.custom_services == ("nats",)
    assert "nats" not in project.services  # the built-ins' settings only


def test_every_key_is_read(config_file: Path) -> None:
    table = {
        "run": ["mosquitto", "-p", "{port}"],
        "ready": "http://{host}:{port}/healthz",
        "env": {"MQTT_URL": "mqtt://{host}:{port}", "MQTT_DIR": "{dir}", "WHO": "{worker}"},
        "scope": "run",
        "timeout": 2.5,
        "memory": "512M",
        "image": "eclipse-mosquitto:2",
        "install": "apt install mosquitto",
    }
    (service,) = with_nats(config_file, table).custom_services

    assert service == UserService(
        name="nats",
        run=("mosquitto", "-p", "{port}"),
        ready_kind="http",
        ready=("http://{host}:{port}/healthz",),
        env={"MQTT_URL": "mqtt://{host}:{port}", "MQTT_DIR": "{dir}", "WHO": "{worker}"},
        scope="run",
        timeout=2.5,
        memory=512 * 1024 * 1024,
        image="eclipse-mosquitto:2",
        install="apt install mosquitto",
    )
    assert service.key == NATS_KEY


@pytest.mark.parametrize(
    ("ready", "kind", "args"),
    [
        pytest.param("tcp", "tcp", (), id="tcp"),
        pytest.param("https://{host}:{port}/", "http", ("https://{host}:{port}/",), id="https"),
        pytest.param(
            "nats-server --help", "command", ("nats-server", "--help"), id="a-command-line"
        ),
        pytest.param(
            ["sh", "-c", "test -e {dir}/up"],
            "command",
            ("sh", "-c", "test -e {dir}/up"),
            id="an-array",
        ),
    ],
)
def test_the_ready_kinds(config_file: Path, ready: object, kind: str, args: tuple[str]) -> None:
    (service,) = with_nats(config_file, {"run": RUN, "ready": ready}).custom_services

    assert (service.ready_kind, service.ready) == (kind, args)


@pytest.mark.parametrize(
    ("memory", "size"),
    [(1 << 20, 1 << 20), ("64m", 64 << 20), ("2G", 2 << 30), ("1024 KiB", 1 << 20)],
)
def test_memory_sizes(config_file: Path, memory: object, size: int) -> None:
    (service,) = with_nats(config_file, {"run": RUN, "memory": memory}).custom_services

    assert service.memory == size


CUSTOM_ERRORS: Final = [
    pytest.param(
        [(NATS, {"ready": "tcp"})],
        NATS_KEY,
        r"unknown service 'nats': it is none of suitekit's services, and has no run command to "
        r"be one of your own\n  fix: use one of suitekit's services: postgres, redis",
        id="no-run",
    ),
    pytest.param(
        [((*SERVICES, "redis-cache"), {"url": "redis://h/0"})],
        "tool.suitekit.services.redis-cache",
        r"unknown service 'redis-cache' \(did you mean 'redis'\?\)",
        id="a-typo-of-a-builtin",
    ),
    pytest.param(
        [((*SERVICES, "postgres", "run"), "postgres -p {port}")],
        "tool.suitekit.services.postgres.run",
        r"'postgres' is a service suitekit provides itself, so its table takes no `run`: a "
        r"service of your own needs a name of its own\n  fix: rename the table, e\.g\. "
        r"\[tool\.suitekit\.services\.my-postgres\]",
        id="shadows-a-builtin",
    ),
    pytest.param(
        [((*SERVICES, "9lives"), {"run": "x"})],
        "tool.suitekit.services.9lives",
        r"'9lives' is not a usable service name",
        id="bad-name",
    ),
    pytest.param(
        [(NATS, {"run": RUN, "start": "x"})],
        f"{NATS_KEY}.start",
        r"unknown key 'start'",
        id="unknown-key",
    ),
    pytest.param(
        [(NATS, {"run": ""})],
        f"{NATS_KEY}.run",
        r"the command is empty",
        id="empty-run",
    ),
    pytest.param(
        [(NATS, {"run": 3})],
        f"{NATS_KEY}.run",
        r"expected a command line or an array of its arguments, got an integer",
        id="run-not-a-command",
    ),
    pytest.param(
        [(NATS, {"run": "nats-server -p '{port}"})],
        f"{NATS_KEY}.run",
        r"cannot be split into arguments \(no closing quotation\)",
        id="run-unclosed-quote",
    ),
    pytest.param(
        [(NATS, {"run": "nats-server -p {prot}"})],
        f"{NATS_KEY}.run",
        r"'\{prot\}' uses an unknown field \{prot\} \(did you mean 'port'\?\)\n"
        r"  fix: use \{port\}, \{dir\}, \{host\}, \{worker\}",
        id="run-unknown-field",
    ),
    pytest.param(
        [(NATS, {"run": "nats-server -p {port:d}"})],
        f"{NATS_KEY}.run",
        r"cannot be rendered",
        id="run-conversion",
    ),
    pytest.param(
        [(NATS, {"run": RUN, "env": {"NATS_URL": "nats://{url}"}})],
        f"{NATS_KEY}.env",
        r"NATS_URL = 'nats://\{url\}' uses an unknown field \{url\}",
        id="env-unknown-field",
    ),
    pytest.param(
        [(NATS, {"run": RUN, "env": {"1X": "{port}"}})],
        f"{NATS_KEY}.env.1X",
        r"'1X' is not an environment variable name",
        id="env-bad-name",
    ),
    pytest.param(
        [(NATS, {"run": RUN, "ready": "http:///healthz:{port}"})],
        f"{NATS_KEY}.ready",
        r"is not an http:// URL",
        id="ready-bad-url",
    ),
    pytest.param(
        [(NATS, {"run": RUN, "ready": "http"})],
        f"{NATS_KEY}.ready",
        r"'http' is neither \"tcp\", an http:// URL nor a command",
        id="ready-half-a-kind",
    ),
    pytest.param(
        [(NATS, {"run": RUN, "ready": "curl {url}"})],
        f"{NATS_KEY}.ready",
        r"uses an unknown field \{url\}",
        id="ready-command-unknown-field",
    ),
    pytest.param(
        [(NATS, {"run": RUN, "scope": "session"})],
        f"{NATS_KEY}.scope",
        r"expected \"worker\" or \"run\", got 'session'\n"
        r"  fix: write scope = \"worker\" \(an instance per pytest worker, the default\)",
        id="scope",
    ),
    pytest.param(
        [(NATS, {"run": RUN, "scope": "worker "})],
        f"{NATS_KEY}.scope",
        r"got 'worker ' \(did you mean 'worker'\?\)",
        id="scope-did-you-mean",
    ),
    pytest.param(
        [(NATS, {"run": RUN, "timeout": 0})],
        f"{NATS_KEY}.timeout",
        r"expected a positive number of seconds up to 604800, got 0",
        id="timeout-zero",
    ),
    pytest.param(
        [(NATS, {"run": RUN, "timeout": True})],
        f"{NATS_KEY}.timeout",
        r"got True",
        id="timeout-boolean",
    ),
    pytest.param(
        [(NATS, {"run": RUN, "memory": "lots"})],
        f"{NATS_KEY}.memory",
        r"expected a size of at least 1M, such as \"512M\" or \"2G\", got 'lots'\n"
        r"  fix: write memory = \"512M\"",
        id="memory-words",
    ),
    pytest.param(
        [(NATS, {"run": RUN, "memory": 4096})],
        f"{NATS_KEY}.memory",
        r"got 4096",
        id="memory-too-small",
    ),
    pytest.param(
        [(NATS, {"run": RUN, "image": ""})],
        f"{NATS_KEY}.image",
        r"expected a non-empty string",
        id="image-empty",
    ),
    pytest.param(
        [(NATS, {"run": RUN}), (INTEGRATION, ["nast"])],
        "tool.suitekit.suites.integration.services",
        r"unknown service 'nast' \(did you mean 'nats'\?\)\n  fix: use the services suitekit "
        r"provides: postgres, redis.*, or those of the project's own: nats",
        id="suite-lists-a-typo",
    ),
    pytest.param(
        [(INTEGRATION, ["nats"])],
        "tool.suitekit.suites.integration.services",
        r"unknown service 'nats'\n  fix: use the services suitekit provides: postgres, redis.*, "
        r"or declare a service of your own in \[tool\.suitekit\.services\.nats\] with its run "
        r"command",
        id="suite-lists-an-undeclared-service",
    ),
    pytest.param(
        [(NATS, {"run": RUN}), (INTEGRATION, ["nats", "nats"])],
        "tool.suitekit.suites.integration.services",
        r"a service is listed twice",
        id="suite-lists-it-twice",
    ),
    pytest.param(
        [(NATS, {"run": RUN}), ((*ROOT, "checks", "migrations", "services"), ["nats"])],
        "tool.suitekit.checks.migrations.services",
        r"'nats' is a service of the project's own, which suitekit starts for pytest workers "
        r"only; a check's commands cannot have one",
        id="a-check-lists-it",
    ),
]


@pytest.mark.parametrize(("edits", "key", "pattern"), CUSTOM_ERRORS)
def test_configuration_errors(config_file: Path, edits: list[Edit], key: str, pattern: str) -> None:
    with pytest.raises(ConfigError, match=pattern) as caught:
        parse_document(edited(*edits), config_file)

    assert_well_formed(caught.value, file=config_file, key=key)


# -- running them: the pure parts ----------------------------------------------------------------


def test_templates_are_rendered_per_argument() -> None:
    service = UserService(
        name="nats",
        run=("nats-server", "-p", "{port}", "--store_dir", "{dir}/store", "-n", "{worker}"),
        env={"NATS_URL": "nats://{host}:{port}", "LITERAL": "{{port}}"},
    )
    values = _custom.fields(port=4567, folder="/d/with space", worker="gw1")

    assert _custom.render(service.run, values) == [
        "nats-server",
        "-p",
        "4567",
        "--store_dir",
        "/d/with space/store",
        "-n",
        "gw1",
    ]
    assert _custom.render_env(service, values) == {
        "NATS_URL": "nats://127.0.0.1:4567",
        "LITERAL": "{port}",
    }


def test_an_instance_record_round_trips(tmp_path: Path) -> None:
    record = _custom.InstanceRecord(
        service="nats",
        host="box",
        owner_pid=12,
        pid=34,
        started="5678",
        folder="/dev/shm/suitekit-1/nats-x",
        run="r1",
        suite="integration",
        worker="gw0",
        port=20001,
        path=tmp_path / "nats-1.json",
    )
    (tmp_path / "nats-1.json").write_text(record.to_json())
    (tmp_path / "nats-1.json").chmod(0o600)

    assert _custom.InstanceRecord.from_file(tmp_path / "nats-1.json") == record


def test_a_record_that_is_a_link_is_not_read(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.json"
    target.write_text("{}")
    (tmp_path / "nats-1.json").symlink_to(target)

    assert _custom.InstanceRecord.from_file(tmp_path / "nats-1.json") is None
