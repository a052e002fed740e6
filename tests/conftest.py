"""Fixtures for every layer of suitekit's tests."""

from __future__ import annotations

import os
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Final, NoReturn

import pytest

if TYPE_CHECKING:
    import xmlschema

XSD_MEMBER: Final = "testing/example_scripts/junit-10.xsd"
"""pytest's own JUnit schema, as its tests use it, inside pytest's source distribution."""


@pytest.fixture(autouse=True)
def _no_outer_suitekit_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hide the variables of the suitekit run that runs these tests from the runs they start.

    suitekit's own suites run under suitekit, which sets SUITEKIT_* for the session (worker
    counts and their origin); pytester runs in-process and subprocesses would otherwise see them.
    """
    for name in list(os.environ):
        if name.startswith("SUITEKIT_"):
            monkeypatch.delenv(name)


def _unavailable(reason: str) -> NoReturn:
    """Fail on CI (the schema check must run there), skip elsewhere (e.g. offline)."""
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def _index_url() -> str:
    """The index named by ``UV_DEFAULT_INDEX``, ``UV_INDEX_URL`` or ``PIP_INDEX_URL``, else PyPI.

    Only these variables are read (not pip.conf or uv.toml), and only an http(s) URL without
    credentials in it: urllib cannot log in with them, and they must not reach a message.
    """
    import urllib.parse  # noqa: PLC0415 - only on the first run of a checkout

    for variable in ("UV_DEFAULT_INDEX", "UV_INDEX_URL", "PIP_INDEX_URL"):
        url = os.environ.get(variable, "").strip()
        parts = urllib.parse.urlsplit(url)
        if parts.scheme in ("https", "http") and not (parts.username or parts.password):
            return url.rstrip("/")
    return "https://pypi.org/simple"


def _schema_from_sdist() -> bytes:
    """The JUnit schema inside the running pytest's sdist, fetched from the package index.

    The index's JSON page (PEP 691) gives the sdist's URL and SHA-256; the archive is fetched
    and checked against it, in a fraction of a second. (``pip download --no-binary`` also
    builds the sdist's metadata in an isolated environment of its own: 10-20 s, in every
    xdist worker that validates JUnit files on a fresh checkout.)
    """
    import hashlib  # noqa: PLC0415 - only on the first run of a checkout
    import http.client  # noqa: PLC0415
    import io  # noqa: PLC0415
    import json  # noqa: PLC0415
    import urllib.parse  # noqa: PLC0415
    import urllib.request  # noqa: PLC0415

    name = f"pytest-{pytest.__version__}.tar.gz"
    page = f"{_index_url()}/pytest/"
    request = urllib.request.Request(  # noqa: S310 - an http(s) URL, checked in _index_url
        page, headers={"Accept": "application/vnd.pypi.simple.v1+json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            kind = response.headers.get_content_type()
            if kind != "application/vnd.pypi.simple.v1+json":
                _unavailable(f"{page} serves no PEP 691 JSON page (it answered {kind})")
            files = json.load(response)["files"]
        entry = next((entry for entry in files if entry["filename"] == name), None)
        if entry is None:
            _unavailable(f"{page} lists no {name}")
        with urllib.request.urlopen(  # noqa: S310 - the index's own link to the file
            urllib.parse.urljoin(page, entry["url"]), timeout=120
        ) as response:
            archive = response.read()
    except (OSError, ValueError, KeyError, http.client.HTTPException) as error:
        _unavailable(f"cannot fetch {name} from {page}: {error}")
    expected = entry.get("hashes", {}).get("sha256")
    if expected is None:
        _unavailable(f"{page} lists no SHA-256 for {name}")
    if hashlib.sha256(archive).hexdigest() != expected:
        _unavailable(f"{name} from {page} does not match the index's SHA-256 ({expected})")
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        for member in tar.getmembers():
            if member.name.endswith(f"/{XSD_MEMBER}"):
                source = tar.extractfile(member)
                if source is not None:
                    return source.read()
    _unavailable(f"no {XSD_MEMBER} in {name} from {page}")


@pytest.fixture(scope="session")
def junit_schema(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> xmlschema.XMLSchema:
    """pytest's JUnit schema, from the sdist of the pytest that runs these tests.

    The schema is kept in pytest's cache folder, one file per pytest version, so that it is
    fetched once per checkout and pytest version.
    """
    try:
        import xmlschema  # noqa: PLC0415 - a test dependency, needed by this fixture only
    except ImportError:
        _unavailable("xmlschema is not installed (it is in the `test` dependency group)")
    kept = None
    cache: pytest.Cache | None = getattr(request.config, "cache", None)  # -p no:cacheprovider
    if cache is not None:
        kept = cache.mkdir("junit-schema") / f"pytest-{pytest.__version__}.xsd"
        if kept.is_file():
            return xmlschema.XMLSchema(str(kept))
    folder = tmp_path_factory.mktemp("pytest-sdist")
    schema = folder / "junit-10.xsd"
    schema.write_bytes(_schema_from_sdist())
    if kept is not None:
        # Written whole under another name, then renamed: another xdist worker may be reading.
        partial = kept.with_name(f"{kept.name}.{os.getpid()}.tmp")
        partial.write_bytes(schema.read_bytes())
        partial.replace(kept)
    return xmlschema.XMLSchema(str(schema))


@pytest.fixture
def valid(junit_schema: xmlschema.XMLSchema) -> Callable[[Path], None]:
    """Assert that a file is valid against pytest's JUnit schema."""

    def check(path: Path) -> None:
        junit_schema.validate(str(path))

    return check
