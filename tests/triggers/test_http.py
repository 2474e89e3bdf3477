"""Request events and response mapping of the three HTTP front doors (LAMBDA-FACTS 6)."""

from __future__ import annotations

import base64
import json

import pytest

from lambdalab.errors import ProxyResponseError
from lambdalab.triggers.http import (
    ALB_ERROR_BODY,
    HTTP_API_ERROR_BODY,
    REST_ERROR_BODY,
    REST_MALFORMED_LOG,
    FunctionErrorResult,
    HttpRequest,
    HttpResponse,
    alb_event,
    alb_response,
    http_api_event,
    http_api_response,
    map_response,
    raw_http,
    raw_http_bytes,
    rest_event,
    rest_response,
)

RID = "req-1"
T0 = 1_735_718_400_000  # 2025-01-01T08:00:00Z


def rest(request: HttpRequest) -> dict[str, object]:
    return rest_event(request, request_id=RID, time_ms=T0)


def v2(request: HttpRequest) -> dict[str, object]:
    return http_api_event(request, request_id=RID, time_ms=T0)


# ---------------------------------------------------------------- REST request events


def test_rest_event_repeated_query_last_wins_multi_keeps_all_t47() -> None:
    event = rest(HttpRequest.from_target("GET", "/p?x=1&x=2&x=3"))
    assert event["queryStringParameters"] == {"x": "3"}
    assert event["multiValueQueryStringParameters"] == {"x": ["1", "2", "3"]}


def test_rest_event_no_query_gives_both_maps_null_t47() -> None:
    event = rest(HttpRequest.from_target("GET", "/p"))
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None


def test_rest_event_blank_last_value_wins_6_1() -> None:
    event = rest(HttpRequest.from_target("GET", "/p?x=1&x="))
    assert event["queryStringParameters"] == {"x": ""}
    assert event["multiValueQueryStringParameters"] == {"x": ["1", ""]}


def test_rest_event_repeated_headers_last_wins_multi_keeps_all_6_1() -> None:
    request = HttpRequest(headers=(("Accept", "a"), ("accept", "b"), ("X-One", "1")))
    event = rest(request)
    assert event["headers"] == {"Accept": "b", "X-One": "1"}
    assert event["multiValueHeaders"] == {"Accept": ["a", "b"], "X-One": ["1"]}


def test_rest_event_without_headers_has_null_maps() -> None:
    event = rest(HttpRequest())
    assert event["headers"] is None
    assert event["multiValueHeaders"] is None


def test_rest_event_fields_and_request_context_6_1() -> None:
    request = HttpRequest.from_target(
        "POST",
        "/orders?id=7",
        headers=[("User-Agent", "curl/8.0")],
        body='{"n": 1}',
        source_ip="203.0.113.9",
    )
    event = rest_event(
        request, request_id=RID, time_ms=T0, stage="dev", api_id="abc123"
    )
    assert list(event) == [
        "resource",
        "path",
        "httpMethod",
        "headers",
        "multiValueHeaders",
        "queryStringParameters",
        "multiValueQueryStringParameters",
        "requestContext",
        "pathParameters",
        "stageVariables",
        "body",
        "isBase64Encoded",
    ]
    assert event["requestContext"] == {
        "accountId": "123456789012",
        "apiId": "abc123",
        "httpMethod": "POST",
        "identity": {"sourceIp": "203.0.113.9", "userAgent": "curl/8.0"},
        "path": "/dev/orders",
        "protocol": "HTTP/1.1",
        "requestId": RID,
        "requestTime": "01/Jan/2025:08:00:00 +0000",
        "requestTimeEpoch": T0,
        "resourcePath": "/orders",
        "stage": "dev",
    }
    assert event["body"] == '{"n": 1}'
    assert event["isBase64Encoded"] is False


def test_binary_request_body_is_base64_with_flag() -> None:
    request = HttpRequest(method="POST", body=b"\x89PNG\x00")
    for event in (rest(request), v2(request), alb_event(request)):
        assert event["body"] == base64.b64encode(b"\x89PNG\x00").decode()
        assert event["isBase64Encoded"] is True


