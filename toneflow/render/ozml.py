"""OzML XML for Ozeki: ``<Response>`` with one element per action, built with ElementTree.

Every value goes in as element text or an attribute, so ElementTree escapes it; nothing
is ever formatted into XML by hand. Digits follow :mod:`toneflow.dtmf.ozml_timing`'s
groups; this module turns them into ``<Delay>`` and ``<SendDTMF>`` elements.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from xml.etree.ElementTree import Element, SubElement, tostring

from toneflow.dtmf.errors import DtmfError
from toneflow.dtmf.ozml_timing import (
    OzmlDelay,
    OzmlSegment,
    exact_ozml_segments,
    ozml_segments,
    whole_seconds,
)
from toneflow.dtmf.parsing import parse
from toneflow.dtmf.tokens import Token
from toneflow.flows import model
from toneflow.render import RenderError, StepUrl

CONTENT_TYPE = "application/xml; charset=utf-8"
DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>'
#: Characters XML 1.0 cannot hold at all, not even escaped (control characters, lone
#: surrogates, U+FFFE/U+FFFF). ElementTree would write them, and the body would not parse.
NOT_XML = re.compile(r"[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(parent: Element, tag: str, text: str, **attributes: str) -> None:
    SubElement(parent, tag, attributes).text = text


def dtmf_elements(segments: Iterable[OzmlSegment], party: str) -> list[Element]:
    """Build ``<Delay>3</Delay>`` and ``<SendDTMF Party=… Keys=…/>`` elements.

    Built with ElementTree so every value is escaped by the XML library.
    """
    if party not in model.PARTIES:
        raise ValueError(f"unknown OzML party {party!r} (known: {', '.join(model.PARTIES)})")
    elements: list[Element] = []
    for segment in segments:
        if isinstance(segment, OzmlDelay):
            delay = Element("Delay")
            delay.text = str(segment.seconds)
            elements.append(delay)
        else:
            elements.append(Element("SendDTMF", {"Party": party, "Keys": segment.keys}))
    return elements


def dtmf_fragment(
    seq: Iterable[Token], *, round_up: bool = False, source: str | None = None
) -> str:
    """``seq`` as an OzML fragment for the callee, exact unless ``round_up``.

    OzML's spelling of a sequence, as ``toneflow dtmf convert``/``export`` print it:
    DtmfError at the first pause that is not whole seconds (unless ``round_up``) or key
    OzML lacks, naming ``source``'s character when given.
    """
    segments = exact_ozml_segments(seq, round_up=round_up, source=source)
    elements = dtmf_elements(segments, model.DEFAULT_PARTY)
    return "".join(tostring(e, encoding="unicode") for e in elements)


def _send_digits(root: Element, action: model.SendDigits, party: str) -> None:
    try:
        sequence = parse(action.digits, "minivoice")
        segments = ozml_segments(sequence, pause_before_ms=action.pause_before_ms or 0)
    except DtmfError as err:
        raise RenderError(f"send_digits cannot be served as OzML: {err}") from err
    root.extend(dtmf_elements(segments, action.party or party))


def _append(root: Element, action: model.Action, step_url: StepUrl, party: str) -> None:
    match action:
        case model.SendDigits():
            _send_digits(root, action, party)
        case model.Speak(text=text, language=language):
            _text(root, "Speak", text, **({"Language": language} if language else {}))
        case model.Play(url=url):
            _text(root, "Play", url)
        case model.CollectDigits():
            SubElement(
                root,
                "UserInput",
                {
                    "Digits": str(action.max_digits),
                    "Timeout": str(whole_seconds(action.timeout_ms)),
                    "ForwardToUrl": step_url(action.next),
                },
            )
        case model.Redirect(step=step):
            _text(root, "GoTo", step_url(step))
        case model.Transfer(to=to):
            _text(root, "BlindTransfer", to)
        case model.Hangup():
            SubElement(root, "Hangup")
        case _:
            raise TypeError(f"no OzML rendering for {action!r}")


def _check_characters(element: Element) -> None:
    """Refuse a value XML cannot carry, so a render failure is served, not broken XML."""
    values = [(f"<{element.tag}> text", element.text or "")]
    values += [(f"<{element.tag} {name}>", value) for name, value in element.attrib.items()]
    for where, value in values:
        found = NOT_XML.search(value)
        if found:
            raise RenderError(
                f"{where} holds U+{ord(found.group()):04X} at character {found.start() + 1}, "
                "which XML cannot carry"
            )


def render(actions: tuple[model.Action, ...], *, step_url: StepUrl, party: str) -> bytes:
    """The whole answer body, with the XML declaration the contract fixes."""
    root = Element("Response")
    for action in actions:
        _append(root, action, step_url, party)
    for element in root.iter():
        _check_characters(element)
    # Long form (<Hangup></Hangup>) as in Ozeki's own examples.
    return DECLARATION + tostring(root, encoding="unicode", short_empty_elements=False).encode()
