"""The record in words: outcome sentences, pretty bodies, one timeline in time order."""

from __future__ import annotations

import pytest

from toneflow.present import OUTCOME_WORDS, outcome_words, pretty, timeline
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
            "Never answered: events arrived, but no step was ever served.",
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


def test_the_timeline_orders_answers_and_events_by_instant():
    record = {
        "answers": [answer("2026-05-29T12:00:00.5Z", "a"), answer("2026-05-29T12:00:02Z", "b")],
        "events": [{"created_at": "2026-05-29T12:00:00Z", "body": {}, "event": "ringing"},
                   {"created_at": "2026-05-29T12:00:01Z", "body": {}, "event": "answered"}],
    }  # fmt: skip
    assert [e.get("step") or e.get("event") for e in timeline(record)] == [
        "ringing", "a", "answered", "b",
    ]  # fmt: skip