def test_events_are_deterministic_for_the_same_arguments() -> None:
    request = HttpRequest.from_target("GET", "/a?b=c", headers=[("Cookie", "k=v")])
    assert json.dumps(rest(request)) == json.dumps(rest(request))
    assert json.dumps(v2(request)) == json.dumps(v2(request))


# ---------------------------------------------------------- HTTP API request events


def test_http_api_event_comma_joins_duplicates_without_multi_value_fields_t48() -> None:
    request = HttpRequest.from_target(
        "GET",
        "/r?parameter1=value1&parameter1=value2",
        headers=[("header2", "value1"), ("header2", "value2")],
    )
    event = v2(request)
    assert event["queryStringParameters"] == {"parameter1": "value1,value2"}
    assert event["headers"] == {"header2": "value1,value2"}
    assert "multiValueHeaders" not in event
    assert "multiValueQueryStringParameters" not in event
    assert event["version"] == "2.0"
    assert event["rawQueryString"] == "parameter1=value1&parameter1=value2"


def test_http_api_event_lowercases_header_names_6_3() -> None:
    event = v2(HttpRequest(headers=(("X-Trace", "a"), ("x-trace", "b"))))
    assert event["headers"] == {"x-trace": "a,b"}


def test_http_api_event_keeps_same_name_cookies_apart_r15() -> None:
    event = v2(HttpRequest(headers=(("Cookie", "foo=bar; foo=baz"),)))
    assert event["cookies"] == ["foo=bar", "foo=baz"]
    assert "cookie" not in event.get("headers", {})


def test_http_api_event_request_context_http_6_3() -> None:
    request = HttpRequest.from_target(
        "PUT", "/items/1", headers=[("User-Agent", "ua")], source_ip="198.51.100.1"
    )
    event = http_api_event(
        request, request_id=RID, time_ms=T0, route_key="PUT /items/{id}"
    )
    context = event["requestContext"]
    assert context["http"] == {
        "method": "PUT",
        "path": "/items/1",
        "protocol": "HTTP/1.1",
        "sourceIp": "198.51.100.1",
        "userAgent": "ua",
    }
    assert context["routeKey"] == event["routeKey"] == "PUT /items/{id}"
    assert context["timeEpoch"] == T0
    assert context["time"] == "01/Jan/2025:08:00:00 +0000"
    assert event["rawPath"] == "/items/1"
    assert "queryStringParameters" not in event
    assert event["rawQueryString"] == ""


# ----------------------------------------------------------------- ALB request events


def test_alb_event_single_value_mode_last_value_wins_t50() -> None:
    request = HttpRequest.from_target(
        "GET", "/?myKey=val1&myKey=val2", headers=[("X-A", "1"), ("x-a", "2")]
    )
    event = alb_event(request)
    assert event["queryStringParameters"] == {"myKey": "val2"}
    assert event["headers"] == {"x-a": "2"}
    assert "multiValueQueryStringParameters" not in event
    assert "multiValueHeaders" not in event


def test_alb_event_multi_value_mode_replaces_single_maps_t50() -> None:
    request = HttpRequest.from_target("GET", "/?myKey=val1&myKey=val2")
    event = alb_event(request, multi_value_headers=True)
    assert event["multiValueQueryStringParameters"] == {"myKey": ["val1", "val2"]}
    assert "queryStringParameters" not in event
    assert "headers" not in event
    assert event["multiValueHeaders"] == {}


def test_alb_event_passes_query_still_url_encoded_6_4() -> None:
    event = alb_event(HttpRequest.from_target("GET", "/?x=foo%3Dbar&q=a+b"))
    assert event["queryStringParameters"] == {"x": "foo%3Dbar", "q": "a+b"}


def test_alb_event_shape_6_4() -> None:
    event = alb_event(
        HttpRequest(method="DELETE", path="/x"), target_group_arn="arn:tg"
    )
    assert event == {
        "requestContext": {"elb": {"targetGroupArn": "arn:tg"}},
        "httpMethod": "DELETE",
        "path": "/x",
        "queryStringParameters": {},
        "headers": {},
        "body": "",
        "isBase64Encoded": False,
    }


