"""Phone number masking: the last four digits stay, nothing else of the number does."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from toneflow.redact import mask_call_numbers, mask_number, mask_record


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("+15551230001", "+*******0001"),
        ("+44 20 7946 0958", "+** ** **** 0958"),
        ("1234", "1234"),
        ("123", "123"),
        ("", ""),
        ("anonymous", "anonymous"),
        ("<script>alert(1)</script>", "<script>alert(1)</script>"),
        (None, None),
    ],
)
def test_mask_number(number, masked):
    assert mask_number(number) == masked


@given(st.text())
def test_masking_keeps_at_most_four_digits_and_is_idempotent(text):
    masked = mask_number(text)
    assert len(masked) == len(text)
    assert sum(ch.isdigit() for ch in masked) == min(4, sum(ch.isdigit() for ch in text))
    assert mask_number(masked) == masked


def test_only_call_from_and_to_are_masked_and_the_input_is_not_changed():
    body = {"call": {"id": "12345678", "from": "+15551230001"}, "variables": {"x": "5551230"}}
    assert mask_call_numbers(body) == {
        "call": {"id": "12345678", "from": "+*******0001"},
        "variables": {"x": "5551230"},
    }
    assert body["call"]["from"] == "+15551230001"
    assert mask_call_numbers({"call": "not an object"}) == {"call": "not an object"}


def test_mask_record_covers_the_summary_requests_and_event_bodies():
    record = {
        "from": "+15551230001",
        "to": None,
        "answers": [{"request": {"call": {"to": "+15551230002"}}}],
        "events": [{"body": {"call": {"from": "+15551230003"}}}],
    }
    assert mask_record(record) == {
        "from": "+*******0001",
        "to": None,
        "answers": [{"request": {"call": {"to": "+*******0002"}}}],
        "events": [{"body": {"call": {"from": "+*******0003"}}}],
    }
