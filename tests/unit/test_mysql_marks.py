"""The pure side of suitekit's MariaDB databases: marks, the refusal to drop, view renaming."""

from __future__ import annotations

import json
import os
import socket

import pytest

from suitekit.services._mysql_marks import (
    COMMENT_PREFIX,
    comment,
    refusal,
    requalify,
    takes_comments,
)


def _never_gone(host: object, pid: object) -> bool:
    del host, pid
    return False


def _always_gone(host: object, pid: object) -> bool:
    del host, pid
    return True


def _mark(**fields: object) -> str:
    info = {"run": "r1", "role": "worker", "host": socket.gethostname(), "pid": 1, **fields}
    return COMMENT_PREFIX + json.dumps(info)


@pytest.mark.parametrize("unmarked", [None, "", "mine", "suitekit not json", "suitekit [1]"])
def test_a_database_without_suitekits_comment_is_refused_naming_it(unmarked: object) -> None:
    message = refusal("sk_r1_it_gw0_abcd", unmarked, gone=_always_gone)
    assert message is not None
    assert message.startswith("database sk_r1_it_gw0_abcd exists without suitekit's comment")
    assert "fix: a database of yours with suitekit's naming" in message


def test_one_of_a_live_run_with_the_same_run_id_is_refused() -> None:
    message = refusal("sk_r1_it_gw0_abcd", _mark(pid=4242), gone=_never_gone)
    assert message is not None
    assert "belongs to run r1 of process 4242" in message
    assert "another run with the same run id?" in message
    assert "fix: give each run its own SUITEKIT_RUN_ID" in message


def test_a_kept_template_is_refused_even_if_its_builder_is_gone() -> None:
    message = refusal("sk_tpl_abc", _mark(kept="true"), gone=_always_gone)
    assert message is not None
    assert message.startswith("database sk_tpl_abc is a kept template")


def test_ours_or_a_dead_owners_may_be_dropped() -> None:
    assert refusal("sk_x", comment("r1", "worker"), gone=_never_gone) is None  # this process
    assert refusal("sk_x", _mark(pid=4242), gone=_always_gone) is None
    assert refusal("sk_x", _mark(pid=os.getpid(), host="elsewhere"), gone=_never_gone)


def test_requalify_renames_qualifiers_and_leaves_string_literals() -> None:
    view = (
        "CREATE VIEW `v` AS select `src`.`t`.`a` AS `a`,'see `src`.t' AS `note`,"
        "\"`src`.\" AS `dq`,'it\\'s `src`.' AS `esc`,'it''s `src`.' AS `dbl` "
        "from (`src`.`t` join `s``rc`.`u`) where `src` = 1"
    )
    assert requalify(view, "src", "dst") == (
        "CREATE VIEW `v` AS select `dst`.`t`.`a` AS `a`,'see `src`.t' AS `note`,"
        "\"`src`.\" AS `dq`,'it\\'s `src`.' AS `esc`,'it''s `src`.' AS `dbl` "
        "from (`dst`.`t` join `s``rc`.`u`) where `src` = 1"
    )


def test_requalify_quotes_the_target_and_matches_the_source_whole() -> None:
    assert requalify("select `a``b`.`t`", "a`b", "c`d") == "select `c``d`.`t`"
    assert requalify("select `src2`.`t`, `xsrc`.`t`", "src", "dst") == (
        "select `src2`.`t`, `xsrc`.`t`"
    )
    assert requalify("select 'unterminated `src`.", "src", "dst") == ("select 'unterminated `src`.")


@pytest.mark.parametrize(
    ("version", "takes"),
    [
        ("10.5.8-MariaDB", True),
        ("11.4.2-MariaDB-ubu2404", True),
        ("10.4.30-MariaDB", False),
        ("8.0.36", False),
        ("garbage", False),
    ],
)
def test_only_mariadb_10_5_and_newer_takes_comments(version: str, takes: bool) -> None:
    assert takes_comments(version) is takes
