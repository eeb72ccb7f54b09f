"""The answer request model: ``normalise`` by the contract's table, then validation.

``normalise`` gives the mapping the schema loads, keyed by model path (``call.id``).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from schemas.answer import NAMED_PARAMETERS, PARAMETERS, AnswerRequestSchema, normalise
from schemas.fields import CallId, PhoneNumber, PlatformText
from toneflow.request import CALL_FIELDS, DIGITS_PARAMETERS, AnswerRequest


def load(params: dict | None = None, body: dict | None = None) -> AnswerRequest:
    return AnswerRequestSchema().load(normalise(params or {}, body))


# --- the contract's table, first found wins ---------------------------------------


def test_nothing_given_is_an_empty_request():
    assert normalise({}, None) == {"variables": {}}
    request = load()
    assert (request.call, request.digits, request.variables) == ({}, None, {})
    assert request.call_id is None


@pytest.mark.parametrize(
    ("params", "body", "expected"),
    [
        ({"call_id": "q"}, None, "q"),
        ({"CallId": "oz"}, None, "oz"),
        ({}, {"call": {"id": "j"}}, "j"),
        ({"call_id": "q", "CallId": "oz"}, {"call": {"id": "j"}}, "q"),
        ({"CallId": "oz"}, {"call": {"id": "j"}}, "oz"),
        ({"CallId": "oz", "call_id": "q"}, None, "q"),  # order of the table, not of the query
    ],
)
def test_call_id_is_call_id_then_callid_then_json(params, body, expected):
    assert normalise(params, body)["call.id"] == expected
    assert load(params, body).call_id == expected


@pytest.mark.parametrize(
    ("field", "names"),
    [("from", ("from", "Caller")), ("to", ("to", "Callee"))],
)
def test_from_and_to_read_plain_then_ozeki_then_json(field, names):
    plain, ozeki = names
    json_body = {"call": {field: "json"}}
    key = f"call.{field}"
    assert normalise({plain: "p", ozeki: "o"}, json_body)[key] == "p"
    assert normalise({ozeki: "o"}, json_body)[key] == "o"
    assert normalise({}, json_body)[key] == "json"
    assert load({ozeki: "o"}).call[field] == "o"


@pytest.mark.parametrize("field", ["direction", "customer_id", "application_id"])
def test_other_call_fields_read_their_name_then_json(field):
    key = f"call.{field}"
    assert normalise({field: "param"}, {"call": {field: "json"}})[key] == "param"
    assert normalise({}, {"call": {field: "json"}})[key] == "json"
    assert load({field: "param"}).call == {field: "param"}


@pytest.mark.parametrize(
    ("params", "body", "expected"),
    [
        ({"digits": "1"}, None, "1"),
        ({"Digits": "2"}, None, "2"),
        ({"DtmfDigits": "3"}, None, "3"),
        ({}, {"input": {"digits": "4"}}, "4"),
        ({"digits": "1", "Digits": "2", "DtmfDigits": "3"}, {"input": {"digits": "4"}}, "1"),
        ({"Digits": "2", "DtmfDigits": "3"}, {"input": {"digits": "4"}}, "2"),
        ({"DtmfDigits": "3"}, {"input": {"digits": "4"}}, "3"),
        ({"digits": ""}, {"input": {"digits": "4"}}, ""),  # given empty is still given
    ],
)
def test_digits_are_digits_then_digits_then_dtmfdigits_then_json(params, body, expected):
    assert normalise(params, body)["input.digits"] == expected
    assert load(params, body).digits == expected


def test_ozeki_form_post_normalises_to_the_model():
    request = load(
        {
            "NotificationName": "UserInput",
            "CallId": "oz1",
            "Caller": "+15550001",
            "Callee": "+15550002",
            "DtmfDigits": "1#",
        }
    )
    assert request.call == {"id": "oz1", "from": "+15550001", "to": "+15550002"}
    assert request.digits == "1#"
    assert request.variables == {"NotificationName": "UserInput"}


def test_variables_are_unnamed_params_overlaid_by_json_variables():
    params = {"call_id": "c", "Digits": "5", "code": "param", "lang": "en", "Caller": "+1"}
    body = {"variables": {"code": "json", "extra": [1, 2]}}
    assert normalise(params, body)["variables"] == {"code": "json", "lang": "en", "extra": [1, 2]}
    assert load(params, body).variables == {"code": "json", "lang": "en", "extra": [1, 2]}


def test_named_parameters_never_become_variables():
    params = {name: "1" for name in NAMED_PARAMETERS}
    assert normalise(params, None)["variables"] == {}
    assert {
        "call_id",
        "CallId",
        "from",
        "Caller",
        "to",
        "Callee",
        "direction",
        "customer_id",
        "application_id",
        "digits",
        "Digits",
        "DtmfDigits",
    } == NAMED_PARAMETERS


def test_json_call_fields_outside_the_model_are_not_kept():
    assert normalise({}, {"call": {"id": "c", "sip": "x"}}) == {"call.id": "c", "variables": {}}


def test_json_without_variables_keeps_the_params():
    assert normalise({"a": "1"}, {"call": {"id": "c"}})["variables"] == {"a": "1"}


@pytest.mark.parametrize("variables", [[1], "text", 5, None])
def test_json_variables_that_are_not_an_object_are_refused(variables):
    with pytest.raises(ValidationError) as caught:
        normalise({}, {"variables": variables})
    assert "variables" in caught.value.messages


@pytest.mark.parametrize("section", ["call", "input"])
@pytest.mark.parametrize("value", ["c1", ["c1"], 5, True])
def test_a_json_call_or_input_that_is_not_an_object_is_refused(section, value):
    with pytest.raises(ValidationError) as caught:
        normalise({}, {section: value})
    assert caught.value.messages == {section: ["must be an object"]}


@pytest.mark.parametrize("section", ["call", "input"])
def test_a_null_call_or_input_says_nothing(section):
    normalised = normalise({"call_id": "c1", "digits": "5"}, {section: None})
    assert normalised == {"call.id": "c1", "input.digits": "5", "variables": {}}


# --- validation -------------------------------------------------------------------


def test_the_schema_declares_one_field_per_model_key_from_the_call_field_table():
    declared = AnswerRequestSchema().fields
    assert list(declared) == [*(f"call.{f.name}" for f in CALL_FIELDS), "input.digits", "variables"]
    assert list(PARAMETERS) == list(declared)[:-1]
    assert PARAMETERS["call.from"] == ("from", "Caller")
    assert PARAMETERS["input.digits"] == DIGITS_PARAMETERS
    kinds = {key: type(field) for key, field in declared.items()}
    assert kinds["call.id"] is CallId
    assert kinds["call.from"] is kinds["call.to"] is PhoneNumber
    assert kinds["call.direction"] is kinds["call.customer_id"] is PlatformText


def test_errors_name_the_model_key_as_sent_to_the_schema():
    with pytest.raises(ValidationError) as caught:
        load({"Caller": "a\x00b", "digits": "1"}, {"call": {"to": True}})
    assert caught.value.messages == {
        "call.from": ["must not contain NUL characters"],
        "call.to": ["Not a valid string."],
    }


def test_an_unknown_key_is_named_beside_the_other_errors():
    with pytest.raises(ValidationError) as caught:
        AnswerRequestSchema().load({"call.id": "", "call.sip": "x"})
    assert set(caught.value.messages) == {"call.id", "call.sip"}
    assert "unknown key 'call.sip'" in caught.value.messages["call.sip"][0]


@pytest.mark.parametrize("data", [None, [], "call.id", 5])
def test_a_request_that_is_not_a_mapping_is_refused(data):
    with pytest.raises(ValidationError) as caught:
        AnswerRequestSchema().load(data)
    assert caught.value.messages == {"_schema": ["the request must be a mapping"]}


def test_the_schema_loads_the_model_directly_too():
    request = AnswerRequestSchema().load({"call.id": 7, "call.to": " +1555 ", "input.digits": None})
    assert request == AnswerRequest(call={"id": "7", "to": "+1555"}, digits=None, variables={})


@pytest.mark.parametrize(("given", "expected"), [(123, "123"), (0, "0"), (10**20, str(10**20))])
def test_numeric_json_call_ids_are_accepted_as_text(given, expected):
    request = load({}, {"call": {"id": given}})
    assert request.call_id == expected
    assert request.as_dict()["call"] == {"id": expected}


@pytest.mark.parametrize("field", ["from", "to", "customer_id"])
def test_numeric_json_call_fields_are_accepted_as_text(field):
    assert load({}, {"call": {field: 15551230001}}).call[field] == "15551230001"


@pytest.mark.parametrize(
    "call_id",
    [True, 1.5, ["x"], {"id": 1}, "", "x" * 129, "a\x00b", 10**200],
)
def test_bad_call_ids_are_refused_naming_the_field(call_id):
    with pytest.raises(ValidationError) as caught:
        load({}, {"call": {"id": call_id}})
    assert list(caught.value.messages) == ["call.id"]


def test_the_longest_call_id_is_accepted():
    assert load({"call_id": "x" * 128}).call_id == "x" * 128


@pytest.mark.parametrize("digits", [5, ["1"], {"d": "1"}])
def test_json_digits_that_are_not_text_are_refused(digits):
    with pytest.raises(ValidationError) as caught:
        load({}, {"input": {"digits": digits}})
    assert list(caught.value.messages) == ["input.digits"]


def test_the_request_as_recorded():
    request = load({"call_id": "c", "x": "1"}, {"input": {"digits": "9"}})
    assert request.as_dict() == {
        "call": {"id": "c"},
        "input": {"digits": "9"},
        "variables": {"x": "1"},
    }


# --- properties -------------------------------------------------------------------

_keys = st.sampled_from([*sorted(NAMED_PARAMETERS), "variables", "call", "input"]) | st.text()


@settings(max_examples=500)
@given(params=st.dictionaries(_keys, st.text()))
def test_any_string_params_load_or_raise_validation_error_only(params):
    try:
        request = load(params)
    except ValidationError:
        return
    for name in ("call_id", "CallId"):
        if name in params:
            assert request.call_id == params[name]
            break
    unnamed = {k: v for k, v in params.items() if k not in NAMED_PARAMETERS}
    assert request.variables == unnamed


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=10,
)
_bodies = st.none() | st.dictionaries(
    st.sampled_from(["call", "input", "variables", "other"]),
    _json
    | st.dictionaries(
        st.sampled_from(["id", "from", "to", "direction", "customer_id", "digits", "x"]), _json
    ),
)


@settings(max_examples=500)
@given(params=st.dictionaries(_keys, st.text()), body=_bodies)
def test_any_params_and_json_body_load_or_raise_validation_error_only(params, body):
    try:
        request = load(params, body)
    except ValidationError:
        return
    assert isinstance(request, AnswerRequest)
    assert set(request.call) <= {f.name for f in CALL_FIELDS}
    assert all(isinstance(value, str) for value in request.call.values())
    assert request.digits is None or isinstance(request.digits, str)


def _outcome(schema: AnswerRequestSchema, data: dict, **kwargs) -> object:
    try:
        return schema.load(data, **kwargs)
    except ValidationError as err:
        return err.messages


@settings(max_examples=300)
@given(params=st.dictionaries(_keys, st.text()), body=_bodies)
def test_loading_with_the_fields_sent_matches_the_whole_schema(params, body):
    # load() picks a schema of just the keys sent; with a keyword it uses every field.
    try:
        data = normalise(params, body)
    except ValidationError:
        return
    schema = AnswerRequestSchema()
    assert data.keys() <= schema.known_keys.keys()  # exactly what the schema reads
    assert _outcome(schema, data) == _outcome(schema, data, unknown="raise")
    assert _outcome(schema, {**data, "extra": 1}) == _outcome(
        schema, data | {"extra": 1}, unknown="raise"
    )