def test_http_request_refuses_bad_method_path_and_mismatched_raw_query() -> None:
    with pytest.raises(ProxyResponseError, match="method 'GE T'"):
        HttpRequest(method="GE T")
    with pytest.raises(ProxyResponseError, match="must start with '/'"):
        HttpRequest(path="p")
    with pytest.raises(ProxyResponseError, match="does not decode"):
        HttpRequest(query=(("a", "1"),), raw_query="a=2")


# ------------------------------------------------------------ REST response mapping


def test_rest_multi_value_headers_one_line_per_value_t43() -> None:
    response = rest_response(
        {"statusCode": 200, "multiValueHeaders": {"test-multi": ["value1", "value2"]}}
    )
    assert response.status == 200
    assert response.headers == (("test-multi", "value1"), ("test-multi", "value2"))
    assert ", ".join(response.header_values("test-multi")) == "value1, value2"


def test_rest_boolean_header_sent_as_true_t45() -> None:
    response = rest_response({"statusCode": 200, "headers": {"header-bool": True}})
    assert response.headers == (("header-bool", "true"),)
    assert response.notes[0].kind == "converted"


def test_rest_merge_multi_values_first_then_headers_value_observed_6_2() -> None:
    # LAMBDA-FACTS 6.2: AWS-recorded merge, casing from multiValueHeaders.
    response = rest_response(
        {
            "statusCode": 200,
            "headers": {"test-multi": "value-solo"},
            "multiValueHeaders": {"tesT-Multi": ["value-multi"]},
        }
    )
    assert response.headers == (
        ("tesT-Multi", "value-multi"),
        ("tesT-Multi", "value-solo"),
    )
    assert [str(n) for n in response.notes] == [
        "REST: headers['test-multi'] merged after multiValueHeaders['tesT-Multi']; "
        "sent as 'tesT-Multi'"
    ]
    assert response.notes[0].kind == "merged"
    assert response.notes[0].header == "tesT-Multi"


def test_rest_identical_pair_in_both_maps_sent_once_6_2_r11() -> None:
    # Decision (LAMBDA-FACTS 6.2 doc sentence, 11.4): only the multiValueHeaders copy.
    response = rest_response(
        {
            "headers": {"Set-Cookie": "a=1"},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
        }
    )
    assert response.headers == (("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"))
    assert response.notes[0].kind == "dropped"


def test_rest_merged_value_sits_after_its_name_group() -> None:
    response = rest_response(
        {
            "headers": {"X-Solo": "s", "x-a": "3"},
            "multiValueHeaders": {"X-A": ["1", "2"], "X-B": ["b"]},
        }
    )
    assert response.headers == (
        ("X-A", "1"),
        ("X-A", "2"),
        ("X-A", "3"),
        ("X-B", "b"),
        ("X-Solo", "s"),
    )


def test_rest_case_variant_set_cookie_keys_stay_separate_r10() -> None:
    response = rest_response(
        {
            "statusCode": 200,
            "headers": {"Set-Cookie": "a=1", "set-Cookie": "b=2"},
            "body": "",
        }
    )
    assert response.header_values("set-cookie") == ["a=1", "b=2"]
    assert len(response.headers) == 2


def test_rest_two_cookies_in_multi_value_headers_both_arrive_r11() -> None:
    response = rest_response(
        {
            "statusCode": 200,
            "multiValueHeaders": {"set-cookie": ["test=value1", "test=value2"]},
        }
    )
    assert response.header_values("Set-Cookie") == ["test=value1", "test=value2"]


def test_rest_multi_value_set_cookie_list_sets_the_cookie_r14() -> None:
    response = rest_response(
        {
            "statusCode": 200,
            "headers": {},
            "multiValueHeaders": {
                "Set-Cookie": ["api=t; Max-Age=3600; Path=/; HttpOnly"]
            },
            "body": "{}",
        }
    )
    assert response.headers == (
        ("Set-Cookie", "api=t; Max-Age=3600; Path=/; HttpOnly"),
    )
    assert response.body == b"{}"


