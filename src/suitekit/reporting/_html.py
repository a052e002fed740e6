"""The run's HTML report: one self-contained page, ``<reports>/index.html``.

:func:`render_html` turns a :class:`~suitekit.reporting._html_model.RunPage` into the page's
text: HTML with an inline style sheet and no script, so that it reads the same from a CI
artifact, a mail attachment or a file on disk, and loads nothing: its Content-Security-Policy
(``default-src 'none'``) forbids every fetch, and the only links are relative ones to the
run's own files (coverage's HTML report, the sessions' logs). Every text from the run (node ids,
messages, suite names) is escaped. The output is a pure function of the page: the same run gives
the same bytes.

The sections and their stable hooks (for people, and for the browser test that reads the DOM):

- ``#timeline``: a ``.session`` per report with ``data-session`` (its stem), ``data-tests`` and
  ``data-workers``; in it a ``.worker`` per worker with ``data-worker`` (``main``, ``gw0``...),
  holding a ``.bar`` per test with ``data-test`` (the node id), its outcome as a class
  (``passed``, ``failed``, ``flaky``) and a ``title`` with the node id and its seconds; a
  session with no per-test times has a ``.session-bar`` instead;
- ``#slowest``, ``#balance``, ``#failures``, ``#flaky``, ``#quarantined``, ``#budgets``:
  tables (or a line saying there is none);
- ``#artifacts``: the links.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from html import escape
from typing import TYPE_CHECKING, Final
from urllib.parse import quote

from suitekit.reporting._figures import (
    attempts_note,
    budget_cell,
    counted,
    extra_counts,
    rerun_command,
    shorten,
    streak_cell,
    suite_table,
    verdict,
)
from suitekit.reporting._summary import Row
from suitekit.reporting._surefire import first_line

if TYPE_CHECKING:
    from collections.abc import Iterable

    from suitekit.reporting._html_model import Balance, Bar, RunPage, SessionLane

__all__ = ["CSP", "render_html"]

CSP: Final = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
"""The page's Content-Security-Policy: nothing is fetched; its own inline style applies."""

_MESSAGE_LIMIT: Final = 300

_STYLE: Final = """
:root{--ink:#1d2330;--muted:#5c6578;--line:#d9dde5;--pass:#3f9a5a;--fail:#c8393b;
--flaky:#d99a1e;--run:#7f8da8;--bg:#fff;--lane:#f3f5f8}
*{box-sizing:border-box}
body{margin:0;padding:1.2rem 1.6rem;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;
color:var(--ink);background:var(--bg)}
h1{font-size:1.35rem;margin:0 0 .2rem}
h2{font-size:1.05rem;margin:1.6rem 0 .5rem;border-bottom:1px solid var(--line);padding-bottom:.2rem}
.verdict{font-weight:600}.ok{color:var(--pass)}.bad{color:var(--fail)}
.muted{color:var(--muted)}
table{border-collapse:collapse;font-size:13px}
th,td{padding:.2rem .6rem;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
code{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace;word-break:break-all}
.over{color:var(--fail);font-weight:600}
.row{display:grid;grid-template-columns:19rem 1fr;align-items:center;min-height:14px}
.label{overflow:hidden;text-overflow:ellipsis;white-space:nowrap;padding-right:.5rem}
.session{margin:.35rem 0;padding:.2rem 0;border-top:1px solid var(--line)}
.session>.row>.label{font-weight:600}
.label .muted{font-weight:400;font-size:12px}
.worker>.label{padding-left:1.2rem;color:var(--muted);font-size:12px}
.lane{position:relative;height:12px;background:var(--lane);border-radius:2px}
.session>.row .lane{height:6px}
.bar,.session-bar,.span{position:absolute;top:0;bottom:0;min-width:1px}
.span{background:#c9d1df}
.session-bar{background:var(--run)}
.bar{background:var(--pass);border-right:1px solid var(--bg)}
.bar.failed{background:var(--fail)}.bar.flaky{background:var(--flaky)}
.axis{position:relative;height:18px;font-size:11px;color:var(--muted)}
.tick{position:absolute;top:0;border-left:1px solid var(--line);padding-left:2px;height:18px}
.legend span{display:inline-block;width:10px;height:10px;margin:0 .25rem 0 .8rem}
"""

