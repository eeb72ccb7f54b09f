"""toneflow.dtmf.tokens: keys and pauses, equal by sound, with their pauses merged."""

from __future__ import annotations

import pytest
from dtmf_cases import positions

from toneflow.dtmf.tokens import Key, Pause, merge_pauses


def test_tokens_compare_by_content_not_position():
    assert Key("1", 1) == Key("1", 7)
    assert Pause(500, 2) == Pause(500, 9)
    assert Key("1", 1) != Key("2", 1)
    assert Pause(500, 1) != Pause(1000, 1)


def test_tokens_refuse_impossible_values():
    with pytest.raises(ValueError, match="not a DTMF key"):
        Key("x", 1)
    with pytest.raises(ValueError, match="negative"):
        Pause(-1, 1)


def test_merge_pauses_merges_adjacent_pauses_keeping_the_first_position_and_drops_empty_ones():
    seq = merge_pauses([Pause(0, 1), Key("1", 2), Pause(500, 3), Pause(1000, 4), Key("2", 5)])
    assert seq == (Key("1", 2), Pause(1500, 3), Key("2", 5))
    assert positions(seq) == [2, 3, 5]
