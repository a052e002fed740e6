"""What crosses between suitekit's processes round-trips: SessionEnv and PluginArgs."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from suitekit import _handoff
from suitekit._handoff import OPTIONS, PluginArgs, SessionEnv

SRC = Path(__file__).resolve().parents[2] / "src" / "suitekit"

# Values as they travel: non-empty text without NUL (an environment cannot hold one).
text = st.text(st.characters(blacklist_characters="\0", codec="utf-8"), min_size=1, max_size=30)


@settings(database=None, max_examples=200)
@given(st.builds(SessionEnv, **{f.name: st.none() | text for f in dataclasses.fields(SessionEnv)}))
def test_session_env_round_trips(handed: SessionEnv) -> None:
    assert SessionEnv.from_env(handed.to_env()) == handed


def test_session_env_reads_only_its_own_variables() -> None:
    environ = {"SUITEKIT_RUN_ID": "r1", "SUITEKIT_WORKERS": "", "DATABASE_URL": "x", "PATH": "/"}
    assert SessionEnv.from_env(environ) == SessionEnv(run_id="r1")
    assert SessionEnv(run_id="r1", shard="1/2").to_env() == {
        "SUITEKIT_RUN_ID": "r1",
        "SUITEKIT_SHARD": "1/2",
    }


values = st.text(
    st.characters(blacklist_characters="\0", codec="utf-8"), min_size=1, max_size=20
).filter(lambda value: not value.startswith("-"))


@settings(database=None, max_examples=300)
@given(
    st.builds(
        PluginArgs,
        suite=st.none() | values,
        partition=st.booleans(),
        shard=st.none() | values,
        plan_shards=st.none() | st.integers(1, 64),
        retries=st.none() | st.integers(0, 10),
        order_seed=st.none() | st.integers(-(2**31), 2**31),
        order_file=st.none() | values,
        run_log=st.none() | values,
        project=st.none() | values,
    )
)
def test_plugin_args_round_trip_through_argv(args: PluginArgs) -> None:
    argv = args.to_argv()
    assert PluginArgs.from_argv(argv) == args
    # Among other arguments, and with values as separate words, the same options come back.
    spaced = [part for item in argv for part in item.split("=", 1)]
    assert PluginArgs.from_argv(["-q", *spaced, "tests"]) == args


def test_plugin_args_name_the_option_that_lacks_its_value() -> None:
    with pytest.raises(ValueError, match="--suitekit-suite needs a value"):
        PluginArgs.from_argv(["--suitekit-suite"])
    assert PluginArgs.from_argv(["--shard", "2/3"]) == PluginArgs(shard="2/3")


def test_every_option_has_a_field_and_every_field_an_option() -> None:
    assert [o.field for o in OPTIONS] == [f.name for f in dataclasses.fields(PluginArgs)]
    assert all(o.flag == f"--suitekit-{o.field.replace('_', '-')}" for o in OPTIONS)


def _spelled(pattern: str) -> dict[str, set[str]]:
    """Each quoted name matching ``pattern`` in src/suitekit, with the modules spelling it."""
    found: dict[str, set[str]] = {}
    for path in SRC.rglob("*.py"):
        for name in re.findall(pattern, path.read_text(encoding="utf-8")):
            found.setdefault(name, set()).add(path.relative_to(SRC).as_posix())
    return found


def test_each_variable_and_option_is_spelled_in_one_module() -> None:
    # Quoted, as code uses them (docstrings and help texts name them unquoted).
    variables = _spelled(r"\"(SUITEKIT_[A-Z_]*[A-Z])")
    options = _spelled(r"\"(--suitekit-[a-z-]*[a-z])")
    elsewhere = {
        name: sorted(modules)
        for name, modules in {**variables, **options}.items()
        if modules != {"_handoff.py"}
    }
    assert elsewhere == {}
    declared = {getattr(_handoff, n) for n in _handoff.__all__ if n.startswith(("ENV_", "OPT_"))}
    assert set(variables) | set(options) == declared
