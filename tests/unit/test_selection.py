"""Unit tests of suite selection and the partition check (suitekit._selection)."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from suitekit import PartitionError, Project, Suite
from suitekit._selection import (
    CollectedTest,
    Collection,
    PartitionReport,
    SuiteSelector,
    collected_roots,
    partition,
    partition_of_collections,
    uncollected,
)


def collected(node_id: str, *markers: str) -> CollectedTest:
    """A test whose file is the node id's part before '::'."""
    return CollectedTest(
        node_id=node_id,
        path=PurePosixPath(node_id.split("::", 1)[0]),
        markers=frozenset(markers),
    )


def selects(suite: Suite, node_id: str, *markers: str) -> bool:
    return SuiteSelector.of(suite).selects(collected(node_id, *markers))


def project_of(*suites: Suite, tests: tuple[str, ...] = ("tests",)) -> Project:
    root = Path("/project")
    return Project(
        root=root,
        config_file=root / "pyproject.toml",
        python=("3.11",),
        tests=tests,
        suites=suites,
    )


# -- SuiteSelector: paths --------------------------------------------------------------------


def test_a_folder_selects_the_files_below_it() -> None:
    unit = Suite(name="unit", paths=("tests/unit",))

    assert selects(unit, "tests/unit/test_a.py::test_x")
    assert selects(unit, "tests/unit/deep/er/test_b.py::TestC::test_y")
    assert not selects(unit, "tests/integration/test_a.py::test_x")
    assert not selects(unit, "tests/test_top.py::test_x")


def test_a_sibling_folder_with_a_common_prefix_is_not_selected() -> None:
    unit = Suite(name="unit", paths=("tests/unit",))

    assert not selects(unit, "tests/unit2/test_a.py::test_x")
    assert not selects(unit, "tests/unit_slow/test_a.py::test_x")
    assert not selects(unit, "tests/unit.py::test_x")


def test_a_file_selects_only_itself() -> None:
    suite = Suite(name="api", paths=("tests/test_api.py",))

    assert selects(suite, "tests/test_api.py::test_x")
    assert selects(suite, "tests/test_api.py::TestA::test_y[1]")
    assert not selects(suite, "tests/test_api_v2.py::test_x")
    assert not selects(suite, "tests/test_other.py::test_x")


def test_a_nested_folder() -> None:
    suite = Suite(name="slow", paths=("tests/integration/slow",))

    assert selects(suite, "tests/integration/slow/test_a.py::test_x")
    assert not selects(suite, "tests/integration/test_a.py::test_x")


def test_several_paths() -> None:
    suite = Suite(name="mixed", paths=("tests/a", "tests/b/test_one.py"))

    assert selects(suite, "tests/a/test_x.py::t")
    assert selects(suite, "tests/b/test_one.py::t")
    assert not selects(suite, "tests/b/test_two.py::t")


@pytest.mark.parametrize("written", ["tests/unit/", "./tests/unit", "tests\\unit", "./tests/unit/"])
def test_paths_are_normalised(written: str) -> None:
    suite = Suite(name="unit", paths=(written,))

    assert selects(suite, "tests/unit/test_a.py::test_x")
    assert not selects(suite, "tests/unit2/test_a.py::test_x")


@pytest.mark.parametrize("written", [".", "./"])
def test_the_project_folder_selects_everything(written: str) -> None:
    suite = Suite(name="everything", paths=(written,))

    assert SuiteSelector.of(suite).roots == ()
    assert selects(suite, "tests/unit/test_a.py::test_x")
    assert selects(suite, "test_top.py::test_x")


def test_the_project_folder_among_other_paths_still_selects_everything() -> None:
    suite = Suite(name="everything", paths=("tests/unit", "."))

    assert selects(suite, "tests/integration/test_a.py::test_x")


# -- SuiteSelector: markers ------------------------------------------------------------------


