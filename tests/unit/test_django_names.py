"""Django test databases named after suitekit's clones: recognised by name and hash only."""

from __future__ import annotations

from suitekit import _naming
from suitekit.services._django import parse_test_database


def test_test_database_names_are_checked_against_suitekit_naming() -> None:
    clone = _naming.database_name("20261206082100abcdef", "integration", "gw0")
    assert parse_test_database("test_" + clone) == ("20261206082100abcdef", "integration", "gw0")
    assert parse_test_database("test_" + clone + "_gw0") == (
        "20261206082100abcdef",
        "integration",
        "gw0",
    )
    suite_with_underscore = _naming.database_name("run1", "my_suite", "gw3")
    assert parse_test_database(f"test_{suite_with_underscore}_py311") == ("run1", "my_suite", "gw3")
    # Not suitekit's: a wrong hash, no test_ prefix, a user's database, a truncated hash.
    assert parse_test_database("test_" + clone[:-8] + "00000000") is None
    assert parse_test_database(clone) is None
    assert parse_test_database("test_library_gw0") is None
    assert parse_test_database("test_" + clone[:-1]) is None
