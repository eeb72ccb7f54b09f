"""toneflow.dtmf.limits: the detector limits lint and `dtmf check` hold a plan to."""

from __future__ import annotations

import itertools

from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from toneflow.cli.dtmf import dtmf
from toneflow.dtmf.limits import (
    ERROR,
    WARNING,
    plan_breaches,
    repeat_breaches,
    timing_breaches,
)
from toneflow.dtmf.parsing import parse
from toneflow.dtmf.wire import WireTiming, wire_plan


def codes(breaches):
    return [(b.code, b.severity, b.field, b.position) for b in breaches]


def test_the_limits_are_at_40_and_50_ms():
    assert codes(timing_breaches(WireTiming(39, 49))) == [
        ("tone_too_short", ERROR, "tone_ms", None),
        ("gap_too_short", WARNING, "gap_ms", None),
    ]
    assert timing_breaches(WireTiming(40, 50)) == []


def test_a_repeated_key_is_flagged_at_its_second_press():
    plan = wire_plan(parse("1662", "minivoice"), timing=WireTiming(100, 49))
    assert codes(repeat_breaches(plan)) == [("repeat_too_close", WARNING, None, 3)]
    # a pause between the presses adds to the gap: heard as two
    plan = wire_plan(parse("16w62", "minivoice"), timing=WireTiming(100, 10))
    assert repeat_breaches(plan) == []
    assert repeat_breaches(wire_plan(parse("66", "minivoice"), timing=WireTiming(100, 50))) == []


@given(st.text("0123456789", min_size=1, max_size=20), st.integers(1, 200), st.integers(0, 200))
def test_every_breach_matches_the_plan(digits, tone, gap):
    plan = wire_plan(parse(digits, "minivoice"), timing=WireTiming(tone, gap))
    found = {b.code for b in plan_breaches(plan)}
    assert ("tone_too_short" in found) == (tone < 40)
    assert ("gap_too_short" in found) == (gap < 50)
    repeats = any(a == b for a, b in itertools.pairwise(digits))
    assert ("repeat_too_close" in found) == (repeats and gap < 50)


def test_dtmf_check_fails_on_a_short_tone_and_warns_on_a_short_gap():
    runner = CliRunner()
    result = runner.invoke(dtmf, ["check", "12", "--dialect", "vobiz", "--tone-ms", "30"])
    assert result.exit_code == 1
    assert "tone_ms 30 is under 40 ms" in result.stderr
    args = ["check", "12", "--dialect", "vobiz", "--gap-ms", "20", "--pause-before-ms", "1"]
    result = runner.invoke(dtmf, args)
    assert result.exit_code == 0
    assert result.stdout.splitlines()[:2] == [
        "ok",
        "warning: gap_ms 20 is under 50 ms, the shortest silence between keys a detector "
        "must accept (AT&T, as quoted in Asterisk's dsp.c): some far ends will merge or "
        "miss keys",
    ]