def test_a_marker_only_suite_selects_by_marker_anywhere() -> None:
    processing = Suite(name="processing", marker="processing")

    assert SuiteSelector.of(processing).roots == ()
    assert selects(processing, "tests/unit/test_a.py::test_x", "processing")
    assert selects(processing, "elsewhere/test_b.py::test_y", "processing", "slow")
    assert not selects(processing, "tests/unit/test_a.py::test_x")
    assert not selects(processing, "tests/unit/test_a.py::test_x", "slow")


def test_paths_and_marker_must_both_hold() -> None:
    suite = Suite(name="fast-unit", paths=("tests/unit",), marker="not slow")

    assert selects(suite, "tests/unit/test_a.py::test_x")
    assert selects(suite, "tests/unit/test_a.py::test_x", "db")
    assert not selects(suite, "tests/unit/test_a.py::test_x", "slow")
    assert not selects(suite, "tests/integration/test_a.py::test_x")


def test_a_selector_keeps_its_compiled_expression() -> None:
    selector = SuiteSelector.of(Suite(name="s", paths=("tests",), marker="a or b"))

    assert selector.expression is not None
    assert selector.expression.names == ("a", "b")
    assert selector.roots == (PurePosixPath("tests"),)
    assert SuiteSelector.of(Suite(name="t", paths=("tests",))).expression is None


# -- partition ----------------------------------------------------------------------------------

UNIT = Suite(name="unit", paths=("tests/unit",), marker="not processing")
PROCESSING = Suite(name="processing", marker="processing")
INTEGRATION = Suite(name="integration", paths=("tests/integration",))


def test_a_clean_partition_counts_each_suite() -> None:
    tests = [
        collected("tests/unit/test_a.py::test_1"),
        collected("tests/unit/test_a.py::test_2"),
        collected("tests/unit/test_b.py::test_3", "processing"),
        collected("tests/integration/test_c.py::test_4"),
    ]

    report = partition(project_of(UNIT, PROCESSING, INTEGRATION), tests)

    assert report == PartitionReport(
        counts=(("unit", 2), ("processing", 1), ("integration", 1)),
        unowned=(),
        overlapping=(),
        outside=0,
    )
    assert report.ok


def test_a_suite_that_owns_nothing_is_counted_as_zero() -> None:
    report = partition(project_of(UNIT, PROCESSING), [collected("tests/unit/test_a.py::t")])

    assert report.counts == (("unit", 1), ("processing", 0))


def test_unowned_tests_are_listed() -> None:
    tests = [
        collected("tests/unit/test_a.py::test_1"),
        collected("tests/e2e/test_flow.py::test_2"),
        collected("tests/test_top.py::test_3"),
    ]

    report = partition(project_of(UNIT, INTEGRATION), tests)

    assert report.unowned == ("tests/e2e/test_flow.py::test_2", "tests/test_top.py::test_3")
    assert report.overlapping == ()
    assert report.counts == (("unit", 1), ("integration", 0))
    assert not report.ok


def test_overlapping_tests_are_listed_with_their_suites() -> None:
    # A processing test under tests/integration: both suites select it.
    tests = [
        collected("tests/integration/test_c.py::test_4", "processing"),
        collected("tests/integration/test_c.py::test_5"),
    ]

    report = partition(project_of(UNIT, PROCESSING, INTEGRATION), tests)

    assert report.overlapping == (
        ("tests/integration/test_c.py::test_4", ("processing", "integration")),
    )
    assert report.unowned == ()
    # An overlapping test counts for each suite that selects it.
    assert report.counts == (("unit", 0), ("processing", 1), ("integration", 2))
    assert not report.ok


def test_tests_outside_the_test_roots_are_counted_not_checked() -> None:
    tests = [
        collected("tests/unit/test_a.py::test_1"),
        collected("src/bookshop/test_doctest.py::test_2"),
        collected("docs/test_examples.py::test_3"),
        collected("tests2/test_x.py::test_4"),
    ]

    report = partition(project_of(UNIT), tests)

    assert report.outside == 3
    assert report.unowned == ()
    assert report.counts == (("unit", 1),)
    assert report.ok


