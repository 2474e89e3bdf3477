"""HTTP front doors of Lambda: API Gateway REST (payload 1.0), HTTP API (2.0) and ALB.

Request builders turn one ``HttpRequest`` into the exact event each front door hands
the function (LAMBDA-FACTS 6.1, 6.3, 6.4). Response mappers turn what the function
returned into the ``HttpResponse`` a client receives (6.2-6.4), with a ``WireNote`` for
every header value a front door merged, converted or dropped, for the lab's wire view.

Choices made where LAMBDA-FACTS is silent or unsure (each a deliberate lab decision):

- REST, one header name in ``headers`` and ``multiValueHeaders`` with an identical
  value: only the ``multiValueHeaders`` copy is sent (the documented rule, 6.2 and
  11.4; the AWS-recorded merge covers different values only). Names match
  case-insensitively; the merged line takes the ``multiValueHeaders`` spelling and
  follows that name's values. Distinct-case keys inside ``headers`` alone stay
  separate lines (the pre-2018 cookie trick of PITFALLS R10 worked on API Gateway).
- A header value of ``null`` is dropped (with a note); numbers are sent as their JSON
  text; lists or objects inside ``headers`` make the response malformed.
- ``statusCode``: an int, an integral float, or a string of ASCII digits, in 100-599;
  anything else (booleans included) is malformed. ``null`` counts as absent.
- Header names must be HTTP tokens and values free of CR, LF and NUL; otherwise the
  response is malformed (a front door never forwards a split header line).
- REST ``isBase64Encoded``: the body is decoded only when a ``binary_media_types``
  entry matches the first media type of the request's ``Accept`` header (API
  Gateway's rule) or, when no ``accept`` is given, the response's Content-Type (a lab
  shortcut).
- HTTP API answers its own errors with status 500 and ``{"message":"Internal Server
  Error"}``: that body is the reason phrase of 500, and HTTP API access logs show 500
  for Lambda integration failures. REST answers 502 (6.2).
- ALB: ``statusCode`` is required; unknown keys are ignored with a note; in
  single-value mode two header keys that differ only in case keep the LAST one (the
  rule 6.4 gives for repeated request values); the map of the other mode is ignored
  with a note. Its 502 body is the load balancer's HTML error page. The status line
  always uses the standard reason phrase; a ``statusDescription`` that disagrees with
  ``statusCode`` gets a note.
- The inferred 2.0 format (no ``statusCode``) sends a string result as-is and any
  other value as compact JSON text (T49); on AWS the body is the payload's bytes.
- An ``HttpResponse`` holds only the headers that come from the function, plus the
  Content-Type a front door adds to an inferred or error body. ``Date``,
  ``Content-Length``, request-id and connection headers are left out, so the wire
  view shows exactly what the function controls.
- Request events: header names group case-insensitively under the first spelling
  seen (HTTP API and ALB lowercase them); HTTP API takes ``Cookie`` headers out of
  ``headers`` and splits them into ``cookies``; ALB passes query names and values
  still URL-encoded, as the ALB guide states, and ``""`` for a missing body.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any, Literal
from urllib.parse import parse_qsl, quote

from lambdalab.errors import ProxyResponseError

Header = tuple[str, str]
JsonObject = dict[str, Any]

DEFAULT_ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"
DEFAULT_API_ID = "a1b2c3d4e5"
DEFAULT_TARGET_GROUP_ARN = (
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:"
    "targetgroup/lambda-target/0123456789abcdef"
)

REST_ERROR_BODY = b'{"message": "Internal server error"}'
HTTP_API_ERROR_BODY = b'{"message":"Internal Server Error"}'
HTTP_API_ERROR_STATUS = 500
ALB_ERROR_BODY = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"
)
REST_MALFORMED_LOG = (
    "Execution failed due to configuration error: Malformed Lambda proxy response"
)

REST_RESPONSE_KEYS = (
    "statusCode",
    "headers",
    "multiValueHeaders",
    "body",
    "isBase64Encoded",
)
HTTP_API_RESPONSE_KEYS = ("statusCode", "headers", "cookies", "body", "isBase64Encoded")
ALB_RESPONSE_KEYS = (
    "statusCode",
    "statusDescription",
    "headers",
    "multiValueHeaders",
    "body",
    "isBase64Encoded",
)

_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_DIGITS = re.compile(r"[0-9]+")
_FORBIDDEN_IN_VALUE = re.compile(r"[\r\n\x00]")


# ---------------------------------------------------------------------------
# Requests and the events built from them


def parse_query(raw_query: str) -> tuple[Header, ...]:
    """Decode a raw query string into ordered (name, value) pairs, blanks kept."""
    return tuple(parse_qsl(raw_query, keep_blank_values=True))


def encode_query(pairs: Iterable[Header]) -> str:
    """Build the query string a browser would send for decoded (name, value) pairs."""
    return "&".join(
        f"{quote(name, safe='')}={quote(value, safe='')}" for name, value in pairs
    )


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """One client request as it reaches a front door; repeated names keep every value."""

    method: str = "GET"
    path: str = "/"
    query: tuple[Header, ...] = ()
    headers: tuple[Header, ...] = ()
    body: str | bytes | None = None
    source_ip: str = "127.0.0.1"
    protocol: str = "HTTP/1.1"
    raw_query: str | None = None
    """The query string exactly as sent; ``None`` builds it from ``query``."""

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "query", tuple((str(n), str(v)) for n, v in self.query)
        )
        object.__setattr__(
            self, "headers", tuple((str(n), str(v)) for n, v in self.headers)
        )
        if not self.method or not _TOKEN.fullmatch(self.method):
            raise ProxyResponseError(
                f"HTTP method {self.method!r} is not a valid method token; use e.g. GET or POST"
            )
        if not self.path.startswith("/"):
            raise ProxyResponseError(
                f"request path {self.path!r} must start with '/'; write it as '/{self.path}'"
            )
        if self.raw_query is not None and parse_query(self.raw_query) != self.query:
            raise ProxyResponseError(
                f"raw query {self.raw_query!r} does not decode to the query pairs "
                f"{list(self.query)!r}; build the request with HttpRequest.from_target"
            )

    @classmethod
    def from_target(
        cls,
        method: str,
        target: str,
        *,
        headers: Iterable[Header] = (),
        body: str | bytes | None = None,
        source_ip: str = "127.0.0.1",
    ) -> HttpRequest:
        """Build a request from a request-target such as ``/p?x=1&x=2``."""
        path, sep, raw = target.partition("?")
        return cls(
            method=method,
            path=path or "/",
            query=parse_query(raw),
            headers=tuple(headers),
            body=body,
            source_ip=source_ip,
            raw_query=raw if sep else None,
        )

    @property
    def query_string(self) -> str:
        """The query string as the client sent it (without the ``?``)."""
        return (
            self.raw_query if self.raw_query is not None else encode_query(self.query)
        )

    def header_values(self, name: str) -> list[str]:
        """Every value of one header, in order; names compare case-insensitively."""
        folded = name.lower()
        return [value for key, value in self.headers if key.lower() == folded]


def _group(
    pairs: Iterable[Header], *, lowercase: bool, fold_case: bool
) -> dict[str, list[str]]:
    """Group repeated names in order; ``fold_case`` keys them by the first spelling seen."""
    groups: dict[str, list[str]] = {}
    spelling: dict[str, str] = {}
    for name, value in pairs:
        if lowercase:
            name = name.lower()
        key = name.lower() if fold_case else name
        groups.setdefault(spelling.setdefault(key, name), []).append(value)
    return groups


def _last_values(groups: Mapping[str, list[str]]) -> dict[str, str]:
    return {name: values[-1] for name, values in groups.items()}


def _comma_joined(groups: Mapping[str, list[str]]) -> dict[str, str]:
    return {name: ",".join(values) for name, values in groups.items()}


def _event_body(body: str | bytes | None) -> tuple[str | None, bool]:
    if isinstance(body, bytes):
        return base64.b64encode(body).decode("ascii"), True
    return body, False


def _clf_time(time_ms: int) -> str:
    """Format epoch milliseconds the way API Gateway writes requestTime."""
    return datetime.fromtimestamp(time_ms / 1000, tz=UTC).strftime(
        "%d/%b/%Y:%H:%M:%S +0000"
    )


def rest_event(
    request: HttpRequest,
    *,
    request_id: str,
    time_ms: int,
    resource: str | None = None,
    path_parameters: Mapping[str, str] | None = None,
    stage: str = "prod",
    stage_variables: Mapping[str, str] | None = None,
    api_id: str = DEFAULT_API_ID,
    account_id: str = DEFAULT_ACCOUNT_ID,
) -> JsonObject:
    """Build the REST API Lambda proxy event (payload 1.0) for one request (6.1)."""
    headers = _group(request.headers, lowercase=False, fold_case=True)
    query = _group(request.query, lowercase=False, fold_case=False)
    user_agent = request.header_values("user-agent")
    body, is_base64 = _event_body(request.body)
    resource_path = request.path if resource is None else resource
    return {
        "resource": resource_path,
        "path": request.path,
        "httpMethod": request.method,
        "headers": _last_values(headers) if headers else None,
        "multiValueHeaders": headers if headers else None,
        "queryStringParameters": _last_values(query) if query else None,
        "multiValueQueryStringParameters": query if query else None,
        "requestContext": {
            "accountId": account_id,
            "apiId": api_id,
            "httpMethod": request.method,
            "identity": {
                "sourceIp": request.source_ip,
                "userAgent": user_agent[-1] if user_agent else None,
            },
            "path": f"/{stage}{request.path}",
            "protocol": request.protocol,
            "requestId": request_id,
            "requestTime": _clf_time(time_ms),
            "requestTimeEpoch": time_ms,
            "resourcePath": resource_path,
            "stage": stage,
        },
        "pathParameters": dict(path_parameters) if path_parameters else None,
        "stageVariables": dict(stage_variables) if stage_variables else None,
        "body": body,
        "isBase64Encoded": is_base64,
    }


def split_cookies(cookie_headers: Iterable[str]) -> list[str]:
    """Split ``Cookie`` header values into one entry per cookie, as HTTP API does (R15)."""
    return [
        part.strip()
        for value in cookie_headers
        for part in value.split(";")
        if part.strip()
    ]


def http_api_event(
    request: HttpRequest,
    *,
    request_id: str,
    time_ms: int,
    route_key: str = "$default",
    stage: str = "$default",
    path_parameters: Mapping[str, str] | None = None,
    stage_variables: Mapping[str, str] | None = None,
    api_id: str = DEFAULT_API_ID,
    account_id: str = DEFAULT_ACCOUNT_ID,
    region: str = DEFAULT_REGION,
) -> JsonObject:
    """Build the HTTP API event (payload 2.0) for one request (6.3, T48)."""
    cookies = split_cookies(request.header_values("cookie"))
    others = [(n, v) for n, v in request.headers if n.lower() != "cookie"]
    headers = _comma_joined(_group(others, lowercase=True, fold_case=True))
    query = _comma_joined(_group(request.query, lowercase=False, fold_case=False))
    user_agent = request.header_values("user-agent")
    body, is_base64 = _event_body(request.body)
    event: JsonObject = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": request.path,
        "rawQueryString": request.query_string,
    }
    if cookies:
        event["cookies"] = cookies
    if headers:
        event["headers"] = headers
    if query:
        event["queryStringParameters"] = query
    event["requestContext"] = {
        "accountId": account_id,
        "apiId": api_id,
        "domainName": f"{api_id}.execute-api.{region}.amazonaws.com",
        "domainPrefix": api_id,
        "http": {
            "method": request.method,
            "path": request.path,
            "protocol": request.protocol,
            "sourceIp": request.source_ip,
            "userAgent": user_agent[-1] if user_agent else "",
        },
        "requestId": request_id,
        "routeKey": route_key,
        "stage": stage,
        "time": _clf_time(time_ms),
        "timeEpoch": time_ms,
    }
    if body is not None:
        event["body"] = body
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    event["isBase64Encoded"] = is_base64
    if stage_variables:
        event["stageVariables"] = dict(stage_variables)
    return event


def _undecoded_query(request: HttpRequest) -> list[Header]:
    """Query pairs exactly as sent: ALB does not URL-decode names or values."""
    pairs: list[Header] = []
    for part in request.query_string.split("&"):
        if part:
            name, _, value = part.partition("=")
            pairs.append((name, value))
    return pairs


def alb_event(
    request: HttpRequest,
    *,
    multi_value_headers: bool = False,
    target_group_arn: str = DEFAULT_TARGET_GROUP_ARN,
) -> JsonObject:
    """Build the ALB target-group event, single- or multi-value mode (6.4, T50)."""
    headers = _group(request.headers, lowercase=True, fold_case=True)
    query = _group(_undecoded_query(request), lowercase=False, fold_case=False)
    body, is_base64 = _event_body(request.body)
    event: JsonObject = {
        "requestContext": {"elb": {"targetGroupArn": target_group_arn}},
        "httpMethod": request.method,
        "path": request.path,
    }
    if multi_value_headers:
        event["multiValueQueryStringParameters"] = query
        event["multiValueHeaders"] = headers
    else:
        event["queryStringParameters"] = _last_values(query)
        event["headers"] = _last_values(headers)
    event["body"] = "" if body is None else body
    event["isBase64Encoded"] = is_base64
    return event


# ---------------------------------------------------------------------------
# Responses


NoteKind = Literal["merged", "dropped", "converted", "inferred", "body"]


@dataclass(frozen=True, slots=True)
class WireNote:
    """One thing a front door did to the function's headers or body on the way out."""

    kind: NoteKind
    text: str
    header: str | None = None
    """The header name concerned, so the wire view can highlight its lines."""

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class FunctionErrorResult:
    """A failed invocation as a front door sees it: status 200 with X-Amz-Function-Error."""

    error_message: str
    error_type: str = ""
    request_id: str = ""
    function_error: str = "Unhandled"

    @classmethod
    def from_document(
        cls, document: object, *, request_id: str, function_error: str = "Unhandled"
    ) -> FunctionErrorResult:
        """Read Lambda's error document (``errorMessage``, ``errorType``) leniently."""
        message = error_type = ""
        if isinstance(document, Mapping):
            message = str(document.get("errorMessage", ""))
            error_type = str(document.get("errorType", ""))
        elif document is not None:
            message = str(document)
        return cls(message, error_type, request_id, function_error)


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """What a client receives: status, one header line per value, body bytes."""

    status: int
    headers: tuple[Header, ...] = ()
    body: bytes = b""
    notes: tuple[WireNote, ...] = ()
    log_lines: tuple[str, ...] = ()
    """API Gateway execution-log lines for this response (REST only)."""
    problem: str | None = None
    """Why the front door answered with its own error; ``None`` when it did not."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "headers", tuple(self.headers))
        if type(self.status) is not int or not 100 <= self.status <= 599:
            raise ProxyResponseError(
                f"status {self.status!r} is not an HTTP status 100-599"
            )
        for name, value in self.headers:
            _check_header_line(name, value, "response header")
        if not isinstance(self.body, bytes):
            raise ProxyResponseError(
                f"response body must be bytes, got {type(self.body).__name__}"
            )

    @property
    def reason(self) -> str:
        """The standard reason phrase for the status, or ``""`` for an unregistered code."""
        try:
            return HTTPStatus(self.status).phrase
        except ValueError:
            return ""

    def header_values(self, name: str) -> list[str]:
        """Every value sent for one header name, compared case-insensitively."""
        folded = name.lower()
        return [value for key, value in self.headers if key.lower() == folded]


def raw_http_bytes(response: HttpResponse) -> bytes:
    """Render the response as HTTP/1.1 bytes: status line, header lines, CRLF, body."""
    lines = [f"HTTP/1.1 {response.status} {response.reason}"]
    lines.extend(f"{name}: {value}" for name, value in response.headers)
    head = "\r\n".join(lines) + "\r\n\r\n"
    return head.encode("utf-8") + response.body


def raw_http(response: HttpResponse) -> str:
    """The raw HTTP/1.1 response as text; bytes that are not UTF-8 appear as ``\\xNN``."""
    return raw_http_bytes(response).decode("utf-8", errors="backslashreplace")


# -- validation helpers shared by the three mappers --------------------------


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"a Python {type(value).__name__}"


def _check_json(value: object) -> None:
    """Refuse anything Lambda could not have returned as JSON (NaN, sets, non-str keys)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if item is None or isinstance(item, bool | int | str):
            continue
        if isinstance(item, float):
            if not math.isfinite(item):
                raise ProxyResponseError(
                    f"the result holds {item!r}, which is not valid JSON"
                )
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            for key, child in item.items():
                if not isinstance(key, str):
                    raise ProxyResponseError(f"the result has a non-string key {key!r}")
                stack.append(child)
        else:
            raise ProxyResponseError(
                f"the result holds {_kind(item)}, which is not JSON"
            )


