"""MiniVoice JSON: ``{"actions": [...]}``, one single-key object per action.

Only ``send_digits`` is MiniVoice's documented shape; the others are this project's and
are written down in docs/flow-authoring.md ("Actions and their two renderings").
"""

from __future__ import annotations

import json
from typing import Any

from toneflow.flows import model
from toneflow.render import RenderError, StepUrl

CONTENT_TYPE = "application/json"


def _without_none(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def action_json(action: model.Action, step_url: StepUrl) -> dict[str, Any]:
    """One action as MiniVoice JSON; optional keys are left out when not given."""
    match action:
        case model.SendDigits(digits=digits, pause_before_ms=pause):
            return {"send_digits": _without_none({"digits": digits, "pause_before_ms": pause})}
        case model.Speak(text=text, language=language):
            return {"speak": _without_none({"text": text, "language": language})}
        case model.Play(url=url):
            return {"play": {"url": url}}
        case model.CollectDigits():
            return {
                "collect_digits": _without_none(
                    {
                        "max_digits": action.max_digits,
                        "timeout_ms": action.timeout_ms,
                        "finish_on_key": action.finish_on_key,
                        "action_url": step_url(action.next),
                    }
                )
            }
        case model.Redirect(step=step):
            return {"redirect": {"url": step_url(step)}}
        case model.Transfer(to=to):
            return {"transfer": {"to": to}}
        case model.Hangup():
            return {"hangup": {}}
    raise TypeError(f"no MiniVoice rendering for {action!r}")


def render(actions: tuple[model.Action, ...], *, step_url: StepUrl, party: str) -> bytes:
    """The whole answer body. ``party`` is OzML's concept; MiniVoice has no such field."""
    body = {"actions": [action_json(action, step_url) for action in actions]}
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as err:  # a lone surrogate, e.g. from a JSON "\ud800" variable
        char = ord(err.object[err.start])
        raise RenderError(f"U+{char:04X} (a lone surrogate) cannot be sent as UTF-8") from err
