"""The far-end IVR simulator: each key's fate, the seed's failure and its fix, properties."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from toneflow.dtmf.farend import (
    DISCARDED,
    FIRST_KEY_TIMEOUT,
    INTER_KEY_TIMEOUT,
    LANDED,
    LOST,
    Arrival,
    Prompt,
    account,
    arrivals,
    explain,
    first_miss,
    seconds,
    simulate,
)
from toneflow.dtmf.parsing import parse
from toneflow.dtmf.wire import WireTiming, wire_plan

SEED = "QQQQ1234SQQQQQ6654P"
BRIDGE = (
    Prompt("greeting", 4500, discards=True, keys=0),
    Prompt("pin", 2000, terminator="*"),
    Prompt("host code", 3000, discards=True),
)


def hear(text: str, dialect: str = "vicidial", prompts=BRIDGE, **plan):
    return simulate(prompts, arrivals([wire_plan(parse(text, dialect), dialect, **plan)]))


def test_the_vicidial_seed_loses_its_pin_to_a_greeting_that_discards_input():
    hearing = hear(SEED)
    assert hearing.received == "4*6654#"
    assert hearing.inputs == {"pin": "4", "host code": "6654"}
    miss = first_miss(hearing)
    assert explain(miss, hearing) == (
        "key 1 at 4.0 s arrived during 'greeting' (0\u20134.5 s), which discards input: "
        "wait at least 4.5 s"
    )
    assert account(hearing)[0] == (
        "key 1 at 4.0 s (send 1, position 5): discarded during 'greeting' (0\u20134.5 s)"
    )


def test_one_more_second_of_pause_fixes_it():
    hearing = hear("Q" + SEED)
    assert hearing.received == "1234*6654#"
    assert hearing.inputs == {"pin": "1234", "host code": "6654"}
    assert first_miss(hearing) is None


def test_the_wait_counts_the_silence_before_the_key_not_just_the_overlap():
    # 6 comes 5.1 s after * (gap + 5 s); the host-code prompt discards until 4.8 + 6 s.
    prompts = (*BRIDGE[:2], Prompt("host code", 6000, discards=True))
    hearing = hear("Q" + SEED, prompts=prompts)
    miss = first_miss(hearing)
    assert miss.arrival.key == "6" and miss.prompt == "host code"
    assert explain(miss, hearing).endswith(
        "(5.8\u201311.8 s), which discards input: wait at least 5.9 s"
    )


def test_a_key_during_a_prompt_that_takes_keys_cuts_it_short_and_counts():
    hearing = hear("1234#", "minivoice", prompts=(Prompt("menu", 3000),), pause_before_ms=1000)
    assert hearing.received == "1234#"
    [entry] = hearing.entries
    assert (entry.played_until_ms, entry.keys, entry.ended_by) == (1000, "1234", "terminator")


def test_an_inter_key_timeout_ends_the_entry_and_later_keys_are_lost():
    prompts = (Prompt("code", 0, inter_key_timeout_ms=1500, terminator=None),)
    hearing = hear("12WW3", "minivoice", prompts=prompts)
    assert hearing.received == "12"
    assert hearing.entries[0].ended_by == INTER_KEY_TIMEOUT
    assert hearing.entries[0].ended_ms == 200 + 1500
    miss = first_miss(hearing)
    assert miss.kind == LOST
    assert explain(miss, hearing) == (
        "key 3 at 2.4 s was lost: the far end stopped listening at 1.7 s "
        "('code' ended by its inter-key timeout)"
    )


def test_a_first_key_timeout_moves_on_to_the_next_prompt():
    prompts = (Prompt("pin", 1000, first_key_timeout_ms=2000), Prompt("retry", 1000))
    hearing = hear("1#", "minivoice", prompts=prompts, pause_before_ms=3500)
    assert hearing.entries[0].ended_by == FIRST_KEY_TIMEOUT
    assert hearing.inputs == {"pin": "", "retry": "1"}


def test_keys_ends_the_entry_at_the_last_key_it_takes():
    prompts = (Prompt("one", 0, keys=1), Prompt("two", 0, keys=2))
    assert hear("123", "minivoice", prompts=prompts).inputs == {"one": "1", "two": "23"}


def test_sends_are_laid_end_to_end():
    plans = [
        wire_plan(parse("1", "minivoice"), pause_before_ms=500),
        wire_plan(parse("2", "minivoice")),
    ]
    got = arrivals(plans)
    assert [(a.key, a.at_ms, a.send, a.silence_before_ms) for a in got] == [
        ("1", 500, 1, 500),
        ("2", 600, 2, 0),
    ]


def test_seconds_reads_as_people_write_it():
    assert [seconds(ms) for ms in (0, 4000, 4500, 4550, 12345)] == [
        "0.0 s",
        "4.0 s",
        "4.5 s",
        "4.55 s",
        "12.345 s",
    ]


# --- properties ------------------------------------------------------------------------------

prompt = st.builds(
    Prompt,
    name=st.uuids().map(str),
    ms=st.integers(0, 6000),
    discards=st.booleans(),
    keys=st.none() | st.integers(0, 5),
    terminator=st.none() | st.sampled_from("#*"),
    first_key_timeout_ms=st.integers(0, 6000),
    inter_key_timeout_ms=st.integers(0, 6000),
)
sequence = st.text(alphabet="0123456789*#wW", min_size=1, max_size=20).filter(
    lambda t: any(c not in "wW" for c in t)
)


@given(
    st.lists(prompt, min_size=1, max_size=4),
    sequence,
    st.integers(0, 8000),
    st.integers(40, 300),
    st.integers(0, 300),
)
def test_every_key_has_one_fate_and_none_lands_while_a_discarding_prompt_plays(
    prompts, text, pause, tone, gap
):
    plan = wire_plan(parse(text, "minivoice"), timing=WireTiming(tone, gap), pause_before_ms=pause)
    sent = arrivals([plan])
    hearing = simulate(prompts, sent)
    kinds = [f.kind for f in hearing.fates]
    assert [f.arrival for f in hearing.fates] == list(sent)
    assert kinds.count(LANDED) + kinds.count(DISCARDED) + kinds.count(LOST) == len(sent)
    assert len(hearing.received) == kinds.count(LANDED)
    by_name = {p.name: p for p in prompts}
    entries = {e.prompt: e for e in hearing.entries}
    for fate in hearing.fates:
        if fate.kind == LANDED and by_name[fate.prompt].drops_keys:
            assert fate.arrival.at_ms >= entries[fate.prompt].played_until_ms
            assert (
                entries[fate.prompt].played_until_ms
                == entries[fate.prompt].start_ms + by_name[fate.prompt].ms
            )
    # Once a key is lost, every later one is too: the far end does not start listening again.
    assert kinds == sorted(kinds, key=lambda k: k == LOST)
    for fate in hearing.fates:
        if fate.kind == DISCARDED:
            assert by_name[fate.prompt].drops_keys
            assert "wait at least" in explain(fate, hearing)


@given(st.lists(st.integers(0, 20000), min_size=1, max_size=15))
def test_a_far_end_that_takes_everything_receives_everything(times):
    sent = [Arrival("1", t, 0, 1, i) for i, t in enumerate(sorted(times), 1)]
    hearing = simulate(
        [Prompt("all", 0, terminator=None, first_key_timeout_ms=20001, inter_key_timeout_ms=20001)],
        sent,
    )
    assert hearing.received == "1" * len(sent)
