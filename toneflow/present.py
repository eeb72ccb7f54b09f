"""A call record for people: the outcome in words, one timeline, bodies pretty-printed.

The support page and ``toneflow calls show`` both say what became of a call the same
way, so this is the one place those words and that ordering live. Pure: no Flask, SQL
or terminal here.

Everything in a record came from a caller or a platform, so it is shown through
:func:`visible_parts` (or :func:`visible`): control, bidi, zero-width and other
invisible characters come out as escapes, never raw. The store keeps what was sent.
"""

from __future__ import annotations

import json
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime
from typing import Any

#: Categories never shown raw: controls (C0, DEL, C1), format characters (bidi controls,
#: zero-width ones, soft hyphen, tags), lone surrogates, line and paragraph separators.
HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
#: Unicode's Default_Ignorable_Code_Point ranges (DerivedCoreProperties.txt) that are not
#: in those categories: fillers and variation selectors that draw nothing.
IGNORABLE_RANGES = (
    (0x034F, 0x034F), (0x115F, 0x1160), (0x17B4, 0x17B5), (0x180B, 0x180F),
    (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8),
    (0xE0000, 0xE0FFF),
)  # fmt: skip
SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
#: Kept as they are in multi-line text (bodies): they lay it out and cannot move the cursor.
LAYOUT = frozenset("\n\t")

#: Outcome kind -> a sentence, with {step} and {reason} filled from the outcome.
OUTCOME_WORDS = {
    "finished": "Finished at step {step}.",
    "abandoned": "Abandoned at step {step}: the call ended while that step still led on.",
    "fell_back": "Fell back at step {step}: {reason}",
    "failed": "Failed at step {step}, with no fallback; the platform got a 500: {reason}",
    "in_progress": "In progress: last served step {step}, no call.completed yet.",
    "transferred": "Transferred at step {step} ({reason}).",
    "never_answered": "Never answered: no step was served; only events or pushes were recorded.",
}
#: Outcome kinds that mean something went wrong, shown so they stand out.
TROUBLE = frozenset({"fell_back", "failed"})


def hidden(char: str) -> bool:
    """True for a character that would not show as itself: an escape stands in for it.

    Spaces other than U+0020 count too, since ``a\u00a0b`` looks like ``a b``.
    """
    category = unicodedata.category(char)
    if category in HIDDEN_CATEGORIES or (category == "Zs" and char != " "):
        return True
    point = ord(char)
    return any(low <= point <= high for low, high in IGNORABLE_RANGES)


def visible_parts(
    text: str, *, lines: bool = False, json_text: bool = False
) -> Iterator[tuple[str, bool]]:
    """``text`` as runs of ``(chunk, is_escape)``; joined, it shows every character.

    Hidden characters become Python-style escapes (``\x1b``, ``\u202e``, ``\U000e0001``,
    ``\n``) and a backslash becomes ``\\``, so the shown form reads back to exactly one
    text (``unicode_escape`` decodes it). ``lines`` keeps newlines and tabs, for bodies.
    ``json_text`` is for JSON (which escapes its own backslashes and C0 controls): hidden
    characters become JSON escapes (``\u202e``, surrogate pairs above U+FFFF), so the
    shown text is still JSON, of the same value.
    """
    plain: list[str] = []
    for char in text:
        if lines and char in LAYOUT:
            plain.append(char)
            continue
        escape = _escape(char, json_text)
        if escape is None:
            plain.append(char)
            continue
        if plain:
            yield "".join(plain), False
            plain = []
        yield escape, True
    if plain:
        yield "".join(plain), False


def visible(text: str, *, lines: bool = False, json_text: bool = False) -> str:
    """``text`` with every hidden character escaped (see :func:`visible_parts`)."""
    return "".join(chunk for chunk, _ in visible_parts(text, lines=lines, json_text=json_text))


def _escape(char: str, json_text: bool) -> str | None:
    if char == "\\":
        return None if json_text else "\\\\"
    if not hidden(char):
        return None
    if char in SHORT_ESCAPES:
        return SHORT_ESCAPES[char]
    point = ord(char)
    if json_text:
        if point > 0xFFFF:  # JSON has no 32-bit escape: a UTF-16 surrogate pair
            point -= 0x10000
            return f"\\u{0xD800 + (point >> 10):04x}\\u{0xDC00 + (point & 0x3FF):04x}"
        return f"\\u{point:04x}"
    if point < 0x100:
        return f"\\x{point:02x}"
    return f"\\u{point:04x}" if point <= 0xFFFF else f"\\U{point:08x}"


def is_json(text: str) -> bool:
    """Whether a body is a JSON text (and so is shown with JSON's escapes)."""
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


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


#: How long past a ``collect_digits`` timeout the next request may come before the
#: timeline marks the wait (platforms post a timed-out collection a little late, and OzML
#: rounds the timeout up to whole seconds).
SILENCE_MARGIN_MS = 2000


