"""toneflow.dtmf.timeline: when each tone sounds and what risks a missed digit."""

from __future__ import annotations

import itertools

import pytest
from dtmf_cases import dialect_and_text, keys_of, pauses_of
from hypothesis import given
from hypothesis import strategies as st

from toneflow.dtmf.parsing import parse
from toneflow.dtmf.timeline import Timeline, timeline
from toneflow.dtmf.tokens import Key


def spans(result: Timeline) -> list[tuple[str, int, int]]:
    return [(t.key, t.start_ms, t.end_ms) for t in result.tones]


def codes(result: Timeline) -> list[tuple[str, int | None]]:
    return [(w.code, w.position) for w in result.warnings]


def test_keys_sound_for_the_tone_and_are_separated_by_the_gap():
    result = timeline(parse("12", "minivoice"), pause_before_ms=1000)
    assert spans(result) == [("1", 1000, 1100), ("2", 1200, 1300)]
    assert result.total_ms == 1300
    result = timeline(parse("12", "minivoice"), tone_ms=50, gap_ms=20, pause_before_ms=1000)
    assert spans(result) == [("1", 1000, 1050), ("2", 1070, 1120)]


def test_a_pause_adds_to_the_gap_after_a_key():
    # MiniVoice sends like Asterisk: the gap after every key, then the pause's silence
    result = timeline(parse("1w2W", "minivoice"), pause_before_ms=500)
    assert spans(result) == [("1", 500, 600), ("2", 1200, 1300)]
    assert result.total_ms == 2400  # the trailing pause (after its gap) is part of the send
    assert [t.position for t in result.tones] == [1, 3]


def test_digits_with_no_pause_after_connect_are_warned_about():
    assert codes(timeline(parse("12", "minivoice"))) == [("no_pause_after_connect", 1)]
    assert codes(timeline(parse("W12", "minivoice"))) == []
    assert codes(timeline(parse("12", "minivoice"), pause_before_ms=1)) == []


def test_the_same_key_twice_with_only_the_gap_is_warned_about():
    result = timeline(parse("1223", "minivoice"), pause_before_ms=500)
    assert codes(result) == [("repeated_key", 3)]
    assert "position 3" in result.warnings[0].message
    assert codes(timeline(parse("12w23", "minivoice"), pause_before_ms=500)) == []


def test_a_run_longer_than_the_platform_limit_is_warned_about():
    run = "0123456789" * 4  # 40 keys, no repeats
    assert codes(timeline(parse(run, "twilio"), pause_before_ms=500, dialect="twilio")) == [
        ("run_too_long", 33)
    ]
    split = run[:20] + "w" + run[20:]
    assert codes(timeline(parse(split, "twilio"), pause_before_ms=500, dialect="twilio")) == []
    assert codes(timeline(parse(run, "twilio"), pause_before_ms=500)) == []  # no target: no limit
    assert codes(timeline(parse(run, "minivoice"), pause_before_ms=500, dialect="minivoice")) == []


def test_timeline_refuses_impossible_timing():
    seq = parse("1", "minivoice")
    for kwargs in ({"tone_ms": 0}, {"gap_ms": -1}, {"pause_before_ms": -1}):
        with pytest.raises(ValueError):
            timeline(seq, **kwargs)


@given(
    dialect_and_text(["minivoice"]), st.integers(0, 5000), st.integers(1, 500), st.integers(0, 500)
)
def test_timeline_total_is_tones_gaps_and_pauses(case, pause_before_ms, tone_ms, gap_ms):
    _, text = case
    seq = parse(text, "minivoice")
    result = timeline(seq, tone_ms=tone_ms, gap_ms=gap_ms, pause_before_ms=pause_before_ms)
    followed_keys = sum(isinstance(a, Key) for a, _ in itertools.pairwise(seq))
    keys = len(keys_of(seq))
    assert result.total_ms == (
        pause_before_ms + sum(pauses_of(seq)) + keys * tone_ms + followed_keys * gap_ms
    )
    assert len(result.tones) == keys
    starts = [t.start_ms for t in result.tones]
    assert starts == sorted(starts)
    assert all(t.end_ms - t.start_ms == tone_ms for t in result.tones)
