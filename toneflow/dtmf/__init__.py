"""The DTMF model: every digit rule toneflow has, one module per job, all pure.

- :mod:`~toneflow.dtmf.tokens` — what a parsed sequence is made of: ``Key``, ``Pause``.
- :mod:`~toneflow.dtmf.dialects` — how each platform spells keys and silence.
- :mod:`~toneflow.dtmf.errors` — ``DtmfError``: the broken rule, its character and position.
- :mod:`~toneflow.dtmf.parsing` — a dialect's text into tokens, with the length limit.
- :mod:`~toneflow.dtmf.spelling` — tokens back into a dialect's text, exactly or rounded up.
- :mod:`~toneflow.dtmf.ozml_timing` — how tokens become OzML's ``Delay``/``SendDTMF`` groups
  (whole seconds, rounded up); the XML itself is made in :mod:`toneflow.render.ozml`.
- :mod:`~toneflow.dtmf.wire` — the wire plan: each tone, gap and pause of a send, in ms.
- :mod:`~toneflow.dtmf.limits` — what a far end's detector can hear (the timing lint).
- :mod:`~toneflow.dtmf.timeline` — when each tone sounds, and what risks a missed digit.
- :mod:`~toneflow.dtmf.heard` — a call's sends read back from its answer bodies, against
  the keys a recording was heard to carry (``toneflow calls verify``).

Import each name from the module that owns it; this package re-exports nothing, so a
name has one home. No Flask, no SQL: schemas, lint, the renderers and the CLI call it.
"""
