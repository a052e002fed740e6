"""The run's HTML report (suitekit.reporting._html, _html_model): one page that loads nothing.

The page is read back with the standard library's HTML parser: what a browser would fetch
(``src``, ``href`` with a scheme, CSS ``url()``), the lanes and bars of the timeline, and the
text of each section. tests/e2e/test_bookshop.py loads a real run's page in Chromium.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest

from suitekit._layout import Measured, Span, Timeline
from suitekit._model import Project, Suite
from suitekit.errors import ReportError
from suitekit.reporting._html import CSP, render_html
from suitekit.reporting._html_model import (
    BAR_LIMIT,
    Link,
    SessionRecord,
    build_page,
    junit_started,
)
from suitekit.reporting._junit import Totals
from suitekit.reporting._report import report
from suitekit.reporting._results import CaseResult
from suitekit.reporting._summary import Row, Summary
from suitekit.sharding import DURATIONS_FILE

T0 = 1_767_000_000.0  # 2025-12-29 09:20:00 UTC

HOSTILE = 'tests/test_x.py::test_a[<script>alert("x")</script>&https://evil.example/]'


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    parent: Element | None
    children: list[Element] = field(default_factory=list)
    text: list[str] = field(default_factory=list)

    def find_all(self, predicate: object) -> list[Element]:
        found = []
        for child in self.children:
            if callable(predicate) and predicate(child):
                found.append(child)
            found += child.find_all(predicate)
        return found

    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def all_text(self) -> str:
        return "".join(self.text) + "".join(child.all_text() for child in self.children)


_VOID = {"meta", "br", "hr", "img", "input", "link"}


class _Tree(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#root", {}, None)
        self.current = self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs}, self.current)
        self.current.children.append(element)
        if tag not in _VOID:
            self.current = element

    def handle_endtag(self, tag: str) -> None:
        assert self.current.tag == tag, (self.current.tag, tag)  # well nested
        assert self.current.parent is not None
        self.current = self.current.parent

    def handle_data(self, data: str) -> None:
        self.current.text.append(data)


def parse(page: str) -> Element:
    tree = _Tree()
    tree.feed(page)
    tree.close()
    assert tree.current is tree.root  # every element closed
    return tree.root


def by_class(root: Element, name: str) -> list[Element]:
    return root.find_all(lambda e: name in e.classes())


def section(root: Element, ident: str) -> Element:
    (found,) = root.find_all(lambda e: e.tag == "section" and e.attrs.get("id") == ident)
    return found


def case(node_id: str, seconds: float, outcome: str = "passed", **kw: object) -> CaseResult:
    classname, _, name = node_id.rpartition("::")
    return CaseResult(
        suite="unit",
        classname=classname,
        name=name,
        seconds=seconds,
        outcome=outcome,  # type: ignore[arg-type]
        message=str(kw.get("message", "")),
        report=str(kw.get("report", "unit-3.11")),
        node_id=node_id,
    )


def summary(**changes: object) -> Summary:
    base = Summary(
        rows=(
            Row(
                name="unit-3.11",
                tests=4,
                passed=3,
                failed=1,
                errors=0,
                skipped=0,
                seconds=2.5,
                target_seconds=2.0,
            ),
            Row(
                name="frontend-3.11",
                tests=30,
                passed=30,
                failed=0,
                errors=0,
                skipped=0,
                seconds=4.0,
                target_seconds=None,
            ),
        ),
        totals=Totals(tests=34, failures=1, seconds=6.5),
        failed=(case(HOSTILE, 0.5, "failed", message="AssertionError: <b>1 == 2</b>"),),
        slowest=(case("tests/test_x.py::test_slow", 1.25),),
        missing=(),
        unreadable=(),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def timeline(*spans: tuple[str, str, float, float], length: float = 3.0) -> Timeline:
    return Timeline(
        started=T0,
        stopped=T0 + length,
        tests=tuple(Span(node_id=n, worker=w, start=s, seconds=d) for n, w, s, d in spans),
    )


UNIT = SessionRecord(
    stem="unit-3.11",
    measured=Measured(
        workers=2,
        cpus=2,
        timeline=timeline(
            ("tests/test_x.py::test_slow", "gw0", 0.5, 1.25),
            (HOSTILE, "gw1", 0.5, 0.5),
            ("tests/test_x.py::test_b", "gw1", 1.0, 0.25),
            ("tests/test_x.py::test_c", "gw0", 1.75, 0.25),
        ),
    ),
    started=0.0,
    seconds=2.5,
)
FRONTEND = SessionRecord(stem="frontend-3.11", measured=None, started=T0 + 1.0, seconds=4.0)


def page_of(*records: SessionRecord, **changes: object) -> str:
    return render_html(
        build_page(
            title="bookshop",
            records=records,
            summary=summary(**changes),
            links=(Link(label="coverage (HTML)", href="htmlcov/index.html"),),
            logs={"unit-3.11": "logs/unit-3.11.log"},
        )
    )


def test_the_page_forbids_every_load_and_links_only_relatively() -> None:
    page = page_of(UNIT, FRONTEND)
    root = parse(page)
    (csp,) = root.find_all(lambda e: e.attrs.get("http-equiv") == "Content-Security-Policy")
    assert csp.attrs["content"] == CSP
    assert "default-src 'none'" in CSP
    assert "script-src" not in CSP  # no script at all
    assert not root.find_all(lambda e: e.tag in {"script", "img", "link", "iframe", "object"})
    assert not root.find_all(lambda e: "src" in e.attrs)
    hrefs = [e.attrs["href"] for e in root.find_all(lambda e: "href" in e.attrs)]
    assert hrefs == ["logs/unit-3.11.log", "htmlcov/index.html"]
    assert all(not re.match(r"^[a-z][a-z0-9+.-]*:|^//", href, re.IGNORECASE) for href in hrefs)
    (style,) = root.find_all(lambda e: e.tag == "style")
    assert "url(" not in style.all_text()
    assert "@import" not in style.all_text()


def test_user_text_is_escaped_everywhere() -> None:
    page = page_of(UNIT, FRONTEND)
    assert "<script" not in page
    assert "<b>" not in page
    assert page.count("&lt;script&gt;") >= 3  # the bar, the failure, its rerun command
    root = parse(page)
    bars = [bar for bar in by_class(root, "bar") if bar.attrs["data-test"] == HOSTILE]
    assert len(bars) == 1  # the attribute reads back as the node id itself
    assert bars[0].attrs["title"] == f"{HOSTILE} 0.500 s"
    failures = section(root, "failures").all_text()
    assert HOSTILE in failures
    assert "AssertionError: <b>1 == 2</b>" in failures  # as text, not markup
    assert "nox -s unit-3.11 -- 'tests/test_x.py::test_a[<script>" in failures


def test_a_session_has_a_lane_per_worker_and_a_bar_per_test() -> None:
    root = parse(page_of(UNIT, FRONTEND))
    sessions = {e.attrs["data-session"]: e for e in by_class(root, "session")}
    assert list(sessions) == ["unit-3.11", "frontend-3.11"]  # by start
    unit = sessions["unit-3.11"]
    assert (unit.attrs["data-tests"], unit.attrs["data-workers"]) == ("4", "2")
    workers = {e.attrs["data-worker"]: e for e in by_class(unit, "worker")}
    assert list(workers) == ["gw0", "gw1"]
    bars = {w: [b.attrs["data-test"] for b in by_class(e, "bar")] for w, e in workers.items()}
    assert bars == {
        "gw0": ["tests/test_x.py::test_slow", "tests/test_x.py::test_c"],
        "gw1": [HOSTILE, "tests/test_x.py::test_b"],
    }
    (failed,) = [b for b in by_class(unit, "bar") if "failed" in b.classes()]
    assert failed.attrs["data-test"] == HOSTILE
    # The axis runs from the first start (unit's, at T0) to the last end (frontend's, at T0+5).
    (slow,) = [b for b in by_class(unit, "bar") if b.attrs["data-test"].endswith("test_slow")]
    assert slow.attrs["style"] == "left:10.000%;width:25.000%"
    (log,) = unit.find_all(lambda e: e.tag == "a")
    assert log.attrs["href"] == "logs/unit-3.11.log"


def test_a_session_without_per_test_times_is_one_bar() -> None:
    root = parse(page_of(UNIT, FRONTEND))
    frontend = next(
        e for e in by_class(root, "session") if e.attrs["data-session"] == "frontend-3.11"
    )
    assert (frontend.attrs["data-tests"], frontend.attrs["data-workers"]) == ("0", "0")
    assert not by_class(frontend, "worker")
    (bar,) = by_class(frontend, "session-bar")
    assert bar.attrs["style"] == "left:20.000%;width:80.000%"
    assert "no per-test times" in bar.attrs["title"]


def test_a_run_of_other_runners_only_still_gets_a_page() -> None:
    totals = Totals(tests=30, seconds=4.0)
    root = parse(page_of(FRONTEND, failed=(), rows=summary().rows[1:], totals=totals))
    assert [e.attrs["data-session"] for e in by_class(root, "session")] == ["frontend-3.11"]
    assert section(root, "failures").all_text().endswith("no test failed")
    (verdict,) = root.find_all(lambda e: e.attrs.get("id") == "verdict")
    assert verdict.all_text() == "OK"


def test_the_sections_show_the_summarys_figures() -> None:
    root = parse(page_of(UNIT, FRONTEND))
    budgets = section(root, "budgets")
    rows = [[td.all_text() for td in tr.find_all(lambda e: e.tag == "td")] for tr in
            budgets.find_all(lambda e: e.tag == "tr")[1:]]  # fmt: skip
    assert rows[0] == ["unit-3.11", "4", "3", "1", "0", "0", "2.5", "2.5/2s OVER"]
    assert rows[1][0] == "frontend-3.11"
    assert rows[1][-1] == ""
    assert rows[2][0] == "total"
    assert "1.25" in section(root, "slowest").all_text()
    assert section(root, "flaky").all_text().endswith("no test needed a retry")
    assert section(root, "quarantined").all_text().endswith("no test is quarantined")
    balance = section(root, "balance").all_text()
    # Busy seconds: gw0 1.25 + 0.25, gw1 0.5 + 0.25: max/mean 1.5 / 1.125.
    assert "2 workers" in balance
    assert "1.33" in balance
    (verdict,) = root.find_all(lambda e: e.attrs.get("id") == "verdict")
    assert verdict.all_text() == "FAILED (1 failed test)"


def test_shards_balance_predicted_and_measured() -> None:
    shards = [
        SessionRecord(
            stem=f"unit-3.11.shard-{index}-of-2",
            measured=Measured(
                workers=1,
                cpus=2,
                predicted=predicted,
                timeline=Timeline(started=T0, stopped=T0 + measured),
            ),
            started=0.0,
            seconds=measured,
        )
        for index, predicted, measured in ((1, 3.0, 2.0), (2, 1.0, 6.0))
    ]
    page = build_page(title="x", records=shards, summary=summary())
    (balance,) = page.balance
    assert (balance.session, balance.parts, balance.count) == ("unit-3.11", "shards", 2)
    assert balance.predicted == pytest.approx(1.5)  # 3 / 2
    assert balance.measured == pytest.approx(1.5)  # 6 / 4
    assert balance.seconds == (2.0, 6.0)
    # A shard whose sidecar has no prediction: the predicted figure is not made up.
    unknown = [replace(shards[0], measured=None), shards[1]]
    (balance,) = build_page(title="x", records=unknown, summary=summary()).balance
    assert balance.predicted is None


def test_a_large_session_shares_bars_between_neighbouring_short_tests() -> None:
    count = BAR_LIMIT * 2
    spans = [(f"tests/t.py::test_{i}", f"gw{i % 2}", i * 0.001, 0.001) for i in range(count)]
    record = SessionRecord(
        stem="unit-3.11",
        measured=Measured(workers=2, cpus=2, timeline=timeline(*spans, length=count * 0.001)),
        started=0.0,
        seconds=0.0,
    )
    page = build_page(title="x", records=[record], summary=summary(failed=()))
    (lane,) = page.sessions
    bars = [bar for worker in lane.workers for bar in worker.bars]
    assert sum(bar.tests for bar in bars) == count  # every test is in a bar
    assert len(bars) < BAR_LIMIT
    html = render_html(page)
    assert len(html) < 1_000_000
    root = parse(html)
    shared = by_class(root, "bar")[0]
    assert int(shared.attrs["data-tests"]) > 1
    assert shared.attrs["title"].startswith(f"{shared.attrs['data-tests']} tests, ")


def test_tests_of_no_length_at_the_same_millisecond_have_a_bar_each() -> None:
    """Below the bar limit nothing is merged: sub-millisecond tests run serially included."""
    spans = [(f"tests/t.py::test_{i}", "main", 0.004, 0.0) for i in range(3)]
    spans.append(("tests/t.py::test_last", "main", 0.004, 0.001))
    record = SessionRecord(
        stem="unit-3.11",
        measured=Measured(workers=0, cpus=2, timeline=timeline(*spans, length=0.01)),
        started=0.0,
        seconds=0.0,
    )
    page = build_page(title="x", records=[record], summary=summary(failed=()))
    (lane,) = page.sessions
    (worker,) = lane.workers
    assert [bar.tests for bar in worker.bars] == [1, 1, 1, 1]
    assert len(by_class(parse(render_html(page)), "bar")) == 4


def test_the_page_is_the_same_for_the_same_run() -> None:
    assert page_of(UNIT, FRONTEND) == page_of(UNIT, FRONTEND)
    started = datetime.fromtimestamp(T0, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    assert f"started {started}, 5.0 s" in page_of(UNIT, FRONTEND)


def test_when_another_runners_report_started() -> None:
    stopped = datetime(2026, 1, 2, 3, 4, 10, tzinfo=UTC).timestamp()
    head = b'<testsuites name="x" timestamp="2026-01-02T03:04:05.000Z" time="5">'
    assert junit_started(head, stopped=stopped, seconds=5.0) == stopped - 5
    head = b'<?xml version="1.0"?><testsuite timestamp="2026-01-02T03:03:00+00:00">'
    assert junit_started(head, stopped=stopped, seconds=5.0) == stopped - 70
    # No timestamp, a broken one, or one far from the file's time: the file's time less its own.
    for head in (b"<testsuites>", b'<testsuite timestamp="yesterday">',
                 b'<testsuite timestamp="2020-01-01T00:00:00Z">'):  # fmt: skip
        assert junit_started(head, stopped=stopped, seconds=5.0) == stopped - 5


def test_report_writes_the_page_beside_the_merged_report(tmp_path: Path) -> None:
    junit = tmp_path / ".suitekit" / "reports" / "junit" / "unit-3.11.xml"
    junit.parent.mkdir(parents=True)
    junit.write_text(
        '<testsuite name="unit" tests="1" timestamp="2026-01-02T03:04:05">'
        '<testcase classname="tests.test_a" name="test_one" time="0.25"/></testsuite>',
        encoding="utf-8",
    )
    (junit.parent.parent / "logs").mkdir()
    (junit.parent.parent / "logs" / "unit-3.11.log").write_text("ran\n", encoding="utf-8")
    project = Project(
        root=tmp_path,
        config_file=tmp_path / "pyproject.toml",
        python=("3.11",),
        suites=(Suite(name="unit", python=("3.11",)),),
    )
    out = io.StringIO()
    assert report(project, environ={}, out=out) == 0
    page = junit.parent.parent / "index.html"
    assert f"suitekit: run report {page}\n" in out.getvalue()
    assert out.getvalue().rstrip().splitlines()[-1].startswith("suitekit: 1 passed")
    root = parse(page.read_text(encoding="utf-8"))
    (session,) = by_class(root, "session")
    assert session.attrs["data-session"] == "unit-3.11"
    assert session.attrs["data-workers"] == "0"  # no sidecar: one bar
    hrefs = [e.attrs["href"] for e in section(root, "artifacts").find_all(lambda e: e.tag == "a")]
    assert hrefs == ["junit.xml", "summary.md", "logs/unit-3.11.log"]
    assert [p.name for p in page.parent.iterdir() if p.name.startswith(".")] == []  # no temp


def test_a_bar_has_its_own_sessions_outcome() -> None:
    # The same test in two Pythons' sessions: it failed (and another was flaky) in 3.12 alone.
    test, other = "tests/test_x.py::test_b", "tests/test_x.py::test_c"
    records = [
        SessionRecord(
            stem=stem,
            measured=Measured(
                workers=1,
                cpus=2,
                timeline=timeline((test, "main", 0.0, 1.0), (other, "main", 1.0, 1.0)),
            ),
            started=0.0,
            seconds=2.0,
        )
        for stem in ("unit-3.11", "unit-3.12")
    ]
    page = build_page(
        title="x",
        records=records,
        summary=summary(
            failed=(case(test, 1.0, "failed", report="unit-3.12"),),
            flaky=(case(other, 1.0, report="unit-3.12"),),
        ),
    )
    outcomes = {
        lane.name: [bar.outcome for worker in lane.workers for bar in worker.bars]
        for lane in page.sessions
    }
    assert outcomes == {"unit-3.11": ["passed", "passed"], "unit-3.12": ["failed", "flaky"]}


def test_a_bar_is_drawn_within_its_session() -> None:
    spans = (
        ("tests/t.py::test_late", "main", 5.0, 1.0),  # after the session's end
        ("tests/t.py::test_long", "main", 1.0, 10.0),  # past it
    )
    record = SessionRecord(
        stem="unit-3.11",
        measured=Measured(workers=1, cpus=2, timeline=timeline(*spans, length=3.0)),
        started=0.0,
        seconds=3.0,
    )
    later = replace(FRONTEND, started=T0 + 4.0, seconds=1.0)
    page = build_page(title="x", records=[record, later], summary=summary(failed=()))
    lane = next(lane for lane in page.sessions if lane.name == "unit-3.11")
    bars = {bar.test: (bar.start, bar.seconds) for bar in lane.workers[0].bars}
    assert bars == {"tests/t.py::test_long": (1.0, 2.0), "tests/t.py::test_late": (3.0, 0.0)}


def _project(root: Path) -> Project:
    return Project(
        root=root,
        config_file=root / "pyproject.toml",
        python=("3.11",),
        suites=(Suite(name="unit", python=("3.11",)),),
    )


def _junit(root: Path, text: str) -> Path:
    junit = root / ".suitekit" / "reports" / "junit" / "unit-3.11.xml"
    junit.parent.mkdir(parents=True)
    junit.write_text(text, encoding="utf-8")
    return junit


def test_a_session_without_a_timeline_is_as_long_as_its_own_time(tmp_path: Path) -> None:
    # Under xdist the cases' times add up to more than the session took: the bar is its time.
    junit = _junit(
        tmp_path,
        '<testsuite name="unit" tests="2" time="1.0">'
        '<testcase classname="tests.test_a" name="test_one" time="0.9"/>'
        '<testcase classname="tests.test_a" name="test_two" time="0.9"/></testsuite>',
    )
    assert report(_project(tmp_path), environ={}, out=io.StringIO()) == 0
    root = parse((junit.parent.parent / "index.html").read_text(encoding="utf-8"))
    (session,) = by_class(root, "session")
    assert "1.0 s · no per-test times" in session.all_text()


def test_a_page_that_cannot_be_made_costs_the_run_nothing_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    junit = _junit(
        tmp_path,
        '<testsuite name="unit" tests="1" time="0.5">'
        '<testcase classname="tests.test_a" name="test_one" time="0.25"/></testsuite>',
    )

    def broken(_page: object) -> str:
        raise ValueError("year 31690708 is out of range")

    monkeypatch.setattr("suitekit.reporting._html.render_html", broken)
    out = io.StringIO()
    with pytest.raises(ReportError) as raised:
        report(_project(tmp_path), environ={}, out=out)
    page = junit.parent.parent / "index.html"
    assert str(raised.value).startswith(
        f"{page}: cannot make the run report (ValueError: year 31690708 is out of range)"
    )
    assert f"{junit.parent} and their .measured.json sidecars" in str(raised.value)
    assert not page.exists()
    # Everything else was done: the stores, the merged report and the summary.
    assert (tmp_path / DURATIONS_FILE).is_file()
    assert (junit.parent.parent / "junit.xml").is_file()
    assert out.getvalue().rstrip().splitlines()[-1].startswith("suitekit: 1 passed")
