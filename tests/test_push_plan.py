"""Planning a push (pure): a step's digits rendered and laid out as each platform takes
them, or refused naming the character and its position before anything is sent."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support import PROJECT_FLOWS

from toneflow.dtmf.errors import DtmfError
from toneflow.dtmf.parsing import parse
from toneflow.dtmf.runs import Run, runs
from toneflow.dtmf.tokens import Key, Pause, merge_pauses
from toneflow.dtmf.wire import WireTiming, wire_plan
from toneflow.flows.compile import compile_file
from toneflow.push.plan import PlanError, UnknownStep, plan_push

PUSH_FLOWS = Path(__file__).parent / "data" / "push_flows"
TIMING = WireTiming()


def flow(path: Path):
    compiled, problems = compile_file(path, max_digits=128)
    assert compiled is not None, problems
    return compiled


CONFERENCE = flow(PROJECT_FLOWS / "conference_pin.yaml")
PUSHES = flow(PUSH_FLOWS / "pushes.yaml")


def texts(plan) -> list[list[Run]]:
    return [list(planned.runs) for planned in plan.sends]


def test_the_vicidial_seed_encoding_for_the_conference_pin_join_step():
    plan = plan_push(CONFERENCE, "join", "vicidial", {})
    assert texts(plan) == [[Run("QQQQ1234SQQQQQ6654P", 0)]]
    assert plan.sends[0].send.digits == "1234*WWWWW6654#"
    assert plan.flow_version == CONFERENCE.version


def test_the_vobiz_seed_encodings():
    assert texts(plan_push(PUSHES, "plain", "vobiz", {})) == [[Run("1234#")]]
    assert texts(plan_push(PUSHES, "paused", "vobiz", {})) == [[Run("1w2W3")]]
    # MiniVoice's ',' is 500 ms: Vobiz spells it w
    assert texts(plan_push(PUSHES, "split", "vobiz", {})) == [[Run("1W2")]]


def test_genesys_sends_each_run_as_its_own_request_and_waits_out_the_pauses():
    plan = plan_push(PUSHES, "split", "genesys", {})
    # 1 sounds at 0-100, the gap to 200, 1000 ms of pause: 2 sounds at 1200
    assert texts(plan) == [[Run("1", 0), Run("2", 1200)]]
    paused = plan_push(PUSHES, "paused", "genesys", {})
    assert texts(paused) == [[Run("1", 0), Run("2", 700), Run("3", 1200)]]


def test_genesys_waits_out_pause_before_ms_too():
    plan = plan_push(PUSHES, "two_sends", "genesys", {"account": "4321"})
    assert [p.send.action for p in plan.sends] == [2, 3]
    assert texts(plan) == [[Run("4321", 500)], [Run("9", 0), Run("9", 1200)]]


def test_genesys_refuses_the_conference_step_naming_the_star_and_its_position():
    with pytest.raises(PlanError) as caught:
        plan_push(CONFERENCE, "join", "genesys", {})
    assert str(caught.value) == (
        "action 1 (digits '1234*WWWWW6654#'): cannot send key '*' at position 5 in genesys "
        "(genesys allows 0-9)"
    )


@pytest.mark.parametrize(("platform", "char", "position"), [("genesys", "A", 3), ("vobiz", "A", 3)])
def test_keys_a_platform_lacks_are_refused(platform, char, position):
    with pytest.raises(PlanError, match=f"cannot send key '{char}' at position {position}"):
        plan_push(PUSHES, "stars", platform, {})


def test_vicidial_cannot_write_half_a_second_unless_rounding_up():
    with pytest.raises(PlanError) as caught:
        plan_push(PUSHES, "half_second", "vicidial", {})
    assert "cannot write the 500 ms pause 'w' at position 2 exactly in vicidial" in str(
        caught.value
    )
    assert "rounding up would make it 1000 ms" in str(caught.value)
    rounded = plan_push(PUSHES, "half_second", "vicidial", {}, round_up=True)
    assert texts(rounded) == [[Run("1Q2")]]
    assert rounded.round_up


def test_pause_before_ms_is_a_leading_pause_in_the_platforms_spelling():
    plan = plan_push(PUSHES, "two_sends", "vobiz", {"account": "4321"})
    assert texts(plan) == [[Run("w4321")], [Run("9W9")]]


def test_a_missing_variable_names_it():
    with pytest.raises(PlanError) as caught:
        plan_push(PUSHES, "two_sends", "vobiz", {})
    assert str(caught.value) == "action 2: `variables.account` is not set for this call"
    assert caught.value.missing == ("variables", "account")


def test_rendered_digits_are_validated_like_literal_ones():
    with pytest.raises(PlanError, match="invalid DTMF character 'x' at position 2"):
        plan_push(PUSHES, "two_sends", "vobiz", {"account": "1x"})


def test_a_step_without_digits_and_an_unknown_step():
    with pytest.raises(PlanError, match="step 'quiet' of flow 'pushes' sends no digits"):
        plan_push(PUSHES, "quiet", "vicidial", {})
    with pytest.raises(UnknownStep, match="flow 'pushes' has no step named 'nope'"):
        plan_push(PUSHES, "nope", "vicidial", {})


def test_silence_alone_cannot_go_to_genesys():
    with pytest.raises(DtmfError, match="the send has no keys"):
        runs((Pause(1000, 1),), "genesys", timing=TIMING)


# --- hypothesis: every conversion is exact or refused at a character --------------

MINIVOICE = st.text(alphabet="0123456789*#ABCDwW,", min_size=1, max_size=40)


@given(MINIVOICE, st.sampled_from(["vicidial", "vobiz"]), st.booleans())
def test_a_platform_with_pauses_gets_one_text_that_sounds_the_same(text, dialect, round_up):
    seq = parse(text, "minivoice")
    try:
        laid_out = runs(seq, dialect, timing=TIMING, round_up=round_up, source=text)
    except DtmfError as err:
        assert err.position is not None and 1 <= err.position <= len(text)
        assert text[err.position - 1] == err.char
        return
    assert len(laid_out) == 1 and laid_out[0].wait_ms == 0
    back = parse(laid_out[0].text, dialect)
    keys = [t.key for t in seq if isinstance(t, Key)]
    assert [t.key for t in back if isinstance(t, Key)] == keys
    if not round_up:
        assert back == merge_pauses(seq)  # exact: the same keys and the same silences
    else:
        pairs = zip(_pauses(back), _pauses(seq), strict=True)
        assert all(sent >= asked for sent, asked in pairs)  # never shorter


@given(MINIVOICE, st.integers(0, 5000))
def test_genesys_runs_are_the_keys_and_their_waits_keep_the_wire_plan(text, pause_before):
    seq = (Pause(pause_before, None), *parse(text, "minivoice"))
    keys = [t for t in seq if isinstance(t, Key)]
    bad = [k for k in keys if k.key not in "0123456789"]
    try:
        laid_out = runs(seq, "genesys", timing=TIMING)
    except DtmfError as err:
        first = bad[0] if bad else None
        assert first is None or (err.position, err.char) == (first.position, first.key)
        assert bad or not keys
        return
    assert not bad
    assert "".join(run.text for run in laid_out) == "".join(k.key for k in keys)
    starts = [t.start_ms for t in wire_plan(seq, timing=TIMING).tones]
    # each run goes when its first key is due, counted from the previous run's first key
    firsts = []
    index = 0
    for run in laid_out:
        firsts.append(starts[index])
        index += len(run.text)
    assert [run.wait_ms for run in laid_out] == [
        first - previous for first, previous in zip(firsts, [0, *firsts], strict=False)
    ]


def _pauses(seq) -> list[int]:
    return [t.ms for t in seq if isinstance(t, Pause)]