def test_rest_status_only_gives_empty_200_6_2() -> None:
    response = rest_response({"statusCode": 200})
    assert (response.status, response.headers, response.body) == (200, (), b"")
    assert response.log_lines == ("Method completed with status: 200",)


def test_rest_headers_only_defaults_to_200_6_2() -> None:
    assert rest_response({"headers": {"a": "b"}}).status == 200


def test_rest_numeric_string_status_6_2() -> None:
    assert rest_response({"statusCode": "201"}).status == 201


def test_rest_null_headers_are_fine_6_2() -> None:
    response = rest_response({"statusCode": 204, "headers": None})
    assert response.status == 204
    assert response.problem is None


@pytest.mark.parametrize(
    ("result", "reason"),
    [
        ({"statusCode": "test"}, "statusCode 'test'"),
        ({"statusCode": 200, "wrongValue": 1}, "unknown key 'wrongValue'"),
        ({"multiValueHeaders": {"a": "not-a-list"}}, "must be lists"),
        ("justAString", "not a JSON object"),
        ({"statusCode": 200, "body": {"hey": "dude"}}, "body is an object"),
        ({"statusCode": 200, "cookies": ["a=1"]}, "cookies belong to HTTP API"),
        ({"statusCode": True}, "not a number"),
        ({"statusCode": 700}, "outside the HTTP range"),
        ({"headers": {"a": ["1", "2"]}}, "header values must be strings"),
        ({"headers": "x"}, "headers must be an object"),
        ({"isBase64Encoded": "yes"}, "isBase64Encoded is a string"),
        ({"headers": {"X": "a\r\nInjected: 1"}}, "cannot hold CR, LF or NUL"),
        ({"headers": {"bad name": "v"}}, "not a valid HTTP header name"),
        (None, "null, not a JSON object"),
    ],
)
def test_rest_malformed_result_gives_502_6_2(result: object, reason: str) -> None:
    # LAMBDA-FACTS 6.2 (LS-APIGW, KC-502) and PITFALLS: every malformed shape -> 502.
    response = rest_response(result)
    assert response.status == 502
    assert response.body == REST_ERROR_BODY == b'{"message": "Internal server error"}'
    assert response.headers == (("Content-Type", "application/json"),)
    assert response.log_lines == (
        "Execution failed due to configuration error: Malformed Lambda proxy response",
        "Method completed with status: 502",
    )
    assert response.log_lines[0] == REST_MALFORMED_LOG
    assert response.problem is not None and reason in response.problem


def test_rest_function_error_gives_502_and_customer_error_log_t46() -> None:
    error = FunctionErrorResult.from_document(
        {"errorMessage": "Handler fails", "errorType": "Exception"},
        request_id="abc-123",
    )
    response = rest_response(error)
    assert response.status == 502
    assert response.body == b'{"message": "Internal server error"}'
    assert response.log_lines[0] == (
        "Lambda execution failed with status 200 due to customer function error: "
        "Handler fails. Lambda request id: abc-123"
    )
    assert response.log_lines[1] == "Method completed with status: 502"


def test_rest_base64_without_binary_media_type_stays_encoded_6_2() -> None:
    payload = base64.b64encode(b"\x89PNG").decode()
    result = {
        "statusCode": 200,
        "headers": {"content-type": "image/png"},
        "isBase64Encoded": True,
        "body": payload,
    }
    response = rest_response(result)
    assert response.body == payload.encode()
    assert "still base64-encoded" in str(response.notes[-1])


def test_rest_base64_with_binary_media_type_is_decoded_r17() -> None:
    result = {
        "statusCode": 200,
        "headers": {"content-type": "image/png"},
        "isBase64Encoded": True,
        "body": base64.b64encode(b"\x89PNG\r\n").decode(),
    }
    assert (
        rest_response(result, binary_media_types=["image/png"]).body == b"\x89PNG\r\n"
    )
    assert rest_response(result, binary_media_types=["image/*"]).body == b"\x89PNG\r\n"
    by_accept = rest_response(
        result, binary_media_types=["*/*"], accept="text/html, */*"
    )
    assert by_accept.body == b"\x89PNG\r\n"
    not_accepted = rest_response(
        result, binary_media_types=["image/png"], accept="text/html"
    )
    assert not_accepted.body == result["body"].encode()


