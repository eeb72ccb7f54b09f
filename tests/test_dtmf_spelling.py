"""toneflow.dtmf.spelling: render and convert, exact or rounded up, never shorter."""

from __future__ import annotations

import pytest
from dtmf_cases import (
    PAUSE_STEP_MS,
    SENDS,
    TEXT_DIALECTS,
    WITH_PAUSES,
    dialect_and_text,
    expressible,
    keys_of,
    pauses_of,
)
from hypothesis import given
from hypothesis import strategies as st

from toneflow.dtmf.errors import DtmfError
from toneflow.dtmf.parsing import parse
from toneflow.dtmf.spelling import convert, render
from toneflow.dtmf.tokens import Key, Pause, merge_pauses


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


@given(st.sampled_from(TEXT_DIALECTS).flatmap(lambda d: st.tuples(st.just(d), expressible(d))))
def test_render_then_parse_gives_back_the_sequence(case):
    dialect, seq = case
    text = render(seq, dialect)
    assert parse(text, dialect) == seq
    assert parse(text, dialect) == merge_pauses(seq)


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


def test_ozml_has_no_text_spelling_and_says_where_its_xml_is_made():
    seq = parse("12", "minivoice")
    with pytest.raises(ValueError, match=r"toneflow\.render\.ozml\.dtmf_fragment") as caught:
        render(seq, "ozml")
    assert not isinstance(caught.value, DtmfError)  # a caller's mistake, not a digit rule
    with pytest.raises(ValueError, match="elements, not text"):
        convert("12", "minivoice", "ozml")