_LEGEND: Final = (
    '<p class="legend muted">a lane per session, in it a lane per xdist worker and a bar per '
    "test (hover for its node id and seconds):"
    '<span style="background:var(--pass)"></span>passed'
    '<span style="background:var(--fail)"></span>failed'
    '<span style="background:var(--flaky)"></span>flaky'
    '<span style="background:var(--run)"></span>session without per-test times</p>'
)


def render_html(page: RunPage) -> str:
    """The page's HTML text (see the module docstring for its sections and hooks)."""
    summary = page.summary
    ok, problems = verdict(summary)
    totals = summary.totals
    closing = (
        f"{totals.passed} passed, {totals.failures + totals.errors} failed, "
        f"{totals.skipped} skipped{extra_counts(summary)}"
    )
    when = (
        f" · started {_utc(page.started)}, {page.seconds:.1f} s" if page.started is not None else ""
    )
    title = f"suitekit run report: {page.title}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_e(CSP)}">',
        '<meta name="referrer" content="no-referrer">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title>",
        f"<style>{_STYLE}</style>",
        "</head>",
        "<body>",
        f"<header><h1>{_e(title)}</h1>",
        (
            f'<p><span class="verdict {"ok" if ok else "bad"}" id="verdict">'
            f"{'OK' if ok else _e('FAILED (' + problems + ')')}</span> · {_e(closing)}"
            f'<span class="muted">{_e(when)}</span></p></header>'
        ),
        *_timeline(page),
        *_slowest(page),
        *_balance(page.balance),
        *_failures(page),
        *_flaky(page),
        *_quarantined(page),
        *_budgets(page),
        *_artifacts(page),
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


def _e(text: str) -> str:
    return escape(text, quote=True)


def _href(path: str) -> str:
    """A relative link to one of the run's files: percent-encoded, never a scheme."""
    return _e(quote(path, safe="/"))


