"""toneflow.dtmf.wire: the one plan of what a send_digits puts on the line."""

from __future__ import annotations

import itertools

import pytest
from dtmf_cases import dialect_and_text
from hypothesis import given
from hypothesis import strategies as st

from toneflow.dtmf.dialects import DIGIT_DIALECTS
from toneflow.dtmf.parsing import parse
from toneflow.dtmf.timeline import timeline
from toneflow.dtmf.wire import GAP, PAUSE, PAUSE_BEFORE, Silence, Tone, WireTiming, wire_plan


def layout(plan) -> list[tuple]:
    return [
        (s.key, s.start_ms, s.end_ms) if isinstance(s, Tone) else (s.cause, s.start_ms, s.end_ms)
        for s in plan.segments
    ]


def test_each_pause_character_adds_its_silence_after_the_gap():
    plan = wire_plan(parse("12w3W4,5", "minivoice"), timing=WireTiming(100, 50))
    starts = [t.start_ms for t in plan.tones]
    # the notes' measurement: gaps of 550, 1050 and 550 ms between those keys
    assert [b - a - 100 for a, b in itertools.pairwise(starts)] == [50, 550, 1050, 550]


def test_the_vicidial_seed_waits_four_seconds_then_five():
    plan = wire_plan(parse("QQQQ1234SQQQQQ6654P", "vicidial"))
    tones = plan.tones
    assert [t.key for t in tones] == list("1234*6654#")
    assert tones[0].start_ms == 4000
    assert tones[4].start_ms == 4000 + 4 * 200  # 1234 then * with 100 ms gaps
    assert tones[5].start_ms - tones[4].end_ms == 100 + 5000  # the gap, then QQQQQ
    assert plan.total_ms == tones[-1].end_ms


def test_pause_before_comes_first_and_joins_nothing():
    plan = wire_plan(parse("w1", "vobiz"), pause_before_ms=300)
    assert layout(plan) == [(PAUSE_BEFORE, 0, 300), (PAUSE, 300, 800), ("1", 800, 900)]


def test_ozml_pauses_replace_the_gap_and_are_whole_seconds():
    # OzML: <Delay> elements between <SendDTMF> runs; pause_before_ms joins an opening pause
    seq = parse("w12,3", "minivoice")
    plan = wire_plan(seq, "ozml", pause_before_ms=200)
    assert layout(plan) == [
        (PAUSE_BEFORE, 0, 1000),  # 200 + 500, rounded up to 1 s: one Delay
        ("1", 1000, 1100),
        (GAP, 1100, 1200),
        ("2", 1200, 1300),
        (PAUSE, 1300, 2300),  # ',' (500 ms) becomes Delay 1 s, in place of the gap
        ("3", 2300, 2400),
    ]


def test_a_trailing_pause_follows_the_last_gap():
    plan = wire_plan(parse("1W", "asterisk"), timing=WireTiming(80, 40))
    assert layout(plan) == [("1", 0, 80), (GAP, 80, 120), (PAUSE, 120, 1120)]


def test_zero_gap_writes_no_gap_segment():
    plan = wire_plan(parse("12", "minivoice"), timing=WireTiming(60, 0))
    assert layout(plan) == [("1", 0, 60), ("2", 60, 120)]


def test_impossible_timing_is_refused():
    for tone, gap in ((0, 100), (100, -1)):
        with pytest.raises(ValueError):
            WireTiming(tone, gap)
    with pytest.raises(ValueError):
        wire_plan(parse("1", "minivoice"), pause_before_ms=-1)


@given(
    dialect_and_text(list(DIGIT_DIALECTS)),
    st.integers(1, 400),
    st.integers(0, 400),
    st.integers(0, 5000),
)
def test_segments_are_end_to_end_and_the_timeline_reads_them(case, tone, gap, before):
    dialect, text = case
    seq = parse(text, dialect)
    plan = wire_plan(seq, dialect, timing=WireTiming(tone, gap), pause_before_ms=before)
    assert plan.segments[0].start_ms == 0
    for a, b in itertools.pairwise(plan.segments):
        assert a.end_ms == b.start_ms
        if isinstance(a, Silence) and a.cause == GAP:
            assert isinstance(b, Tone) or b.cause == PAUSE  # a gap follows a key, nothing else
    assert all(t.end_ms - t.start_ms == tone for t in plan.tones)
    result = timeline(seq, tone_ms=tone, gap_ms=gap, pause_before_ms=before, dialect=dialect)
    assert result.tones == plan.tones
    assert result.total_ms == plan.total_ms


def test_a_flow_declares_its_platforms_tone_and_gap():
    from toneflow.flows.compile import compile_flow

    text = b'dtmf: {tone_ms: 80, gap_ms: 60}\nsteps:\n  a:\n    - send_digits: "1"\n'
    flow, problems = compile_flow("f", "f.yaml", text, max_digits=128)
    assert problems == []
    assert flow.dtmf == WireTiming(80, 60)
    flow, _ = compile_flow("f", "f.yaml", b'steps:\n  a:\n    - send_digits: "1"\n', max_digits=128)
    assert flow.dtmf == WireTiming(100, 100)


def test_a_bad_dtmf_block_is_an_error_at_its_place():
    from toneflow.flows.compile import compile_flow

    def problems(block: str) -> list[str]:
        text = f'dtmf: {block}\nsteps:\n  a:\n    - send_digits: "1"\n'.encode()
        flow, found = compile_flow("f", "f.yaml", text, max_digits=128)
        assert flow is None
        return [str(p) for p in found]

    assert problems("5") == [
        "f.yaml:1:7: error: dtmf is a mapping: write `dtmf: {tone_ms: 100, gap_ms: 100}`"
    ]
    assert problems("{tone_ms: 0}") == [
        "f.yaml:1:17: error: dtmf.tone_ms: Must be greater than or equal to 1 and less "
        "than or equal to 10000."
    ]
    assert problems("{gap: 40}")[0].startswith(
        "f.yaml:1:8: error: dtmf.gap: unknown key 'gap' (did you mean 'gap_ms'?)"
    )
