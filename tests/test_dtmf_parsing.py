"""toneflow.dtmf.parsing: the seed examples, every dialect's characters, messages with positions."""

from __future__ import annotations

import itertools

import pytest
from dtmf_cases import ACCEPTS, TEXT_DIALECTS, dialect_and_text, keys_of, pauses_of, positions
from hypothesis import given
from hypothesis import strategies as st

from toneflow.dtmf.dialects import DIGIT_DIALECTS, alphabet
from toneflow.dtmf.errors import DtmfError
from toneflow.dtmf.parsing import DEFAULT_MAX_DIGITS, parse
from toneflow.dtmf.spelling import render
from toneflow.dtmf.tokens import Key, Pause, merge_pauses


def test_minivoice_seed_1234_pound():
    seq = parse("1234#", "minivoice")
    assert seq == tuple(Key(k, i) for i, k in enumerate("1234#", 1))
    assert positions(seq) == [1, 2, 3, 4, 5]
    assert render(seq, "minivoice") == "1234#"


def test_vicidial_seed_waits_four_seconds_then_1234_star_five_seconds_6654_pound():
    seq = parse("QQQQ1234SQQQQQ6654P", "vicidial")
    expected = (
        Pause(4000, 1),
        *(Key(k, 0) for k in "1234"),
        Key("*", 0),
        Pause(5000, 0),
        *(Key(k, 0) for k in "6654"),
        Key("#", 0),
    )
    assert seq == expected
    assert positions(seq) == [1, 5, 6, 7, 8, 9, 10, 15, 16, 17, 18, 19]
    assert render(seq, "vicidial") == "QQQQ1234SQQQQQ6654P"


def test_vicidial_seed_malformed_string_is_refused_at_the_bad_character():
    with pytest.raises(DtmfError) as caught:
        parse("QQ|", "vicidial")
    assert (caught.value.char, caught.value.position, caught.value.dialect) == ("|", 3, "vicidial")


@pytest.mark.parametrize("literal", ["#", "*"])
def test_vicidial_wants_p_and_s_not_the_literal_characters(literal):
    with pytest.raises(DtmfError) as caught:
        parse(f"12{literal}", "vicidial")
    assert caught.value.position == 3


def test_vobiz_seeds():
    assert parse("1w2W3", "vobiz") == (
        Key("1", 1),
        Pause(500, 2),
        Key("2", 3),
        Pause(1000, 4),
        Key("3", 5),
    )
    assert keys_of(parse("1234#", "vobiz")) == "1234#"
    assert render(parse("1w2W3", "vobiz"), "vobiz") == "1w2W3"


def test_genesys_seed_is_digits_only():
    assert parse("5", "genesys") == (Key("5", 1),)
    for bad in ("5#", "5w", "5*"):
        with pytest.raises(DtmfError) as caught:
            parse(bad, "genesys")
        assert caught.value.position == 2


def test_ozml_parse_takes_a_plain_keys_string_only():
    for bad, position in [("1w", 2), ("A1", 1), ("<Delay>", 1)]:
        with pytest.raises(DtmfError) as caught:
            parse(bad, "ozml")
        assert caught.value.position == position


@pytest.mark.parametrize("dialect", DIGIT_DIALECTS)
def test_every_documented_character_is_accepted(dialect):
    seq = parse(ACCEPTS[dialect], dialect)
    assert seq  # and no error


@given(
    dialect=st.sampled_from(DIGIT_DIALECTS),
    prefix=st.integers(min_value=0, max_value=10),
    bad=st.characters(codec="utf-8"),
)
def test_any_other_character_is_refused_naming_it_and_its_position(dialect, prefix, bad):
    if bad in ACCEPTS[dialect]:
        return
    text = "1" * prefix + bad + "2"
    with pytest.raises(DtmfError) as caught:
        parse(text, dialect)
    error = caught.value
    assert (error.char, error.position, error.dialect) == (bad, prefix + 1, dialect)
    assert f"at position {prefix + 1}" in str(error)
    assert alphabet(dialect) in str(error)


def test_invalid_character_message_reads_as_documented():
    with pytest.raises(DtmfError) as caught:
        parse("12X", "minivoice")
    assert str(caught.value) == (
        "invalid DTMF character 'X' at position 3 (minivoice allows 0-9 * # A-D w W ,)"
    )
    assert caught.value.message == str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_lower_case_a_to_d_are_not_keys():
    with pytest.raises(DtmfError) as caught:
        parse("1a", "minivoice")
    assert caught.value.position == 2


def test_empty_text_is_refused():
    with pytest.raises(DtmfError, match="empty"):
        parse("", "minivoice")


def test_max_length_counts_characters_and_names_the_limit_and_the_length():
    assert len(parse("1" * DEFAULT_MAX_DIGITS, "minivoice", max_length=DEFAULT_MAX_DIGITS)) == 128
    with pytest.raises(DtmfError) as caught:
        parse("1" * 129, "minivoice", max_length=DEFAULT_MAX_DIGITS)
    assert "129" in str(caught.value)
    assert "128" in str(caught.value)
    # pauses are characters too, though they merge into one token
    with pytest.raises(DtmfError):
        parse("1WWW", "minivoice", max_length=3)
    assert len(parse("1" * 1000, "minivoice")) == 1000  # no limit unless one is given


def test_minivoice_pause_characters_and_their_lengths():
    assert pauses_of(parse("1w2W3,4", "minivoice")) == [500, 1000, 500]
    seq = parse("1ww,W2", "minivoice")
    assert seq == (Key("1", 1), Pause(2500, 2), Key("2", 6))
    assert positions(seq) == [1, 2, 6]


@given(dialect_and_text(TEXT_DIALECTS))
def test_parsed_sequences_are_normalised(case):
    dialect, text = case
    seq = parse(text, dialect)
    assert merge_pauses(seq) == seq
    assert all(isinstance(a, Key) or isinstance(b, Key) for a, b in itertools.pairwise(seq))
    assert positions(seq) == sorted(positions(seq))
