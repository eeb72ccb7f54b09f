"""Hostile input to ``toneflow calls verify``: bodies it cannot read, names it must escape."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from toneflow.dtmf.heard import UnreadableBody, compare, served_sends

ANSWER = {"dialect": "minivoice", "step": "s", "status": 200}


@pytest.mark.parametrize(
    ("dialect", "body"),
    [
        ("minivoice", "not json"),
        ("minivoice", '{"actions":[{"send_digits":{"digits":"12x"}}]}'),
        ("minivoice", '{"actions":[{"send_digits":{}}]}'),
        ("minivoice", '{"actions":[{"send_digits":{"digits":"1","pause_before_ms":"x"}}]}'),
        ("ozml", "<Response><Delay>soon</Delay><SendDTMF Keys='1'/></Response>"),
        ("ozml", "<Response><SendDTMF Keys='1A'/></Response>"),
        ("ozml", "<Response"),
    ],
)
def test_a_body_whose_digits_cannot_be_read_is_named_not_a_traceback(dialect, body):
    with pytest.raises(UnreadableBody, match=r"^answer 1 \(step s\): its digits cannot be read"):
        served_sends([{**ANSWER, "dialect": dialect, "body": body}])


def test_bodies_without_digits_serve_nothing():
    for body in ('{"actions":[{"speak":{"text":"hi"}}]}', "[]", '{"x":1}'):
        assert served_sends([{**ANSWER, "body": body}]) == []


HEARD = st.lists(
    st.tuples(st.sampled_from("0123456789*#ABCD"), st.integers(0, 10**7), st.integers(0, 10**7)),
    max_size=12,
)


@given(digits=st.text("0123456789*#w", min_size=1, max_size=20).filter(lambda t: t[0] != "w"),
       heard=HEARD)  # fmt: skip
def test_any_heard_keys_get_a_verdict_in_words(digits, heard):
    body = json.dumps({"actions": [{"send_digits": {"digits": digits}}]})
    sends = served_sends([{**ANSWER, "body": body}])
    result = compare(sends, heard)
    assert result.summary.startswith(f"served {result.served}; heard ")
    assert result.matched == (result.difference is None)
    if result.matched:
        assert result.heard == result.served