def test_rest_null_header_value_is_dropped_with_a_note() -> None:
    response = rest_response({"headers": {"a": None, "b": "1"}})
    assert response.headers == (("b", "1"),)
    assert response.notes[0].kind == "dropped"
    assert response.notes[0].header == "a"


# -------------------------------------------------------- HTTP API response mapping


def test_http_api_inferred_format_for_object_without_status_t49() -> None:
    response = http_api_response({"message": "hi"})
    assert response.status == 200
    assert response.headers == (("content-type", "application/json"),)
    assert response.body == b'{"message":"hi"}'
    assert response.notes[0].kind == "inferred"


def test_http_api_inferred_string_stays_that_string_6_3() -> None:
    assert http_api_response("Hello from Lambda!").body == b"Hello from Lambda!"


def test_http_api_cookies_each_become_set_cookie_r12() -> None:
    response = http_api_response(
        {
            "statusCode": 200,
            "cookies": ["s=abc; Path=/; HttpOnly", "flag=on; Path=/"],
            "body": "ok",
        }
    )
    assert response.header_values("set-cookie") == [
        "s=abc; Path=/; HttpOnly",
        "flag=on; Path=/",
    ]
    assert response.body == b"ok"


def test_http_api_ignores_multi_value_headers_so_no_cookies_r12() -> None:
    response = http_api_response(
        {"statusCode": 200, "multiValueHeaders": {"set-cookie": ["a=1", "b=2"]}}
    )
    assert response.status == 200
    assert response.header_values("set-cookie") == []
    assert [n.kind for n in response.notes] == ["dropped"]
    assert "2 value(s)" in str(response.notes[0])


def test_http_api_function_error_uses_capital_s_body_6_3() -> None:
    response = http_api_response(FunctionErrorResult("boom"))
    assert (
        response.body == HTTP_API_ERROR_BODY == b'{"message":"Internal Server Error"}'
    )
    assert (
        response.status == 500
    )  # decision: HTTP API reports integration failures as 500
    assert response.log_lines == ()


@pytest.mark.parametrize(
    "result",
    [
        {"statusCode": 200, "cookies": "a=1"},
        {"statusCode": 200, "cookies": [1]},
        {"statusCode": 200, "body": ["x"]},
        {"statusCode": "abc"},
        {"statusCode": 200, "isBase64Encoded": True, "body": "!!not base64!!"},
    ],
)
def test_http_api_invalid_result_gives_its_error(result: object) -> None:
    response = http_api_response(result)
    assert (response.status, response.body) == (500, HTTP_API_ERROR_BODY)
    assert response.problem is not None


def test_http_api_base64_body_decoded_directly_r17() -> None:
    result = {
        "statusCode": 200,
        "isBase64Encoded": True,
        "body": base64.b64encode(b"\x00\xff").decode(),
    }
    assert http_api_response(result).body == b"\x00\xff"


# -------------------------------------------------------------- ALB response mapping


def test_alb_single_value_mode_keeps_last_of_case_variant_cookies_6_4() -> None:
    response = alb_response(
        {"statusCode": 200, "headers": {"Set-Cookie": "a=1", "set-cookie": "b=2"}}
    )
    assert response.headers == (("set-cookie", "b=2"),)
    assert [str(n) for n in response.notes] == [
        "ALB single-value mode: kept the last of 2 Set-Cookie values"
    ]


def test_alb_multi_value_mode_sends_every_value_6_4() -> None:
    response = alb_response(
        {
            "statusCode": 200,
            "statusDescription": "200 OK",
            "multiValueHeaders": {
                "Set-Cookie": ["a=1", "b=2"],
                "Content-Type": ["text/plain"],
            },
            "body": "hi",
        },
        multi_value_headers=True,
    )
    assert response.headers == (
        ("Set-Cookie", "a=1"),
        ("Set-Cookie", "b=2"),
        ("Content-Type", "text/plain"),
    )
    assert response.notes == ()


