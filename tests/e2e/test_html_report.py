"""The run's HTML report in headless Chromium: lanes as drawn, and no request at all.

A few seconds: a page made from a small run's data (tests/e2e/test_bookshop.py loads the page
of a real run), and a control page that does load an image from the network, which the same
check must catch. A missing Chromium fails in CI and skips elsewhere.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from suitekit._layout import Measured, Span, Timeline
from suitekit.reporting._html import render_html
from suitekit.reporting._html_model import SessionRecord, build_page
from suitekit.reporting._junit import Totals
from suitekit.reporting._summary import Summary
from tests.e2e.html_report import outer_reports, render_report, require_chromium

T0 = 1_767_000_000.0
HOSTILE = 'tests/t.py::test_x[<img src="https://example.com/x.png">]'


def _page(tmp_path: Path) -> Path:
    spans = (
        Span(node_id="tests/t.py::test_a", worker="gw0", start=0.1, seconds=1.0),
        Span(node_id=HOSTILE, worker="gw1", start=0.2, seconds=0.5),
        Span(node_id="tests/t.py::test_b", worker="gw1", start=0.8, seconds=0.4),
    )
    records = (
        SessionRecord(
            stem="unit-3.11",
            measured=Measured(
                workers=2, cpus=2, timeline=Timeline(started=T0, stopped=T0 + 1.5, tests=spans)
            ),
            started=0.0,
            seconds=1.9,
        ),
        SessionRecord(stem="frontend-3.11", measured=None, started=T0 + 0.5, seconds=2.0),
    )
    summary = Summary(
        rows=(), totals=Totals(tests=3), failed=(), slowest=(), missing=(), unreadable=()
    )
    page = tmp_path / "reports" / "index.html"
    page.parent.mkdir()
    page.write_text(render_html(build_page(title="demo", records=records, summary=summary)))
    return page


def test_chromium_draws_every_lane_and_the_page_requests_nothing(
    tmp_path: Path, pytestconfig: pytest.Config
) -> None:
    require_chromium()
    shot = outer_reports(pytestconfig) / "screenshots" / "html-report-small.png"
    rendered = render_report(_page(tmp_path), shot)

    assert rendered.sessions == {"unit-3.11": ("gw0", "gw1"), "frontend-3.11": ()}
    assert rendered.bars == {"unit-3.11": 3, "frontend-3.11": 0}
    assert rendered.session_bars == ("frontend-3.11",)
    assert rendered.sections == (
        "timeline", "slowest", "balance", "failures", "flaky", "quarantined", "budgets",
        "artifacts",
    )  # fmt: skip
    assert rendered.requests == ()  # the node id's <img> is text, and nothing else loads
    assert shot.read_bytes().startswith(b"\x89PNG")


def test_the_check_sees_a_page_that_does_load_from_the_network(tmp_path: Path) -> None:
    require_chromium()
    page = tmp_path / "index.html"
    page.write_text('<!DOCTYPE html><p>x</p><img src="https://example.invalid/x.png">')
    rendered = render_report(page, tmp_path / "control.png")
    assert rendered.requests == ("https://example.invalid/x.png",)