def _check_header_line(name: str, value: str, where: str) -> None:
    if not isinstance(name, str) or not _TOKEN.fullmatch(name):
        raise ProxyResponseError(
            f"{where} name {name!r} is not a valid HTTP header name"
        )
    if not isinstance(value, str) or _FORBIDDEN_IN_VALUE.search(value):
        raise ProxyResponseError(
            f"{where} {name!r} has value {value!r}; header values cannot hold CR, LF or NUL"
        )


def _status_code(raw: object, *, required: bool) -> int:
    if raw is None:
        if required:
            raise ProxyResponseError("statusCode is missing")
        return 200
    code: int | None = None
    if isinstance(raw, bool):
        code = None
    elif isinstance(raw, int):
        code = raw
    elif isinstance(raw, float) and raw.is_integer():
        code = int(raw)
    elif isinstance(raw, str) and _DIGITS.fullmatch(raw):
        code = int(raw)
    if code is None:
        raise ProxyResponseError(
            f"statusCode {raw!r} is {_kind(raw)}, not a number or a numeric string"
        )
    if not 100 <= code <= 599:
        raise ProxyResponseError(f"statusCode {code} is outside the HTTP range 100-599")
    return code


def _header_text(
    value: object, where: str, name: str, notes: list[WireNote], door: str
) -> str | None:
    """A header value as sent: strings as-is, booleans and numbers as JSON text."""
    if isinstance(value, str):
        return value
    if value is None:
        notes.append(
            WireNote("dropped", f"{door}: {where} is null and was not sent", name)
        )
        return None
    if isinstance(value, bool | int | float):
        text = json.dumps(value)
        notes.append(
            WireNote(
                "converted",
                f"{door}: {where} = {text} ({_kind(value)}) sent as the string '{text}'",
                name,
            )
        )
        return text
    raise ProxyResponseError(
        f"{where} is {_kind(value)}; header values must be strings"
    )