def timeline(record: dict[str, Any]) -> list[dict[str, Any]]:
    """Answers, events and pushes in one list, in the order toneflow served, received or
    sent them.

    Answers are placed at their serving time, events at their receipt time (both on the
    server's clock, to the microsecond; an event's own ``created_at`` is shown beside it,
    and is whole seconds on some platforms), pushes when they began. Each entry gets
    ``kind`` ("answer"/"event"/"push"),
    ``time``, ``delta_ms`` (since the entry before; None for the first), ``pretty`` (the
    body for reading; for answers also ``request_pretty``, ``body_is_json``, ``keys`` (the
    digits the caller pressed, None when the request carried none) and ``decided`` (the
    switch decisions in words)), ``trouble`` (a fallback or an error) and ``silence_s``: on
    an answer that waited for keys, how long nothing came, when that was longer than its
    timeout plus :data:`SILENCE_MARGIN_MS`. Texts are as stored: the page or terminal
    shows them through :func:`visible`.
    """
    entries = [
        {
            **answer,
            "kind": "answer",
            "time": answer["at"],
            "pretty": pretty(answer["body"]),
            "request_pretty": json.dumps(answer["request"], indent=2, ensure_ascii=False),
            "body_is_json": is_json(answer["body"]),
            "trouble": answer["fallback_from"] is not None or answer["status"] != 200,
            "keys": (answer["request"].get("input") or {}).get("digits"),
            "decided": decision_words(answer.get("decision")),
        }
        for answer in record["answers"]
    ]
    entries += [
        {
            **event,
            "kind": "event",
            "time": event["received_at"],
            "pretty": json.dumps(event["body"], indent=2, ensure_ascii=False),
            "trouble": False,
        }
        for event in record["events"]
    ]
    entries += [
        {**push, "kind": "push", "time": push["at"], "trouble": not push["ok"]}
        for push in record.get("pushes", ())
    ]
    # Stable: answers keep serving order and events their stored order on equal times.
    # As instants: as text, "12:00:00Z" would sort after "12:00:00.5Z".
    entries.sort(key=lambda entry: _instant(entry["time"]))
    for index, entry in enumerate(entries):
        before = entries[index - 1] if index else None
        entry["delta_ms"] = None if before is None else _ms_between(before["time"], entry["time"])
        entry["silence_s"] = _silence(entry, entries[index + 1 :])
    return entries


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _ms_between(earlier: str, later: str) -> float:
    return (_instant(later) - _instant(earlier)).total_seconds() * 1000


def _silence(entry: dict[str, Any], after: list[dict[str, Any]]) -> float | None:
    """Seconds with no next request after an answer that waited for keys, when too long."""
    waits = (entry.get("decision") or {}).get("awaits_digits_ms")
    if entry["kind"] != "answer" or waits is None or not after:
        return None
    following = next((e for e in after if e["kind"] == "answer"), after[0])
    gap = _ms_between(entry["time"], following["time"])
    return round(gap / 1000, 1) if gap > waits + SILENCE_MARGIN_MS else None


def decision_words(decision: dict[str, Any] | None) -> list[str]:
    """Each switch decided, in words: "route: pressed 5 matched no case, went to default"."""
    words = []
    for hop in (decision or {}).get("switches", ()):
        value = f"value '{hop['value']}'" if hop["value"] else "an empty value"
        if hop["case"] is None:
            words.append(f"{hop['step']}: {value} matched no case, went to default → {hop['to']}")
        else:
            words.append(f"{hop['step']}: {value} matched case '{hop['case']}' → {hop['to']}")
    return words


def clock(value: str | None) -> str:
    """``2026-05-29T12:10:00.123456Z`` -> ``2026-05-29 12:10:00.123 UTC`` (milliseconds)."""
    if not value:
        return "-"
    at = _instant(value)
    return at.strftime("%Y-%m-%d %H:%M:%S.") + f"{at.microsecond // 1000:03d} UTC"


def delta(ms: float | None) -> str:
    """The time since the entry before, for reading: "+0.412 s", "+12.0 s"."""
    if ms is None:
        return ""
    return f"+{ms / 1000:.3f} s" if ms < 10_000 else f"+{ms / 1000:.1f} s"


def push_summary(push: dict[str, Any]) -> str:
    """A push in one line: where to, what, and how it went (the page and the CLI say it so)."""
    reference = ", ".join(f"{key} {value}" for key, value in push["reference"].items())
    sent = len(push["requests"])
    how = (
        f"taken, {sent} request(s) in {push['duration_ms']:g} ms"
        if push["ok"]
        else f"FAILED after {sent} request(s): {push['error']}"
    )
    return f"{push['platform']} ({reference}): step {push['flow']}/{push['step']}, {how}"
