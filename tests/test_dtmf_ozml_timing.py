"""toneflow.dtmf.ozml_timing: Delay and SendDTMF groups, whole seconds rounded up."""

from __future__ import annotations

import pytest
from dtmf_cases import dialect_and_text, keys_of, pauses_of
from hypothesis import given
from hypothesis import strategies as st

from toneflow.dtmf.errors import DtmfError
from toneflow.dtmf.ozml_timing import (
    OzmlDelay,
    OzmlKeys,
    exact_ozml_segments,
    ozml_segments,
    rounding_notes,
    whole_seconds,
)
from toneflow.dtmf.parsing import parse
from toneflow.dtmf.tokens import Key, Pause


def test_pause_before_joins_a_leading_pause_into_one_rounded_up_delay():
    segments = ozml_segments(parse("w12", "minivoice"), pause_before_ms=1500)
    assert segments == [OzmlDelay(2, 2000, 1), OzmlKeys("12", 2)]
    assert segments[0].position == 1


def test_pause_before_alone_is_rounded_up_and_has_no_position():
    segments = ozml_segments(parse("12", "minivoice"), pause_before_ms=1200)
    assert segments == [OzmlDelay(2, 1200, None), OzmlKeys("12", 1)]
    assert segments[0].position is None


def test_a_pause_inside_the_digits_splits_send_dtmf():
    segments = ozml_segments(parse("12w3", "minivoice"))
    assert segments == [OzmlKeys("12", 1), OzmlDelay(1, 500, 3), OzmlKeys("3", 4)]
    assert [s.position for s in segments] == [1, 3, 4]


def test_a_run_of_pause_characters_is_summed_before_rounding():
    segments = ozml_segments(parse("1w,w2", "minivoice"))
    assert segments == [OzmlKeys("1", 1), OzmlDelay(2, 1500, 2), OzmlKeys("2", 5)]


def test_a_zero_pause_writes_no_delay():
    assert ozml_segments(parse("123", "minivoice")) == [OzmlKeys("123", 1)]
    assert ozml_segments([Pause(0, 1), Key("1", 2)], pause_before_ms=0) == [OzmlKeys("1", 2)]


def test_a_to_d_are_refused_in_ozml_naming_character_and_position():
    with pytest.raises(DtmfError) as caught:
        ozml_segments(parse("12wA", "minivoice"))
    assert (caught.value.char, caught.value.position, caught.value.dialect) == ("A", 4, "ozml")


def test_negative_pause_before_is_refused():
    with pytest.raises(ValueError, match="pause_before_ms"):
        ozml_segments(parse("1", "minivoice"), pause_before_ms=-1)


def test_whole_seconds_rounds_up_for_delays_and_timeouts():
    assert [whole_seconds(ms) for ms in (0, 1, 999, 1000, 1001, 60000)] == [0, 1, 1, 1, 2, 60]
    with pytest.raises(ValueError):
        whole_seconds(-1)


def test_rounding_notes_say_what_ozml_lengthens():
    notes = rounding_notes(parse("12w3W4", "minivoice"))
    assert [str(n) for n in notes] == ["a 500 ms pause at position 3 becomes 1 s in OzML"]
    notes = rounding_notes(parse("w1", "minivoice"), pause_before_ms=700)
    assert [(n.exact_ms, n.seconds, n.position) for n in notes] == [(1200, 2, 1)]
    assert "pause_before_ms" in str(notes[0])
    assert rounding_notes(parse("1", "minivoice"), pause_before_ms=2000) == []
    # A-D are lint's business elsewhere; they do not stop the notes
    assert len(rounding_notes(parse("Aw1", "minivoice"))) == 1


@given(dialect_and_text(["minivoice", "vobiz", "vicidial"]), st.integers(0, 60000))
def test_ozml_never_shortens_silence(case, pause_before_ms):
    dialect, text = case
    seq = [t for t in parse(text, dialect) if not (isinstance(t, Key) and t.key in "ABCD")]
    segments = ozml_segments(seq, pause_before_ms=pause_before_ms)
    delays = [s for s in segments if isinstance(s, OzmlDelay)]
    assert sum(d.seconds for d in delays) * 1000 >= pause_before_ms + sum(pauses_of(tuple(seq)))
    for delay in delays:
        assert delay.exact_ms <= delay.seconds * 1000 < delay.exact_ms + 1000
        assert delay.seconds > 0
    assert "".join(s.keys for s in segments if isinstance(s, OzmlKeys)) == keys_of(tuple(seq))


def test_exact_segments_refuse_what_ozml_would_round_unless_asked_to():
    assert exact_ozml_segments(parse("1W2", "minivoice")) == [
        OzmlKeys("1", 1),
        OzmlDelay(1, 1000, 2),
        OzmlKeys("2", 3),
    ]
    with pytest.raises(DtmfError) as caught:
        exact_ozml_segments(parse("1,2", "minivoice"), source="1,2")
    assert (caught.value.char, caught.value.position, caught.value.dialect) == (",", 2, "ozml")
    assert "rounding up would make it 1000 ms" in str(caught.value)
    rounded = exact_ozml_segments(parse("1,2", "minivoice"), round_up=True)
    assert rounded == [OzmlKeys("1", 1), OzmlDelay(1, 500, 2), OzmlKeys("2", 3)]
    with pytest.raises(DtmfError) as caught:
        exact_ozml_segments(parse("W1A", "minivoice"), round_up=True)
    assert (caught.value.char, caught.value.position) == ("A", 3)
    for nothing in ([], [Pause(0, 1)]):
        with pytest.raises(DtmfError, match="empty"):
            exact_ozml_segments(nothing)
