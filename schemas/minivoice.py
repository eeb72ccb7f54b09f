"""The MiniVoice answer body, ``{"actions": [...]}``, as the service sends it.

Used to check what the renderer produces (fuzz tests) and to describe the answer
endpoints. Only ``send_digits`` is MiniVoice's documented shape; the rest are this
project's (docs/flows.md). Digits are checked by :mod:`toneflow.dtmf`, as everywhere.
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from schemas.base import Schema
from schemas.fields import Digits
from schemas.flow import KEYS_TO_FINISH, MAX_PAUSE_MS


class SendDigitsBody(Schema):
    digits = Digits(required=True)
    pause_before_ms = fields.Integer(strict=True, validate=validate.Range(0, MAX_PAUSE_MS))


class SpeakBody(Schema):
    text = fields.String(required=True, validate=validate.Length(min=1))
    language = fields.String(validate=validate.Length(min=1))


class PlayBody(Schema):
    url = fields.Url(required=True, schemes={"http", "https"})


class CollectDigitsBody(Schema):
    max_digits = fields.Integer(required=True, strict=True, validate=validate.Range(1, 64))
    timeout_ms = fields.Integer(
        required=True, strict=True, validate=validate.Range(100, MAX_PAUSE_MS)
    )
    finish_on_key = fields.String(validate=validate.OneOf(list(KEYS_TO_FINISH)))
    action_url = fields.Url(required=True, require_tld=False)


class RedirectBody(Schema):
    url = fields.Url(required=True, require_tld=False)


class TransferBody(Schema):
    to = fields.String(required=True, validate=validate.Length(min=1))


class HangupBody(Schema):
    pass


class MiniVoiceAction(Schema):
    """Exactly one of the actions."""

    send_digits = fields.Nested(SendDigitsBody)
    speak = fields.Nested(SpeakBody)
    play = fields.Nested(PlayBody)
    collect_digits = fields.Nested(CollectDigitsBody)
    redirect = fields.Nested(RedirectBody)
    transfer = fields.Nested(TransferBody)
    hangup = fields.Nested(HangupBody)

    @validates_schema
    def _exactly_one(self, data: dict[str, Any], **kwargs: Any) -> None:
        if len(data) != 1:
            raise ValidationError("an action object has exactly one key, the action's name")


class MiniVoiceAnswerSchema(Schema):
    """``{"actions": [...]}``: what every 200 from /answer/minivoice/… holds."""

    actions = fields.List(fields.Nested(MiniVoiceAction), required=True)
