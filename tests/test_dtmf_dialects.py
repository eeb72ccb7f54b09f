"""toneflow.dtmf.dialects: the digit dialects, their alphabets, unknown names."""

from __future__ import annotations

import pytest
from dtmf_cases import ACCEPTS

from toneflow.dtmf.dialects import DIGIT_DIALECTS, alphabet
from toneflow.dtmf.errors import DtmfError
from toneflow.dtmf.parsing import DEFAULT_MAX_DIGITS, parse
from toneflow.dtmf.spelling import render
from toneflow.dtmf.timeline import timeline
from toneflow.dtmf.tokens import Key


def test_constants_name_every_dialect_and_the_default_limit():
    assert set(DIGIT_DIALECTS) == set(ACCEPTS)
    assert DEFAULT_MAX_DIGITS == 128


@pytest.mark.parametrize(
    ("dialect", "expected"),
    [
        ("minivoice", "0-9 * # A-D w W ,"),
        ("ozml", "0-9 * #"),
        ("vicidial", "0-9 P S Q"),
        ("vobiz", "0-9 * # w W"),
        ("genesys", "0-9"),
        ("twilio", "0-9 * # A-D w W"),
        ("asterisk", "0-9 * # A-D w W"),
    ],
)
def test_alphabet_is_written_compactly(dialect, expected):
    assert alphabet(dialect) == expected


def test_unknown_dialect_is_a_value_error_listing_the_known_ones():
    for call in (
        lambda: parse("1", "klingon"),
        lambda: render((Key("1", 1),), "klingon"),
        lambda: alphabet("klingon"),
        lambda: timeline((Key("1", 1),), dialect="klingon"),
    ):
        with pytest.raises(ValueError, match="klingon") as caught:
            call()
        assert not isinstance(caught.value, DtmfError)
        assert all(name in str(caught.value) for name in DIGIT_DIALECTS)
