"""The run's HTML report in a real browser: headless Chromium's DOM, its requests, a screenshot.

:func:`render_report` opens ``<reports>/index.html`` in Debian's Chromium twice, with its own
flags and no driver: ``--dump-dom`` prints the DOM once the page has loaded (the page has no
script, so that is what a person sees), and ``--screenshot`` writes a PNG of the window. The
first run also writes Chromium's NetLog (``--log-net-log``): every request the page made (one
whose network isolation key is the ``file://`` page's, as opposed to the browser's own update
and account checks) is listed, so a test can assert that there is none.

The screenshot goes under the reports folder of the run that runs the tests (where CI uploads
the reports from), so that people can look at it: :func:`outer_reports` finds that folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[2]
WINDOW = "1400,1000"
# The browser's own background traffic (updates, sync, accounts) is switched off where flags
# can; what is left is told apart from the page's by the NetLog's isolation key.
_QUIET = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-sync",
    "--hide-scrollbars",
)


def require_chromium() -> str:
    """Chromium's path; in CI a missing Chromium fails the test, elsewhere it skips it."""
    if Path(CHROMIUM).is_file():
        return CHROMIUM
    reason = f"Chromium is not installed ({CHROMIUM}; apt install chromium)"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: CI must run the HTML report's browser test")
    pytest.skip(reason)


def outer_reports(config: pytest.Config) -> Path:
    """The reports folder of the run running these tests (CI uploads it as an artifact).

    Its JUnit file is ``<reports>/junit/<session>.xml`` when suitekit runs the tests; a plain
    ``pytest`` run has none, and gets the repository's default folder.
    """
    xmlpath = getattr(config.option, "xmlpath", None)
    if xmlpath:
        junit = Path(xmlpath).resolve()
        if junit.parent.name == "junit":
            return junit.parent.parent
    return REPO / ".suitekit" / "reports"


@dataclass(frozen=True)
class Rendered:
    """What Chromium made of a report page.

    Attributes:
        sessions: Each session lane (``data-session``), with its workers' lanes
            (``data-worker``), in page order.
        bars: Each session's test bars (``.bar`` elements).
        session_bars: The sessions drawn as one bar (no per-test times).
        sections: The ids of the page's sections.
        requests: The URLs the page requested (not the browser's own traffic).
        screenshot: The PNG written.
    """

    sessions: dict[str, tuple[str, ...]]
    bars: dict[str, int]
    session_bars: tuple[str, ...]
    sections: tuple[str, ...]
    requests: tuple[str, ...]
    screenshot: Path


class _Lanes(HTMLParser):
    """The timeline's lanes in a dumped DOM: sessions, their workers and bars."""

    _VOID = frozenset({"meta", "br", "hr", "img", "input", "link", "wbr"})

    def __init__(self) -> None:
        super().__init__()
        self.sessions: dict[str, list[str]] = {}
        self.bars: dict[str, int] = {}
        self.session_bars: list[str] = []
        self.sections: list[str] = []
        self.stack: list[str | None] = []  # the session each open element is in

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        classes = found.get("class", "").split()
        session = self.stack[-1] if self.stack else None
        if tag == "section" and "id" in found:
            self.sections.append(found["id"])
        if "session" in classes and "data-session" in found:
            session = found["data-session"]
            self.sessions[session] = []
            self.bars[session] = 0
        elif session is not None and "worker" in classes:
            self.sessions[session].append(found.get("data-worker", ""))
        elif session is not None and "bar" in classes:
            self.bars[session] += 1
        elif session is not None and "session-bar" in classes:
            self.session_bars.append(session)
        if tag not in self._VOID:
            self.stack.append(session)

    def handle_endtag(self, tag: str) -> None:
        if tag not in self._VOID and self.stack:
            self.stack.pop()


def _page_requests(netlog: Path) -> list[str]:
    """The URLs a ``file://`` page requested, from Chromium's NetLog."""
    data = json.loads(netlog.read_text(encoding="utf-8"))
    start = data["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return sorted(
        {
            params["url"]
            for event in data["events"]
            if event.get("type") == start
            and "file://" in (params := event.get("params", {})).get("network_isolation_key", "")
            and not str(params.get("url", "")).startswith("file:")
        }
    )


def _chromium(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [chromium, *_QUIET, f"--user-data-dir={profile}", f"--window-size={WINDOW}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def render_report(page: Path, screenshot: Path) -> Rendered:
    """Load ``page`` in headless Chromium: its DOM, the requests it made, and a screenshot."""
    chromium = require_chromium()
    url = page.resolve().as_uri()
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="suitekit-chromium-") as scratch:
        profile, netlog = Path(scratch) / "profile", Path(scratch) / "netlog.json"
        dom = _chromium(chromium, profile, f"--log-net-log={netlog}", "--dump-dom", url).stdout
        requests = _page_requests(netlog)
        _chromium(chromium, profile, f"--screenshot={screenshot}", url)
    assert screenshot.is_file(), f"Chromium wrote no screenshot at {screenshot}"
    lanes = _Lanes()
    lanes.feed(dom)
    lanes.close()
    return Rendered(
        sessions={name: tuple(workers) for name, workers in lanes.sessions.items()},
        bars=dict(lanes.bars),
        session_bars=tuple(lanes.session_bars),
        sections=tuple(lanes.sections),
        requests=tuple(requests),
        screenshot=screenshot,
    )