def test_several_test_roots() -> None:
    tests = [
        collected("tests/unit/test_a.py::t1"),
        collected("integration_tests/test_b.py::t2"),
        collected("scripts/test_c.py::t3"),
    ]

    report = partition(project_of(UNIT, tests=("tests", "integration_tests/")), tests)

    assert report.unowned == ("integration_tests/test_b.py::t2",)
    assert report.outside == 1


def test_the_project_folder_as_test_root_checks_every_test() -> None:
    tests = [collected("tests/unit/test_a.py::t1"), collected("scripts/test_c.py::t3")]

    report = partition(project_of(UNIT, tests=(".",)), tests)

    assert report.outside == 0
    assert report.unowned == ("scripts/test_c.py::t3",)


def test_no_tests_is_a_clean_partition() -> None:
    report = partition(project_of(UNIT, INTEGRATION), [])

    assert report.counts == (("unit", 0), ("integration", 0))
    assert report.ok


def test_the_report_table() -> None:
    report = PartitionReport(
        counts=(("unit", 120), ("integration", 7)),
        unowned=(),
        overlapping=(),
        outside=2,
    )

    assert report.table() == (
        "suite        tests\n"
        "unit           120\n"
        "integration      7\n"
        "total          127\n"
        "(2 collected test(s) outside the test roots: not checked)"
    )


def test_partition_error_lists_every_node_id() -> None:
    error = PartitionError(
        unowned=("tests/e2e/test_flow.py::test_2", "tests/test_top.py::test_3"),
        overlapping=(("tests/integration/test_c.py::test_4", ("processing", "integration")),),
    )

    assert str(error) == (
        "suitekit: every test must belong to exactly one suite.\n"
        "2 test(s) belong to no suite:\n"
        "  tests/e2e/test_flow.py::test_2\n"
        "  tests/test_top.py::test_3\n"
        "1 test(s) belong to more than one suite:\n"
        "  tests/integration/test_c.py::test_4  (processing, integration)\n"
        "  fix: add the file's folder to a suite's `paths`, or mark the test with a suite's "
        "marker; where two suites overlap, narrow one with a marker expression such as "
        '`marker = "not processing"`.'
    )
    assert error.unowned == ("tests/e2e/test_flow.py::test_2", "tests/test_top.py::test_3")
    assert error.overlapping[0][1] == ("processing", "integration")


def test_partition_error_from_a_report() -> None:
    tests = [collected("tests/e2e/test_flow.py::test_2")]
    report = partition(project_of(UNIT), tests)

    with pytest.raises(PartitionError, match=r"1 test\(s\) belong to no suite:\n  tests/e2e/"):
        raise PartitionError(unowned=report.unowned, overlapping=report.overlapping)


def test_partition_error_with_only_overlaps() -> None:
    error = PartitionError(unowned=(), overlapping=(("t.py::x", ("a", "b")),))

    assert "belong to no suite" not in str(error)
    assert "  t.py::x  (a, b)" in str(error)


# -- the partition from what each suite session collected ----------------------------------


def session_collection(project: Project, suite: Suite, tests: list[CollectedTest]) -> Collection:
    """What a suite session records: the tests under its roots, split by its own rule."""
    roots = [PurePosixPath(p) for p in suite.paths or project.tests]
    seen = [t for t in tests if any(t.path == r or r in t.path.parents for r in roots)]
    selector = SuiteSelector.of(suite)
    return Collection(
        suite=suite.name,
        owned=tuple(t.node_id for t in seen if selector.selects(t)),
        others=tuple(t.node_id for t in seen if not selector.selects(t)),
        complete=True,
    )


def test_the_collections_give_the_partition_of_one_collection() -> None:
    tests = [
        collected("tests/unit/test_a.py::test_1"),
        collected("tests/unit/test_b.py::test_3", "processing"),
        collected("tests/integration/test_c.py::test_4", "processing"),
        collected("tests/integration/test_c.py::test_5"),
    ]
    project = project_of(UNIT, PROCESSING, INTEGRATION)

    report = partition_of_collections(
        project, [session_collection(project, s, tests) for s in project.suites]
    )

    assert report.counts == (("unit", 1), ("processing", 2), ("integration", 2))
    assert report.unowned == ()
    assert report.overlapping == (
        ("tests/integration/test_c.py::test_4", ("processing", "integration")),
    )


