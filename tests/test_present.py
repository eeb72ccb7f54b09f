"""The record in words: outcome sentences, pretty bodies, one timeline in time order."""

from __future__ import annotations

import pytest

from toneflow.present import (
    OUTCOME_WORDS,
    clock,
    decision_words,
    delta,
    outcome_words,
    pretty,
    timeline,
)
from toneflow.store import OUTCOME_KINDS


def test_every_outcome_kind_has_words():
    assert set(OUTCOME_WORDS) == set(OUTCOME_KINDS)


@pytest.mark.parametrize(
    ("outcome", "words"),
    [
        ({"kind": "finished", "step": "done", "reason": None}, "Finished at step done."),
        (
            {"kind": "fell_back", "step": "connect", "reason": "undefined variable: code"},
            "Fell back at step connect: undefined variable: code",
        ),
        (
            {"kind": "fell_back", "step": "connect", "reason": None},
            "Fell back at step connect: no reason recorded",
        ),
        (
            {"kind": "never_answered", "step": None, "reason": None},
            "Never answered: no step was served; only events or pushes were recorded.",
        ),
    ],
)
def test_outcome_words(outcome, words):
    assert outcome_words(outcome) == words


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a":[1]}', '{\n  "a": [\n    1\n  ]\n}'),
        ("<R><S>hi &amp; bye</S></R>", "<R>\n  <S>hi &amp; bye</S>\n</R>"),
        ("{broken", "{broken"),
        ("<broken", "<broken"),
        ("plain", "plain"),
    ],
)
def test_pretty(text, expected):
    assert pretty(text) == expected


def answer(at: str, step: str) -> dict:
    return {"at": at, "step": step, "body": "{}", "request": {}, "fallback_from": None,
            "status": 200}  # fmt: skip


def event(received_at: str, created_at: str, name: str) -> dict:
    return {"received_at": received_at, "created_at": created_at, "body": {}, "event": name}


def test_the_timeline_orders_answers_and_events_by_instant():
    record = {
        "answers": [answer("2026-05-29T12:00:00.5Z", "a"), answer("2026-05-29T12:00:02Z", "b")],
        "events": [event("2026-05-29T12:00:00.1Z", "2026-05-29T12:00:00Z", "ringing"),
                   event("2026-05-29T12:00:01Z", "2026-05-29T12:00:01Z", "answered")],
    }  # fmt: skip
    assert [e.get("step") or e.get("event") for e in timeline(record)] == [
        "ringing", "a", "answered", "b",
    ]  # fmt: skip


def test_an_event_is_placed_when_it_was_received_not_at_its_whole_second_created_at():
    """The issue's case: call.completed created_at 12:00:00 (whole seconds), received after
    the answers served at 12:00:00.2 and .7 that it ended."""
    record = {
        "answers": [answer("2026-05-29T12:00:00.2Z", "menu"),
                    answer("2026-05-29T12:00:00.7Z", "bye")],
        "events": [event("2026-05-29T12:00:00.9Z", "2026-05-29T12:00:00Z", "call.completed")],
    }  # fmt: skip
    entries = timeline(record)
    assert [e.get("step") or e.get("event") for e in entries] == ["menu", "bye", "call.completed"]
    assert [e["delta_ms"] for e in entries] == [None, 500.0, 200.0]


def waiting(at: str, step: str, waits_ms: int) -> dict:
    decision = {"steps": [step], "switches": [], "awaits_digits_ms": waits_ms}
    return {**answer(at, step), "decision": decision}


@pytest.mark.parametrize(
    ("next_at", "silence"),
    [
        ("2026-05-29T12:00:06Z", None),  # within the 5 s timeout
        ("2026-05-29T12:00:07Z", None),  # within the margin
        ("2026-05-29T12:00:10.2Z", 10.2),
    ],
)
def test_no_answer_is_marked_after_a_collect_timeout_and_its_margin(next_at, silence):
    record = {
        "answers": [waiting("2026-05-29T12:00:00Z", "menu", 5000), answer(next_at, "route")],
        "events": [],
    }
    assert timeline(record)[0]["silence_s"] == silence


def test_no_answer_after_a_collect_is_timed_to_the_call_ending_when_no_request_came():
    record = {
        "answers": [waiting("2026-05-29T12:00:00Z", "menu", 5000)],
        "events": [event("2026-05-29T12:00:30Z", "2026-05-29T12:00:30Z", "call.completed")],
    }
    assert timeline(record)[0]["silence_s"] == 30.0


def test_switch_decisions_in_words():
    hops = [
        {"step": "route", "value": "5", "case": None, "to": "goodbye"},
        {"step": "route", "value": "1", "case": "1", "to": "sales"},
        {"step": "route", "value": "", "case": None, "to": "goodbye"},
    ]
    assert decision_words({"steps": [], "switches": hops}) == [
        "route: value '5' matched no case, went to default → goodbye",
        "route: value '1' matched case '1' → sales",
        "route: an empty value matched no case, went to default → goodbye",
    ]
    assert decision_words(None) == []


def test_times_to_the_millisecond():
    assert clock("2026-05-29T12:10:00.123456Z") == "2026-05-29 12:10:00.123 UTC"
    assert clock(None) == "-"
    assert delta(412.3) == "+0.412 s"
