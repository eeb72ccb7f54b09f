"""What each digit dialect is documented to do, and helpers the DTMF tests share.

What each dialect is documented to accept, written out here independently of the
module's own table so a slip in that table fails a test.
"""

from __future__ import annotations

from hypothesis import strategies as st

from toneflow.dtmf.tokens import Key, Pause, Token, merge_pauses

ALL_KEYS = "0123456789*#ABCD"
ACCEPTS = {
    "minivoice": "0123456789*#ABCDwW,",
    "ozml": "0123456789*#",
    "vicidial": "0123456789PSQ",
    "vobiz": "0123456789*#wW",
    "genesys": "0123456789",
    "twilio": "0123456789*#ABCDwW",
    "asterisk": "0123456789*#ABCDwW",
}
SENDS = {  # keys each dialect can send
    "minivoice": ALL_KEYS,
    "ozml": "0123456789*#",
    "vicidial": "0123456789*#",
    "vobiz": "0123456789*#",
    "genesys": "0123456789",
    "twilio": ALL_KEYS,
    "asterisk": ALL_KEYS,
}
PAUSE_STEP_MS = {  # every pause length is a multiple of this; None: no pauses
    "minivoice": 500,
    "ozml": 1000,
    "vicidial": 1000,
    "vobiz": 500,
    "genesys": None,
    "twilio": 500,
    "asterisk": 500,
}
TEXT_DIALECTS = [d for d in ACCEPTS if d != "ozml"]
WITH_PAUSES = [d for d in TEXT_DIALECTS if PAUSE_STEP_MS[d]]


def keys_of(seq: tuple[Token, ...]) -> str:
    return "".join(t.key for t in seq if isinstance(t, Key))


def pauses_of(seq: tuple[Token, ...]) -> list[int]:
    return [t.ms for t in seq if isinstance(t, Pause)]


def positions(seq: tuple[Token, ...]) -> list[int]:
    return [t.position for t in seq]


@st.composite
def expressible(draw, dialect: str) -> tuple[Token, ...]:
    """A non-empty normalised sequence that ``dialect`` can write exactly."""
    step = PAUSE_STEP_MS[dialect]
    key = st.sampled_from(SENDS[dialect]).map(lambda k: Key(k, 0))
    token = key
    if step:
        token = key | st.integers(min_value=1, max_value=40).map(lambda n: Pause(n * step, 0))
    seq = merge_pauses(draw(st.lists(token, min_size=1, max_size=30)))
    return seq


@st.composite
def dialect_and_text(draw, dialects: list[str]) -> tuple[str, str]:
    dialect = draw(st.sampled_from(dialects))
    text = draw(st.text(alphabet=ACCEPTS[dialect], min_size=1, max_size=40))
    return dialect, text