def _utc(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _pct(value: float) -> str:
    return f"{value:.3f}%"


def _section(ident: str, heading: str, body: Iterable[str]) -> list[str]:
    return [f'<section id="{ident}">', f"<h2>{_e(heading)}</h2>", *body, "</section>"]


def _none(text: str) -> str:
    return f'<p class="muted none">{_e(text)}</p>'


def _table(headers: Iterable[tuple[str, bool]], rows: Iterable[Iterable[str]]) -> list[str]:
    """A table; ``headers`` are ``(text, numeric)``; the cells are HTML already."""
    head = "".join(
        (f'<th class="num">{_e(text)}</th>' if numeric else f"<th>{_e(text)}</th>")
        for text, numeric in headers
    )
    return [
        "<table>",
        f"<thead><tr>{head}</tr></thead>",
        "<tbody>",
        *(f"<tr>{''.join(row)}</tr>" for row in rows),
        "</tbody>",
        "</table>",
    ]


def _td(text: str, *, numeric: bool = False, css: str = "") -> str:
    classes = " ".join(part for part in ("num" if numeric else "", css) if part)
    attribute = f' class="{classes}"' if classes else ""
    return f"<td{attribute}>{text}</td>"


def _timeline(page: RunPage) -> list[str]:
    if not page.sessions:
        return _section("timeline", "Timeline", [_none("no session reported a time")])
    scale = 100 / page.seconds if page.seconds > 0 else 0.0
    body = [
        _LEGEND,
        '<div class="row"><div class="label muted">seconds</div><div class="axis">',
        *(
            f'<span class="tick" style="left:{_pct(tick * scale)}">{tick:g}</span>'
            for tick in _ticks(page.seconds)
        ),
        "</div></div>",
    ]
    for lane in page.sessions:
        body += _session(page, lane, scale)
    return _section("timeline", "Timeline", body)


def _ticks(seconds: float) -> list[float]:
    """About eight round ticks from 0 to ``seconds``: steps of 1, 2 or 5 times a power of 10."""
    if seconds <= 0:
        return [0.0]
    raw = seconds / 8
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    count = int(seconds / step + 1e-9)
    return [round(index * step, 6) for index in range(count + 1)]


def _session(page: RunPage, lane: SessionLane, scale: float) -> list[str]:
    left, width = _pct(lane.start * scale), _pct(lane.seconds * scale)
    workers = len(lane.workers)
    described = (
        f"{counted(lane.tests, 'test')} · {counted(workers, 'worker')} · {lane.seconds:.1f} s"
        if workers
        else f"{lane.seconds:.1f} s · no per-test times"
    )
    log = page.logs.get(lane.session)
    name = f'<a href="{_href(log)}" title="its log">{_e(lane.name)}</a>' if log else _e(lane.name)
    span_class = "span" if workers else "session-bar"
    tip = f"{lane.name}: {described}"
    lines = [
        (
            f'<div class="session" data-session="{_e(lane.name)}" data-tests="{lane.tests}" '
            f'data-workers="{workers}">'
        ),
        (
            f'<div class="row"><div class="label" title="{_e(tip)}">{name} '
            f'<span class="muted">{_e(described)}</span></div>'
            f'<div class="lane"><span class="{span_class}" style="left:{left};width:{width}" '
            f'title="{_e(tip)}"></span></div></div>'
        ),
    ]
    lines.extend(
        f'<div class="worker row" data-worker="{_e(worker.name)}" data-tests="{worker.tests}">'
        f'<div class="label">{_e(worker.name)} · {counted(worker.tests, "test")} · '
        f"{worker.busy:.1f} s</div>"
        f'<div class="lane">{"".join(_bar(bar, scale) for bar in worker.bars)}</div></div>'
        for worker in lane.workers
    )
    lines.append("</div>")
    return lines


def _bar(bar: Bar, scale: float) -> str:
    if bar.tests > 1:
        tip = f"{bar.tests} tests, {bar.seconds:.3f} s: {bar.test} … {bar.last}"
    else:
        tip = f"{bar.test} {bar.seconds:.3f} s"
    return (
        f'<i class="bar {bar.outcome}" data-test="{_e(bar.test)}" data-tests="{bar.tests}" '
        f'style="left:{_pct(bar.start * scale)};width:{_pct(bar.seconds * scale)}" '
        f'title="{_e(tip)}"></i>'
    )


def _slowest(page: RunPage) -> list[str]:
    cases = page.summary.slowest
    if not cases:
        return _section("slowest", "Slowest tests", [_none("no test time was reported")])
    rows = (
        (
            _td(f"{case.seconds:.2f}", numeric=True),
            _td(f"<code>{_e(case.test)}</code>"),
            _td(_e(case.report or case.suite)),
        )
        for case in cases
    )
    headers = (("seconds", True), ("test", False), ("session", False))
    return _section("slowest", f"Slowest {counted(len(cases), 'test')}", _table(headers, rows))


def _balance(balance: tuple[Balance, ...]) -> list[str]:
    if not balance:
        text = "no session was split into shards or over xdist workers"
        return _section("balance", "Shard and worker balance", [_none(text)])
    rows = (
        (
            _td(_e(item.session)),
            _td(f"{item.count} {item.parts}"),
            _td("—" if item.predicted is None else f"{item.predicted:.2f}", numeric=True),
            _td(f"{item.measured:.2f}", numeric=True),
            _td(_e(", ".join(f"{seconds:.1f}" for seconds in item.seconds))),
        )
        for item in balance
    )
    headers = (
        ("session", False),
        ("split", False),
        ("predicted max/mean", True),
        ("measured max/mean", True),
        ("measured seconds per part", False),
    )
    note = (
        '<p class="muted">max/mean: 1.00 is a perfect split. Shards are predicted from the '
        "recorded durations; workers' seconds are the sum of their tests'.</p>"
    )
    return _section("balance", "Shard and worker balance", [note, *_table(headers, rows)])


def _failures(page: RunPage) -> list[str]:
    cases = page.summary.failed
    if not cases:
        return _section("failures", "Failures", [_none("no test failed")])
    rows = []
    for case in cases:
        message = shorten(first_line(case.message), _MESSAGE_LIMIT)
        rerun = rerun_command(case)
        rows.append(
            (
                _td("ERROR" if case.outcome == "error" else "FAILED", css="over"),
                _td(f'<code class="test">{_e(case.test)}</code>'),
                _td(_e(f"{case.report or case.suite}{attempts_note(case)}")),
                _td(_e(message)),
                _td(f'<code class="rerun">{_e(rerun)}</code>' if rerun else ""),
            )
        )
    headers = (
        ("", False),
        ("test", False),
        ("session", False),
        ("message", False),
        ("rerun", False),
    )
    return _section("failures", f"Failures ({len(cases)})", _table(headers, rows))


def _flaky(page: RunPage) -> list[str]:
    cases = page.summary.flaky
    if not cases:
        return _section("flaky", "Flaky tests", [_none("no test needed a retry")])
    rows = (
        (
            _td(f"<code>{_e(case.test)}</code>"),
            _td(_e(f"{case.report or case.suite}{attempts_note(case)}")),
            _td(_e(shorten(first_line(case.message), _MESSAGE_LIMIT))),
        )
        for case in cases
    )
    headers = (("test", False), ("session", False), ("first failure", False))
    heading = f"Flaky tests ({len(cases)}): failed, then passed on a retry"
    return _section("flaky", heading, _table(headers, rows))


def _quarantined(page: RunPage) -> list[str]:
    quarantined = page.summary.quarantined
    if not quarantined:
        return _section("quarantined", "Quarantined tests", [_none("no test is quarantined")])
    rows = (
        (
            _td(_e(row.outcome.upper())),
            _td(f"<code>{_e(row.key)}</code>"),
            _td(_e(row.suite)),
            _td(_e("" if row.entry is None else " ".join(row.entry.reason.split()))),
            _td(_e(streak_cell(row)), numeric=True),
            _td(_e(shorten(first_line(row.message), _MESSAGE_LIMIT))),
        )
        for row in quarantined
    )
    headers = (
        ("outcome", False),
        ("test", False),
        ("suite", False),
        ("reason", False),
        ("streak", True),
        ("message", False),
    )
    heading = f"Quarantined tests ({len(quarantined)}): their failures do not fail the run"
    return _section("quarantined", heading, _table(headers, rows))


def _budgets(page: RunPage) -> list[str]:
    summary = page.summary
    if not summary.rows:
        return _section("budgets", "Sessions and budgets", [_none("no suite reported")])
    total = Row.from_totals("total", summary.totals, target_seconds=None)
    headers, cells = suite_table(
        (*summary.rows, total),
        name=str,
        budget=lambda row: budget_cell(row.budget_seconds, row.target_seconds),
    )
    rows = []
    for row, line in zip((*summary.rows, total), cells, strict=True):
        over = "over" if row.over_budget else ""
        rows.append(
            (
                _td(_e(line[0])),
                *(_td(_e(cell), numeric=True) for cell in line[1:-1]),
                _td(_e(line[-1] + (" OVER" if row.over_budget else "")), css=over),
            )
        )
    numeric = [(header, header not in {"suite", "budget"}) for header in headers]
    numeric[0] = ("session", False)
    return _section("budgets", "Sessions and budgets", _table(numeric, rows))


def _artifacts(page: RunPage) -> list[str]:
    if not page.links:
        return _section("artifacts", "Artifacts", [_none("no other file of the run")])
    items = [
        f'<li><a href="{_href(link.href)}">{_e(link.label)}</a>'
        + ("" if link.present else ' <span class="muted">(not written yet)</span>')
        + "</li>"
        for link in page.links
    ]
    return _section("artifacts", "Artifacts", ["<ul>", *items, "</ul>"])