def _object_or_none(raw: object, key: str) -> dict[str, object]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ProxyResponseError(f"{key} must be an object, got {_kind(raw)}")
    return raw


def _single_headers(
    raw: object, key: str, notes: list[WireNote], door: str
) -> list[Header]:
    lines: list[Header] = []
    for name, value in _object_or_none(raw, key).items():
        text = _header_text(value, f"{key}[{name!r}]", name, notes, door)
        if text is not None:
            _check_header_line(name, text, f"{key}[{name!r}]")
            lines.append((name, text))
    return lines


def _multi_headers(
    raw: object, key: str, notes: list[WireNote], door: str
) -> list[tuple[str, list[str]]]:
    groups: list[tuple[str, list[str]]] = []
    for name, values in _object_or_none(raw, key).items():
        if not isinstance(values, list):
            raise ProxyResponseError(
                f"{key}[{name!r}] is {_kind(values)}; multiValueHeaders values must be lists"
            )
        texts: list[str] = []
        for index, value in enumerate(values):
            text = _header_text(value, f"{key}[{name!r}][{index}]", name, notes, door)
            if text is not None:
                _check_header_line(name, text, f"{key}[{name!r}]")
                texts.append(text)
        groups.append((name, texts))
    return groups


def _body_text(raw: object) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise ProxyResponseError(
            f"body is {_kind(raw)}; it must be a string (json.dumps a JSON body)"
        )
    return raw


