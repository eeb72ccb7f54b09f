"""A call record for people: the outcome in words, one timeline, bodies pretty-printed.

The support page and ``toneflow calls show`` both say what became of a call the same
way, so this is the one place those words and that ordering live. Pure: no Flask, SQL
or terminal here.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Any

#: Outcome kind -> a sentence, with {step} and {reason} filled from the outcome.
OUTCOME_WORDS = {
    "finished": "Finished at step {step}.",
    "abandoned": "Abandoned at step {step}: the call ended while that step still led on.",
    "fell_back": "Fell back at step {step}: {reason}",
    "failed": "Failed at step {step}, with no fallback; the platform got a 500: {reason}",
    "in_progress": "In progress: last served step {step}, no call.completed yet.",
    "never_answered": "Never answered: events arrived, but no step was ever served.",
}
#: Outcome kinds that mean something went wrong, shown so they stand out.
TROUBLE = frozenset({"fell_back", "failed"})


def outcome_words(outcome: dict[str, Any]) -> str:
    """``{"kind": "abandoned", "step": "menu"}`` -> "Abandoned at step menu: …"."""
    return OUTCOME_WORDS[outcome["kind"]].format(
        step=outcome.get("step") or "-", reason=outcome.get("reason") or "no reason recorded"
    )


def pretty(text: str) -> str:
    """JSON or XML indented for reading; anything else (or broken) as it was."""
    stripped = text.strip()
    if stripped.startswith(("{", "[")):
        try:
            return json.dumps(json.loads(stripped), indent=2, ensure_ascii=False)
        except ValueError:
            return text
    if stripped.startswith("<"):
        try:
            root = ET.fromstring(stripped.encode("utf-8"))
        except ET.ParseError:
            return text
        ET.indent(root)
        return ET.tostring(root, encoding="unicode")
    return text


def timeline(record: dict[str, Any]) -> list[dict[str, Any]]:
    """Answers and events in one list, in time order, each marked with what it is.

    Answers are placed at the server's serving time, events at their own ``created_at``
    (the contract orders events by it). Each entry gets ``kind`` ("answer"/"event"),
    ``time``, ``pretty`` (the body for reading; for answers also ``request_pretty``) and
    ``trouble`` (a fallback or an error).
    """
    entries = [
        {
            **answer,
            "kind": "answer",
            "time": answer["at"],
            "pretty": pretty(answer["body"]),
            "request_pretty": json.dumps(answer["request"], indent=2, ensure_ascii=False),
            "trouble": answer["fallback_from"] is not None or answer["status"] != 200,
        }
        for answer in record["answers"]
    ]
    entries += [
        {
            **event,
            "kind": "event",
            # A future-dated event is placed where the call's status order puts it.
            "time": event["received_at"] if event.get("future_dated") else event["created_at"],
            "pretty": json.dumps(event["body"], indent=2, ensure_ascii=False),
            "trouble": False,
        }
        for event in record["events"]
    ]
    # Stable: answers keep serving order and events their stored order on equal times.
    # As instants: as text, "12:00:00Z" would sort after "12:00:00.5Z".
    return sorted(entries, key=lambda entry: datetime.fromisoformat(entry["time"]))
