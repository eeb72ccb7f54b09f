"""Response bodies: a step's actions as MiniVoice JSON or OzML XML bytes.

Bodies are made here and nowhere else. Each renderer takes fully resolved actions (no
templates left) and a ``step_url`` function that gives the absolute URL of a step in
the same flow and dialect.
"""

from __future__ import annotations

from collections.abc import Callable

StepUrl = Callable[[str], str]


class RenderError(ValueError):
    """The actions cannot be expressed in this dialect (for example ``A`` in OzML)."""
