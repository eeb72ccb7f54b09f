"""Hostile answer requests: wire keys spelled like the model's own keys.

:func:`schemas.answer.normalise` hands the schema a mapping keyed ``call.id``,
``input.digits``, ``variables``. A platform (or anyone who can reach answer_url) that sends
those spellings itself must not reach the model by them: only the contract's parameters
and the JSON body's ``call``/``input``/``variables`` objects fill it.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.answer import NAMED_PARAMETERS, PARAMETERS, normalise

MODEL_KEYS = [*PARAMETERS, "variables"]


def test_a_query_parameter_named_like_a_model_key_is_a_variable(client):
    response = client.get("/answer/minivoice/menu?call_id=hq1&call.id=evil&input.digits=9")
    assert response.status_code == 200
    request = client.get("/api/calls/hq1").json["answers"][0]["request"]
    assert request == {
        "call": {"id": "hq1"},
        "input": {"digits": None},
        "variables": {"call.id": "evil", "input.digits": "9"},
    }


def test_json_top_level_keys_named_like_model_keys_are_ignored(client):
    body = {"call": {"id": "hq2", "id.x": "y"}, "call.from": "+1555", "input.digits": "9"}
    response = client.post("/answer/minivoice/menu", json=body)
    assert response.status_code == 200
    request = client.get("/api/calls/hq2").json["answers"][0]["request"]
    assert request == {"call": {"id": "hq2"}, "input": {"digits": None}, "variables": {}}


def test_a_bad_value_is_named_by_its_model_key_on_the_wire(client):
    response = client.get("/answer/minivoice/menu", query_string={"Caller": "+1\x00"})
    assert response.status_code == 400
    assert response.json["error"] == {
        "code": "invalid_request",
        "message": "call.from: must not contain NUL characters",
    }


_text = st.text(max_size=8)
_params = st.dictionaries(st.sampled_from([*MODEL_KEYS, *sorted(NAMED_PARAMETERS)]) | _text, _text)


@settings(max_examples=300)
@given(params=_params, extra=st.dictionaries(st.sampled_from(MODEL_KEYS), _text | st.integers()))
def test_model_key_spellings_outside_the_contract_never_fill_the_model(params, extra):
    # ``extra``: a JSON body's top-level keys spelled as the model's (``variables`` aside).
    extra.pop("variables", None)
    data = normalise(params, extra)
    assert data == normalise(params, None)  # the body's dotted keys said nothing
    for key in MODEL_KEYS:
        if key in params:
            assert data["variables"][key] == params[key]
    filled = {key for key, names in PARAMETERS.items() if any(name in params for name in names)}
    assert data.keys() == filled | {"variables"}