def test_alb_each_mode_ignores_the_other_map_6_4() -> None:
    result = {
        "statusCode": 200,
        "headers": {"a": "1"},
        "multiValueHeaders": {"b": ["2"]},
    }
    single = alb_response(result)
    multi = alb_response(result, multi_value_headers=True)
    assert single.headers == (("a", "1"),)
    assert multi.headers == (("b", "2"),)
    assert single.notes[0].header == "b"
    assert multi.notes[0].header == "a"
    odd = alb_response({"statusCode": 200, "headers": "x"}, multi_value_headers=True)
    assert odd.status == 200
    assert str(odd.notes[0]) == (
        "ALB multi-value mode: headers ignored; this mode reads only multiValueHeaders"
    )


@pytest.mark.parametrize(
    "result",
    [
        "justAString",
        {"body": "no status"},
        {"statusCode": 200, "statusDescription": 200},
        {"statusCode": 200, "multiValueHeaders": {"a": "b"}},
        {"statusCode": 200, "body": 5},
    ],
)
def test_alb_invalid_result_gives_502_6_4(result: object) -> None:
    multi = isinstance(result, dict) and "multiValueHeaders" in result
    response = alb_response(result, multi_value_headers=multi)
    assert (response.status, response.body) == (502, ALB_ERROR_BODY)
    assert response.problem is not None


def test_alb_function_error_gives_502() -> None:
    response = alb_response(FunctionErrorResult("boom"))
    assert response.status == 502
    assert response.headers == (("Content-Type", "text/html"),)


def test_alb_base64_body_decoded_directly_r17() -> None:
    result = {
        "statusCode": 200,
        "isBase64Encoded": True,
        "body": base64.b64encode(b"\x89PNG").decode(),
    }
    assert alb_response(result).body == b"\x89PNG"


def test_alb_status_description_mismatch_is_noted() -> None:
    response = alb_response({"statusCode": 404, "statusDescription": "200 OK"})
    assert response.status == 404
    assert "does not match statusCode 404" in str(response.notes[0])


def test_map_response_dispatches_and_refuses_unknown_front_door() -> None:
    result = {"statusCode": 201}
    assert map_response("rest", result).status == 201
    assert map_response("http", result).status == 201
    assert map_response("alb", result).status == 201
    with pytest.raises(ProxyResponseError, match="front door 'nlb'"):
        map_response("nlb", result)


# ------------------------------------------------------------------------ raw HTTP


def test_raw_http_status_line_header_lines_blank_line_body() -> None:
    response = HttpResponse(201, (("A", "1"), ("A", "2")), b"body")
    assert raw_http(response) == "HTTP/1.1 201 Created\r\nA: 1\r\nA: 2\r\n\r\nbody"


@pytest.mark.parametrize(
    ("status", "line"),
    [
        (200, "HTTP/1.1 200 OK"),
        (404, "HTTP/1.1 404 Not Found"),
        (500, "HTTP/1.1 500 Internal Server Error"),
        (502, "HTTP/1.1 502 Bad Gateway"),
        (299, "HTTP/1.1 299 "),
    ],
)
def test_raw_http_reason_phrases(status: int, line: str) -> None:
    assert raw_http(HttpResponse(status)).split("\r\n")[0] == line


def test_raw_http_bytes_keep_binary_body() -> None:
    response = HttpResponse(200, (), b"\x89PNG\xff")
    assert raw_http_bytes(response) == b"HTTP/1.1 200 OK\r\n\r\n\x89PNG\xff"
    assert raw_http(response).endswith("\\xff")


def test_http_response_refuses_invalid_values() -> None:
    with pytest.raises(ProxyResponseError, match="status 42"):
        HttpResponse(42)
    with pytest.raises(ProxyResponseError, match="CR, LF or NUL"):
        HttpResponse(200, (("A", "x\ny"),))
