"""Property tests: no handler result breaks a response mapper; S3 keys round-trip."""

from __future__ import annotations

import string
from collections.abc import Callable
from urllib.parse import unquote_plus

from hypothesis import given, settings
from hypothesis import strategies as st

from lambdalab.errors import ProxyResponseError
from lambdalab.triggers.http import (
    FunctionErrorResult,
    HttpResponse,
    alb_response,
    http_api_response,
    raw_http_bytes,
    rest_response,
)
from lambdalab.triggers.s3 import decode_key, encode_key

SETTINGS = settings(max_examples=200, deadline=None)

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
header_names = st.sampled_from(
    ["Set-Cookie", "set-cookie", "Content-Type", "X-A", "x-a", "bad name", ""]
)
status_codes = st.one_of(
    st.integers(min_value=-5, max_value=800),
    st.text(alphabet="0123456789", max_size=4),
    st.sampled_from([200.0, 201.5, "test", True]),
    json_values,
)
shaped_results = st.fixed_dictionaries(
    {},
    optional={
        "statusCode": status_codes,
        "statusDescription": st.text(max_size=10) | json_values,
        "headers": st.dictionaries(header_names, scalars | json_values, max_size=4)
        | json_values,
        "multiValueHeaders": st.dictionaries(
            header_names, st.lists(scalars, max_size=3) | scalars, max_size=4
        )
        | json_values,
        "body": st.text(max_size=20) | json_values,
        "isBase64Encoded": st.booleans() | json_values,
        "cookies": st.lists(st.text(max_size=10), max_size=3) | json_values,
        "extra": json_values,
    },
)
line_text = st.text(
    alphabet=string.ascii_letters + string.digits + " =;,/-", max_size=10
)
good_names = st.sampled_from(["Set-Cookie", "set-cookie", "Content-Type", "X-A", "x-a"])
good_values = line_text | st.booleans() | st.integers()
plausible_results = st.fixed_dictionaries(
    {
        "statusCode": st.integers(min_value=100, max_value=599)
        | st.sampled_from(["200", "404"])
    },
    optional={
        "statusDescription": st.sampled_from(["200 OK", "404 Not Found"]),
        "headers": st.dictionaries(good_names, good_values, max_size=4),
        "multiValueHeaders": st.dictionaries(
            good_names, st.lists(good_values, max_size=3), max_size=4
        ),
        "body": st.text(max_size=20),
        "isBase64Encoded": st.booleans(),
        "cookies": st.lists(line_text, max_size=3),
    },
)
results = json_values | shaped_results | plausible_results


def assert_valid(response: object) -> None:
    """The response is a well-formed HttpResponse whose raw form renders."""
    assert isinstance(response, HttpResponse)
    assert type(response.status) is int and 100 <= response.status <= 599
    for name, value in response.headers:
        assert name and isinstance(name, str)
        assert isinstance(value, str) and not set(value) & {"\r", "\n", "\x00"}
    assert isinstance(response.body, bytes)
    assert raw_http_bytes(response).startswith(f"HTTP/1.1 {response.status} ".encode())
    if response.problem is not None:
        assert response.status in (500, 502)


def map_or_own_error(
    mapper: Callable[..., HttpResponse], outcome: object, **options: object
) -> None:
    """Map the outcome; only lambdalab's own validation error may escape."""
    try:
        response = mapper(outcome, **options)
    except ProxyResponseError:
        return
    assert_valid(response)


@SETTINGS
@given(results)
def test_rest_mapper_never_breaks(result: object) -> None:
    map_or_own_error(rest_response, result)
    map_or_own_error(rest_response, result, binary_media_types=["*/*"])


@SETTINGS
@given(results)
def test_http_api_mapper_never_breaks(result: object) -> None:
    map_or_own_error(http_api_response, result)


@SETTINGS
@given(results, st.booleans())
def test_alb_mapper_never_breaks(result: object, multi_value: bool) -> None:
    map_or_own_error(alb_response, result, multi_value_headers=multi_value)


@SETTINGS
@given(st.text(max_size=30), st.text(max_size=10))
def test_function_errors_always_map_to_the_front_door_error(
    message: str, rid: str
) -> None:
    error = FunctionErrorResult(message, request_id=rid)
    for response in (
        rest_response(error),
        http_api_response(error),
        alb_response(error),
    ):
        assert_valid(response)
        assert response.problem is not None


@SETTINGS
@given(
    st.dictionaries(
        st.sampled_from(["A", "B", "c"]),
        st.lists(st.text(string.ascii_letters, max_size=5), max_size=3),
        max_size=3,
    )
)
def test_rest_keeps_every_multi_value(multi: dict[str, list[str]]) -> None:
    response = rest_response({"statusCode": 200, "multiValueHeaders": multi})
    assert list(response.headers) == [
        (name, v) for name, values in multi.items() for v in values
    ]


@SETTINGS
@given(st.text(min_size=1, max_size=40))
def test_s3_key_encoding_round_trips_through_unquote_plus(key: str) -> None:
    # PITFALLS R35/R36: handlers decode with unquote_plus and get the key back.
    encoded = encode_key(key)
    assert unquote_plus(encoded) == key
    assert decode_key(encoded) == key
    assert " " not in encoded
    assert set(encoded) <= set(string.ascii_letters + string.digits + "%+/_.-~")