def _base64_flag(raw: object) -> bool:
    if raw is None:
        return False
    if not isinstance(raw, bool):
        raise ProxyResponseError(
            f"isBase64Encoded is {_kind(raw)}; it must be true or false"
        )
    return raw


def _b64decode(text: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise ProxyResponseError(
            "isBase64Encoded is true but body is not valid base64"
        ) from None


def _decoded_body(value: Mapping[str, object]) -> bytes:
    """The body bytes of an HTTP API or ALB response: base64 is always decoded."""
    text = _body_text(value.get("body"))
    if _base64_flag(value.get("isBase64Encoded")):
        return _b64decode(text)
    return text.encode("utf-8")


def _first_value(lines: Sequence[Header], name: str) -> str | None:
    folded = name.lower()
    return next((value for key, value in lines if key.lower() == folded), None)


def _media_type_matches(pattern: str, media_type: str) -> bool:
    want = pattern.split(";")[0].strip().lower()
    have = media_type.split(";")[0].strip().lower()
    if want in ("*/*", have):
        return True
    return want.endswith("/*") and have.startswith(want[:-1])


# -- REST API (payload 1.0) ---------------------------------------------------


def _rest_error(problem: str, log_line: str) -> HttpResponse:
    return HttpResponse(
        status=502,
        headers=(("Content-Type", "application/json"),),
        body=REST_ERROR_BODY,
        log_lines=(log_line, "Method completed with status: 502"),
        problem=problem,
    )


def _rest_merge(
    single: list[Header], multi: list[tuple[str, list[str]]], notes: list[WireNote]
) -> list[Header]:
    """Merge the two maps the way AWS was recorded doing it (6.2): multi values first."""
    groups = [(name, list(values)) for name, values in multi]
    originals = {index: set(values) for index, (_, values) in enumerate(multi)}
    for name, value in single:
        match = next(
            (i for i, (m, _) in enumerate(multi) if m.lower() == name.lower()), None
        )
        if match is None:
            groups.append((name, [value]))
            continue
        multi_name, values = groups[match]
        if value in originals[match]:
            notes.append(
                WireNote(
                    "dropped",
                    f"REST: headers[{name!r}] = {value!r} repeats a multiValueHeaders "
                    f"value; only the multiValueHeaders copy is sent",
                    multi_name,
                )
            )
            continue
        values.append(value)
        notes.append(
            WireNote(
                "merged",
                f"REST: headers[{name!r}] merged after multiValueHeaders[{multi_name!r}]"
                + (f"; sent as {multi_name!r}" if multi_name != name else ""),
                multi_name,
            )
        )
    return [(name, value) for name, values in groups for value in values]


def rest_response(
    outcome: object,
    *,
    binary_media_types: Sequence[str] = (),
    accept: str | None = None,
) -> HttpResponse:
    """Map a REST API Lambda proxy result (or a function error) to what the client gets.

    ``outcome`` is the handler's decoded return value or a ``FunctionErrorResult``.
    Malformed results never raise: they become the 502 API Gateway sends, with the
    reason in ``problem`` and the execution-log lines in ``log_lines``.
    """
    if isinstance(outcome, FunctionErrorResult):
        return _rest_error(
            f"the function failed ({outcome.function_error}): {outcome.error_message}",
            "Lambda execution failed with status 200 due to customer function error: "
            f"{outcome.error_message}. Lambda request id: {outcome.request_id}",
        )
    try:
        return _map_rest(outcome, binary_media_types, accept)
    except ProxyResponseError as exc:
        return _rest_error(
            f"malformed Lambda proxy response: {exc}", REST_MALFORMED_LOG
        )


def _map_rest(
    value: object, binary_media_types: Sequence[str], accept: str | None
) -> HttpResponse:
    notes: list[WireNote] = []
    _check_json(value)
    if not isinstance(value, dict):
        raise ProxyResponseError(f"the result is {_kind(value)}, not a JSON object")
    for key in value:
        if key not in REST_RESPONSE_KEYS:
            hint = (
                "; cookies belong to HTTP API payload 2.0, use multiValueHeaders "
                "{'Set-Cookie': [...]} in REST"
                if key == "cookies"
                else f"; allowed keys are {', '.join(REST_RESPONSE_KEYS)}"
            )
            raise ProxyResponseError(f"unknown key {key!r}{hint}")
    status = _status_code(value.get("statusCode"), required=False)
    single = _single_headers(value.get("headers"), "headers", notes, "REST")
    multi = _multi_headers(
        value.get("multiValueHeaders"), "multiValueHeaders", notes, "REST"
    )
    text = _body_text(value.get("body"))
    encoded = _base64_flag(value.get("isBase64Encoded"))
    lines = _rest_merge(single, multi, notes)
    body = text.encode("utf-8")
    if encoded:
        media_type = (
            accept.split(",")[0] if accept is not None else None
        ) or _first_value(lines, "content-type")
        matched = media_type is not None and any(
            _media_type_matches(pattern, media_type) for pattern in binary_media_types
        )
        if matched:
            body = _b64decode(text)
            notes.append(
                WireNote(
                    "body", f"REST: body base64-decoded ({media_type} is a binary type)"
                )
            )
        else:
            notes.append(
                WireNote(
                    "body",
                    "REST: isBase64Encoded is true but no binary media type matches "
                    f"{media_type or 'the response'}; the body is sent still base64-encoded",
                )
            )
    return HttpResponse(
        status=status,
        headers=tuple(lines),
        body=body,
        notes=tuple(notes),
        log_lines=(f"Method completed with status: {status}",),
    )


# -- HTTP API (payload 2.0) ---------------------------------------------------


def _http_api_error(problem: str) -> HttpResponse:
    return HttpResponse(
        status=HTTP_API_ERROR_STATUS,
        headers=(("content-type", "application/json"),),
        body=HTTP_API_ERROR_BODY,
        problem=problem,
    )


def http_api_response(outcome: object) -> HttpResponse:
    """Map an HTTP API payload 2.0 result (or a function error) to what the client gets.

    A result without ``statusCode`` uses the inferred format (T49). Invalid results
    become HTTP API's own 500 error, with the reason in ``problem``.
    """
    if isinstance(outcome, FunctionErrorResult):
        return _http_api_error(
            f"the function failed ({outcome.function_error}): {outcome.error_message}"
        )
    try:
        return _map_http_api(outcome)
    except ProxyResponseError as exc:
        return _http_api_error(f"invalid payload 2.0 response: {exc}")


def _map_http_api(value: object) -> HttpResponse:
    notes: list[WireNote] = []
    _check_json(value)
    if not isinstance(value, dict) or value.get("statusCode") is None:
        text = (
            value
            if isinstance(value, str)
            else json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        )
        notes.append(
            WireNote(
                "inferred",
                "HTTP API: no statusCode, so the whole result is the body "
                "(status 200, content-type application/json)",
                "content-type",
            )
        )
        return HttpResponse(
            status=200,
            headers=(("content-type", "application/json"),),
            body=text.encode("utf-8"),
            notes=tuple(notes),
        )
    status = _status_code(value["statusCode"], required=True)
    for key, extra in value.items():
        if key in HTTP_API_RESPONSE_KEYS:
            continue
        if key == "multiValueHeaders" and isinstance(extra, dict):
            for name, values in extra.items():
                count = len(values) if isinstance(values, list) else 1
                notes.append(
                    WireNote(
                        "dropped",
                        f"HTTP API: multiValueHeaders[{name!r}] ignored ({count} value(s));"
                        " payload 2.0 has no multiValueHeaders, use headers or cookies",
                        name,
                    )
                )
        else:
            notes.append(WireNote("dropped", f"HTTP API: unknown key {key!r} ignored"))
    lines = _single_headers(value.get("headers"), "headers", notes, "HTTP API")
    cookies = value.get("cookies")
    if cookies is not None:
        if not isinstance(cookies, list):
            raise ProxyResponseError(f"cookies is {_kind(cookies)}; it must be a list")
        for index, cookie in enumerate(cookies):
            if not isinstance(cookie, str):
                raise ProxyResponseError(
                    f"cookies[{index}] is {_kind(cookie)}, not a string"
                )
            _check_header_line("set-cookie", cookie, f"cookies[{index}]")
            lines.append(("set-cookie", cookie))
    body = _decoded_body(value)
    return HttpResponse(
        status=status, headers=tuple(lines), body=body, notes=tuple(notes)
    )


# -- Application Load Balancer -------------------------------------------------


def _alb_error(problem: str) -> HttpResponse:
    return HttpResponse(
        status=502,
        headers=(("Content-Type", "text/html"),),
        body=ALB_ERROR_BODY,
        problem=problem,
    )


def alb_response(outcome: object, *, multi_value_headers: bool = False) -> HttpResponse:
    """Map an ALB Lambda target result (or a function error) to what the client gets.

    ``multi_value_headers`` is the target group's ``lambda.multi_value_headers.enabled``.
    Invalid results become the load balancer's 502, with the reason in ``problem``.
    """
    if isinstance(outcome, FunctionErrorResult):
        return _alb_error(
            f"the function failed ({outcome.function_error}): {outcome.error_message}"
        )
    try:
        return _map_alb(outcome, multi_value_headers)
    except ProxyResponseError as exc:
        return _alb_error(f"invalid ALB Lambda response: {exc}")


def _ignored_map(raw: object, key: str, mode: str, notes: list[WireNote]) -> None:
    """Note every entry of the header map this ALB mode does not read."""
    if raw is None:
        return
    reads = "multiValueHeaders" if key == "headers" else "headers"
    names: list[str | None] = list(raw) if isinstance(raw, dict) else [None]
    for name in names:
        where = key if name is None else f"{key}[{name!r}]"
        notes.append(
            WireNote(
                "dropped",
                f"ALB {mode} mode: {where} ignored; this mode reads only {reads}",
                name,
            )
        )


def _alb_single(lines: list[Header], notes: list[WireNote]) -> list[Header]:
    """Keep one line per header name, the last one, like ALB's single-value mode."""
    groups = _group(lines, lowercase=False, fold_case=True)
    kept: dict[str, Header] = {}
    for name, value in lines:
        kept.pop(name.lower(), None)
        kept[name.lower()] = (name, value)
    for first, values in groups.items():
        if len(values) > 1:
            notes.append(
                WireNote(
                    "dropped",
                    f"ALB single-value mode: kept the last of {len(values)} {first} values",
                    first,
                )
            )
    return list(kept.values())


def _map_alb(value: object, multi_mode: bool) -> HttpResponse:
    notes: list[WireNote] = []
    _check_json(value)
    if not isinstance(value, dict):
        raise ProxyResponseError(f"the result is {_kind(value)}, not a JSON object")
    for key in value:
        if key not in ALB_RESPONSE_KEYS:
            notes.append(WireNote("dropped", f"ALB: unknown key {key!r} ignored"))
    status = _status_code(value.get("statusCode"), required=True)
    description = value.get("statusDescription")
    if description is not None and not isinstance(description, str):
        raise ProxyResponseError(
            f"statusDescription is {_kind(description)}, not a string"
        )
    if isinstance(description, str) and not description.startswith(f"{status} "):
        notes.append(
            WireNote(
                "dropped",
                f"ALB: statusDescription {description!r} does not match statusCode "
                f"{status}; the status line follows statusCode",
            )
        )
    if multi_mode:
        _ignored_map(value.get("headers"), "headers", "multi-value", notes)
        groups = _multi_headers(
            value.get("multiValueHeaders"), "multiValueHeaders", notes, "ALB"
        )
        lines = [(name, v) for name, values in groups for v in values]
    else:
        _ignored_map(
            value.get("multiValueHeaders"), "multiValueHeaders", "single-value", notes
        )
        single = _single_headers(value.get("headers"), "headers", notes, "ALB")
        lines = _alb_single(single, notes)
    body = _decoded_body(value)
    return HttpResponse(
        status=status, headers=tuple(lines), body=body, notes=tuple(notes)
    )


API_NAMES = ("rest", "http", "alb")
"""The front doors ``map_response`` knows, by their CLI names."""


def map_response(
    api: str,
    outcome: object,
    *,
    multi_value_headers: bool = False,
    binary_media_types: Sequence[str] = (),
    accept: str | None = None,
) -> HttpResponse:
    """Dispatch to the mapper of one front door: ``rest``, ``http`` or ``alb``."""
    if api == "rest":
        return rest_response(
            outcome, binary_media_types=binary_media_types, accept=accept
        )
    if api == "http":
        return http_api_response(outcome)
    if api == "alb":
        return alb_response(outcome, multi_value_headers=multi_value_headers)
    raise ProxyResponseError(
        f"front door {api!r} is unknown; use one of {', '.join(API_NAMES)}"
    )