def test_a_test_that_its_session_collected_but_no_suite_selects_is_unowned() -> None:
    only_marked = Suite(name="processing", paths=("tests/processing",), marker="processing")
    project = project_of(UNIT, only_marked)
    tests = [collected("tests/processing/test_p.py::test_unmarked")]

    report = partition_of_collections(
        project, [session_collection(project, s, tests) for s in project.suites]
    )

    assert report.unowned == ("tests/processing/test_p.py::test_unmarked",)
    assert not report.ok


def test_sessions_of_one_suite_for_several_pythons_own_a_test_once() -> None:
    project = project_of(INTEGRATION)
    record = Collection(
        suite="integration", owned=("tests/integration/test_c.py::t",), others=(), complete=True
    )

    report = partition_of_collections(project, [record, record])

    assert report.ok
    assert report.counts == (("integration", 1),)


def test_files_outside_every_suites_paths_are_uncollected() -> None:
    project = project_of(INTEGRATION, Suite(name="unit", paths=("tests/unit",)))

    assert collected_roots(project) == (
        PurePosixPath("tests/integration"),
        PurePosixPath("tests/unit"),
    )
    assert uncollected(
        project, ["tests/unit/test_a.py", "tests/test_top.py", "tests/e2e/test_flow.py"]
    ) == ("tests/test_top.py", "tests/e2e/test_flow.py")
    # A marker-only suite collects every test root.
    assert uncollected(project_of(UNIT, PROCESSING), ["tests/test_top.py"]) == ()


FILES = (
    "tests/test_top.py",
    "tests/unit/test_a.py",
    "tests/unit/deep/test_b.py",
    "tests/integration/test_c.py",
    "scripts/test_d.py",
)
CANDIDATES = (
    Suite(name="unit", paths=("tests/unit",)),
    Suite(name="deep", paths=("tests/unit/deep",), marker="slow"),
    Suite(name="slow", marker="slow"),
    Suite(name="fast", marker="not slow and not processing"),
    Suite(name="integration", paths=("tests/integration",), marker="not processing"),
    Suite(name="processing", paths=("tests",), marker="processing"),
    Suite(name="scripts", paths=("scripts", "tests/test_top.py")),
)


@given(
    chosen=st.lists(st.sampled_from(CANDIDATES), min_size=1, unique_by=lambda s: s.name),
    marks=st.lists(
        st.tuples(
            st.sampled_from(FILES), st.sets(st.sampled_from(("slow", "processing")), max_size=2)
        ),
        max_size=12,
    ),
)
def test_the_collections_agree_with_one_collection_of_every_root(
    chosen: list[Suite], marks: list[tuple[str, set[str]]]
) -> None:
    project = project_of(*chosen)
    tests = [collected(f"{path}::test_{i}", *names) for i, (path, names) in enumerate(marks)]
    # The runner decides from the records only when no test file lies outside every suite's
    # collection (else it runs the partition session).
    assume(
        not uncollected(project, [str(t.path) for t in tests if str(t.path) != "scripts/test_d.py"])
    )
    under_roots = [t for t in tests if not str(t.path).startswith("scripts/")]

    whole = partition(project, under_roots)
    parts = partition_of_collections(
        project, [session_collection(project, s, tests) for s in project.suites]
    )

    assert parts.counts == whole.counts
    assert sorted(parts.unowned) == sorted(whole.unowned)
    assert sorted(parts.overlapping) == sorted(whole.overlapping)


def test_a_record_reads_back_as_written_and_nothing_else_reads_as_one() -> None:
    record = Collection(
        suite="unit",
        owned=("tests/unit/test_a.py::t[é|x]",),
        others=(),
        complete=False,
        python_files=("check_*.py",),
        norecursedirs=(".*", "venv"),
    )

    assert Collection.from_json(record.to_json()) == record
    for text in ("{broken", "[]", '{"version": 2}', '{"version": 1, "suite": "unit"}'):
        assert Collection.from_json(text) is None
