"""The DTMF model: seed examples, each dialect's alphabet, OzML, timing, properties."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from toneflow import dtmf
from toneflow.dtmf import (
    DEFAULT_MAX_DIGITS,
    DIALECTS,
    DtmfError,
    Key,
    OzmlDelay,
    OzmlKeys,
    Pause,
    alphabet,
    convert,
    normalise,
    ozml_elements,
    ozml_segments,
    parse,
    render,
    rounding_notes,
    timeline,
    whole_seconds,
)

# What each dialect is documented to accept, written out here independently of the
# module's own table so a slip in that table fails a test.
ALL_KEYS = "0123456789*#ABCD"
ACCEPTS = {
    "minivoice": "0123456789*#ABCDwW,",
    "ozml": "0123456789*#",
    "vicidial": "0123456789PSQ",
    "vobiz": "0123456789*#wW",
    "genesys": "0123456789",
    "twilio": "0123456789*#ABCDwW",
    "asterisk": "0123456789*#ABCDwW",
}
SENDS = {  # keys each dialect can send
    "minivoice": ALL_KEYS,
    "ozml": "0123456789*#",
    "vicidial": "0123456789*#",
    "vobiz": "0123456789*#",
    "genesys": "0123456789",
    "twilio": ALL_KEYS,
    "asterisk": ALL_KEYS,
}
PAUSE_STEP_MS = {  # every pause length is a multiple of this; None: no pauses
    "minivoice": 500,
    "ozml": 1000,
    "vicidial": 1000,
    "vobiz": 500,
    "genesys": None,
    "twilio": 500,
    "asterisk": 500,
}
TEXT_DIALECTS = [d for d in ACCEPTS if d != "ozml"]
WITH_PAUSES = [d for d in TEXT_DIALECTS if PAUSE_STEP_MS[d]]


def keys_of(seq: tuple[dtmf.Token, ...]) -> str:
    return "".join(t.key for t in seq if isinstance(t, Key))


def pauses_of(seq: tuple[dtmf.Token, ...]) -> list[int]:
    return [t.ms for t in seq if isinstance(t, Pause)]


def positions(seq: tuple[dtmf.Token, ...]) -> list[int]:
    return [t.position for t in seq]


def fragment(xml_text: str) -> list[ET.Element]:
    return list(ET.fromstring(f"<Response>{xml_text}</Response>"))


# --- the module's constants -----------------------------------------------------------


def test_constants_name_every_dialect_and_the_default_limit():
    assert set(DIALECTS) == set(ACCEPTS)
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


# --- tokens -----------------------------------------------------------------------------


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


def test_normalise_merges_adjacent_pauses_keeping_the_first_position_and_drops_empty_ones():
    seq = normalise([Pause(0, 1), Key("1", 2), Pause(500, 3), Pause(1000, 4), Key("2", 5)])
    assert seq == (Key("1", 2), Pause(1500, 3), Key("2", 5))
    assert positions(seq) == [2, 3, 5]


# --- the seeds --------------------------------------------------------------------------


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


@pytest.mark.parametrize("keys", ["123", "321", "01234"])
def test_ozml_seed_keys_parse_and_render_as_send_dtmf(keys):
    seq = parse(keys, "ozml")
    assert keys_of(seq) == keys
    (element,) = fragment(render(seq, "ozml"))
    assert element.tag == "SendDTMF"
    assert element.attrib == {"Party": "callee", "Keys": keys}


def test_ozml_seed_element_for_the_caller():
    (element,) = ozml_elements(ozml_segments(parse("123", "ozml")), "caller")
    assert ET.tostring(element, encoding="unicode") == '<SendDTMF Party="caller" Keys="123" />'


def test_ozml_parse_takes_a_plain_keys_string_only():
    for bad, position in [("1w", 2), ("A1", 1), ("<Delay>", 1)]:
        with pytest.raises(DtmfError) as caught:
            parse(bad, "ozml")
        assert caught.value.position == position


# --- parse ------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_documented_character_is_accepted(dialect):
    seq = parse(ACCEPTS[dialect], dialect)
    assert seq  # and no error


@given(
    dialect=st.sampled_from(DIALECTS),
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
        assert all(name in str(caught.value) for name in DIALECTS)


def test_minivoice_pause_characters_and_their_lengths():
    assert pauses_of(parse("1w2W3,4", "minivoice")) == [500, 1000, 500]
    seq = parse("1ww,W2", "minivoice")
    assert seq == (Key("1", 1), Pause(2500, 2), Key("2", 6))
    assert positions(seq) == [1, 2, 6]


# --- render and convert -----------------------------------------------------------------


def test_readme_conversion_vicidial_to_minivoice():
    assert convert("QQQQ1234SQQQQQ6654P", "vicidial", "minivoice") == "WWWW1234*WWWWW6654#"


def test_conversion_to_vicidial_spells_pound_star_and_silence():
    assert convert("W*1#", "vobiz", "vicidial") == "QS1P"


@pytest.mark.parametrize(
    ("ms", "spelling"), [(500, "w"), (1000, "W"), (1500, "Ww"), (2000, "WW"), (4500, "WWWWw")]
)
def test_pauses_take_the_shortest_spelling(ms, spelling):
    assert render((Key("1", 1), Pause(ms, 2), Key("2", 3)), "minivoice") == f"1{spelling}2"
    assert convert(f"1{',' * (ms // 500)}2", "minivoice", "minivoice") == f"1{spelling}2"


def test_a_key_the_target_lacks_fails_at_its_source_position():
    with pytest.raises(DtmfError) as caught:
        convert("12wA", "minivoice", "vobiz")
    assert (caught.value.char, caught.value.position, caught.value.dialect) == ("A", 4, "vobiz")
    with pytest.raises(DtmfError) as caught:
        render(parse("1S1P", "vicidial"), "genesys")
    assert (caught.value.char, caught.value.position) == ("*", 2)  # the first one
    with pytest.raises(DtmfError) as caught:
        convert("QQ1P", "vicidial", "genesys", round_up=True)
    assert (caught.value.char, caught.value.position) == ("Q", 1)
    with pytest.raises(DtmfError) as caught:
        convert("1P", "vicidial", "genesys")
    assert (caught.value.char, caught.value.position) == ("P", 2)  # as the author wrote it


def test_an_inexact_pause_fails_at_its_source_position_unless_rounding_up():
    with pytest.raises(DtmfError) as caught:
        convert("12w3", "minivoice", "vicidial")
    assert (caught.value.char, caught.value.position) == ("w", 3)
    assert "1000 ms" in str(caught.value)  # says what rounding up would give
    assert convert("12w3", "minivoice", "vicidial", round_up=True) == "12Q3"
    assert convert("1Ww2", "minivoice", "vicidial", round_up=True) == "1QQ2"


def test_render_of_a_700_ms_pause():
    seq = (Key("1", 1), Pause(700, 2), Key("2", 3))
    with pytest.raises(DtmfError) as caught:
        render(seq, "vicidial")
    assert caught.value.position == 2
    assert render(seq, "vicidial", round_up=True) == "1Q2"
    assert render(seq, "minivoice", round_up=True) == "1W2"  # 1000, the next multiple of 500


def test_genesys_fails_on_any_pause_even_when_rounding_up():
    for round_up in (False, True):
        with pytest.raises(DtmfError) as caught:
            convert("1w2", "minivoice", "genesys", round_up=round_up)
        assert (caught.value.char, caught.value.position) == ("w", 2)
        assert "no pauses" in str(caught.value)


def test_render_normalises_what_it_is_given_and_refuses_nothing_to_send():
    assert render([Key("1", 1), Pause(500, 2), Pause(500, 3), Key("2", 4)], "vobiz") == "1W2"
    with pytest.raises(DtmfError, match="empty"):
        render([], "minivoice")
    with pytest.raises(DtmfError, match="empty"):
        render([Pause(0, 1)], "minivoice")


def test_render_to_ozml_is_an_xml_fragment_and_exact_unless_rounding_up():
    elements = fragment(render(parse("QQ12Q3", "vicidial"), "ozml"))
    assert [(e.tag, e.text, e.get("Keys")) for e in elements] == [
        ("Delay", "2", None),
        ("SendDTMF", None, "12"),
        ("Delay", "1", None),
        ("SendDTMF", None, "3"),
    ]
    with pytest.raises(DtmfError) as caught:
        convert("1w2", "minivoice", "ozml")
    assert caught.value.position == 2
    with pytest.raises(DtmfError) as caught:
        convert("1wA", "minivoice", "ozml")
    assert (caught.value.char, caught.value.position) == ("w", 2)  # the first problem
    with pytest.raises(DtmfError) as caught:
        convert("1wA", "minivoice", "ozml", round_up=True)
    assert (caught.value.char, caught.value.position) == ("A", 3)
    elements = fragment(convert("1w2", "minivoice", "ozml", round_up=True))
    assert [e.text for e in elements if e.tag == "Delay"] == ["1"]


# --- OzML segments ------------------------------------------------------------------------


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


def test_ozml_elements_are_built_with_elementtree_and_escape_values():
    elements = ozml_elements([OzmlDelay(3, 2100, 1), OzmlKeys("12#", 2)], "all")
    assert [ET.tostring(e, encoding="unicode") for e in elements] == [
        "<Delay>3</Delay>",
        '<SendDTMF Party="all" Keys="12#" />',
    ]
    # whatever reaches Keys is escaped by the library, never pasted in
    (element,) = ozml_elements([OzmlKeys('"/><x', 1)], "callee")
    assert ET.fromstring(ET.tostring(element)).get("Keys") == '"/><x'


def test_ozml_elements_refuse_an_unknown_party():
    with pytest.raises(ValueError, match="party"):
        ozml_elements([OzmlKeys("1", 1)], "everyone")


def test_rounding_notes_say_what_ozml_lengthens():
    notes = rounding_notes(parse("12w3W4", "minivoice"))
    assert [str(n) for n in notes] == ["a 500 ms pause at position 3 becomes 1 s in OzML"]
    notes = rounding_notes(parse("w1", "minivoice"), pause_before_ms=700)
    assert [(n.exact_ms, n.seconds, n.position) for n in notes] == [(1200, 2, 1)]
    assert "pause_before_ms" in str(notes[0])
    assert rounding_notes(parse("1", "minivoice"), pause_before_ms=2000) == []
    # A-D are lint's business elsewhere; they do not stop the notes
    assert len(rounding_notes(parse("Aw1", "minivoice"))) == 1


# --- timeline ------------------------------------------------------------------------------


def spans(result: dtmf.Timeline) -> list[tuple[str, int, int]]:
    return [(t.key, t.start_ms, t.end_ms) for t in result.tones]


def codes(result: dtmf.Timeline) -> list[tuple[str, int | None]]:
    return [(w.code, w.position) for w in result.warnings]


def test_keys_sound_for_the_tone_and_are_separated_by_the_gap():
    result = timeline(parse("12", "minivoice"), pause_before_ms=1000)
    assert spans(result) == [("1", 1000, 1100), ("2", 1200, 1300)]
    assert result.total_ms == 1300
    result = timeline(parse("12", "minivoice"), tone_ms=50, gap_ms=20, pause_before_ms=1000)
    assert spans(result) == [("1", 1000, 1050), ("2", 1070, 1120)]


def test_a_pause_replaces_the_gap_where_it_stands():
    result = timeline(parse("1w2W", "minivoice"), pause_before_ms=500)
    assert spans(result) == [("1", 500, 600), ("2", 1100, 1200)]
    assert result.total_ms == 2200  # the trailing pause is part of the send
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


# --- properties ------------------------------------------------------------------------------


@st.composite
def expressible(draw, dialect: str) -> tuple[dtmf.Token, ...]:
    """A non-empty normalised sequence that ``dialect`` can write exactly."""
    step = PAUSE_STEP_MS[dialect]
    key = st.sampled_from(SENDS[dialect]).map(lambda k: Key(k, 0))
    token = key
    if step:
        token = key | st.integers(min_value=1, max_value=40).map(lambda n: Pause(n * step, 0))
    seq = normalise(draw(st.lists(token, min_size=1, max_size=30)))
    return seq


@st.composite
def dialect_and_text(draw, dialects: list[str]) -> tuple[str, str]:
    dialect = draw(st.sampled_from(dialects))
    text = draw(st.text(alphabet=ACCEPTS[dialect], min_size=1, max_size=40))
    return dialect, text


@given(st.sampled_from(TEXT_DIALECTS).flatmap(lambda d: st.tuples(st.just(d), expressible(d))))
def test_render_then_parse_gives_back_the_sequence(case):
    dialect, seq = case
    text = render(seq, dialect)
    assert parse(text, dialect) == seq
    assert parse(text, dialect) == normalise(seq)


@given(dialect_and_text(TEXT_DIALECTS))
def test_parsed_sequences_are_normalised(case):
    dialect, text = case
    seq = parse(text, dialect)
    assert normalise(seq) == seq
    assert all(isinstance(a, Key) or isinstance(b, Key) for a, b in itertools.pairwise(seq))
    assert positions(seq) == sorted(positions(seq))


@given(dialect_and_text(TEXT_DIALECTS), st.sampled_from(TEXT_DIALECTS))
def test_converting_never_shortens_silence_and_fails_only_for_a_real_reason(case, target):
    source, text = case
    seq = parse(text, source)
    try:
        out = convert(text, source, target, round_up=True)
    except DtmfError as error:
        token = next(t for t in seq if t.position == error.position)
        if isinstance(token, Key):
            assert token.key not in SENDS[target]
        else:
            assert PAUSE_STEP_MS[target] is None
        return
    converted = parse(out, target)
    assert keys_of(converted) == keys_of(seq)
    assert len(pauses_of(converted)) == len(pauses_of(seq))
    for before, after in zip(pauses_of(seq), pauses_of(converted), strict=True):
        assert before <= after < before + PAUSE_STEP_MS[target]
    assert sum(pauses_of(converted)) >= sum(pauses_of(seq))


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


@given(st.sampled_from(WITH_PAUSES), st.integers(min_value=1, max_value=200_000))
def test_rounding_up_is_minimal_and_exact_lengths_are_kept(dialect, ms):
    step = PAUSE_STEP_MS[dialect]
    seq = (Key("1", 1), Pause(ms, 2), Key("2", 3))
    (rounded,) = pauses_of(parse(render(seq, dialect, round_up=True), dialect))
    # no expressible length (a multiple of the step) lies in [ms, rounded)
    assert rounded >= ms
    assert rounded % step == 0
    assert rounded - ms < step
    if ms % step == 0:
        assert render(seq, dialect) == render(seq, dialect, round_up=True)
    else:
        with pytest.raises(DtmfError) as caught:
            render(seq, dialect)
        assert caught.value.position == 2


@given(st.integers(min_value=1, max_value=400).map(lambda n: n * 500))
def test_pause_spelling_uses_the_fewest_characters(ms):
    text = render((Pause(ms, 1),), "minivoice")
    assert len(text) == ms // 1000 + ms % 1000 // 500
    assert set(text) <= {"w", "W"}


@given(
    dialect_and_text(["minivoice"]), st.integers(0, 5000), st.integers(1, 500), st.integers(0, 500)
)
def test_timeline_total_is_tones_gaps_and_pauses(case, pause_before_ms, tone_ms, gap_ms):
    _, text = case
    seq = parse(text, "minivoice")
    result = timeline(seq, tone_ms=tone_ms, gap_ms=gap_ms, pause_before_ms=pause_before_ms)
    adjacent_keys = sum(
        isinstance(a, Key) and isinstance(b, Key) for a, b in itertools.pairwise(seq)
    )
    keys = len(keys_of(seq))
    assert result.total_ms == (
        pause_before_ms + sum(pauses_of(seq)) + keys * tone_ms + adjacent_keys * gap_ms
    )
    assert len(result.tones) == keys
    starts = [t.start_ms for t in result.tones]
    assert starts == sorted(starts)
    assert all(t.end_ms - t.start_ms == tone_ms for t in result.tones)
