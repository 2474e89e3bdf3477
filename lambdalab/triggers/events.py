"""Sample event documents, like ``sam local generate-event``, but byte-stable.

Every id and time has a fixed default (account 123456789012, region us-east-1, times
at the epoch) so the same arguments always give the same document. The HTTP events
come from the builders in ``triggers.http`` and the S3 record from ``triggers.s3``, so
a sample is exactly what the simulated front door or bucket would send.

S3 keys are form-encoded as S3 does it (PITFALLS R38): handlers must decode them with
``urllib.parse.unquote_plus``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from lambdalab.errors import ConfigError
from lambdalab.triggers import s3
from lambdalab.triggers.http import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_API_ID,
    DEFAULT_REGION,
    DEFAULT_TARGET_GROUP_ARN,
    Header,
    HttpRequest,
    JsonObject,
    alb_event,
    http_api_event,
    rest_event,
)

SAMPLE_REQUEST_ID = "c0ffee00-0000-4000-8000-000000000001"
SAMPLE_EVENT_ID = "c0ffee00-0000-4000-8000-000000000002"
SAMPLE_TIME_MS = 0
SAMPLE_BUCKET = "example-bucket"
SAMPLE_KEY = "HappyFace.jpg"
SAMPLE_SIZE = 1024
SAMPLE_ETAG = "d41d8cd98f00b204e9800998ecf8427e"
SAMPLE_SEQUENCER = "0055AED6DCD90281E5"
SAMPLE_CONFIGURATION_ID = "testConfigRule"
SAMPLE_RULE = "demo-schedule"

EVENT_KINDS = ("apigateway", "apigateway-v2", "alb", "s3", "schedule")
"""The sample kinds ``lambdalab event`` prints."""


def parse_time(text: str) -> int:
    """Read an ISO-8601 instant (``1970-01-01T00:00:00Z``) as epoch ms; naive means UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            f"time {text!r} is not ISO-8601; write it like 2025-01-01T08:00:00Z"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return delta.days * 86_400_000 + delta.seconds * 1000 + delta.microseconds // 1000


def parse_header(text: str) -> Header:
    """Read one ``Name: value`` header line."""
    name, sep, value = text.partition(":")
    if not sep or not name.strip() or name != name.strip():
        raise ConfigError(
            f"header {text!r} is not of the form 'Name: value'; e.g. 'Accept: text/html'"
        )
    return name, value.strip()


def sample_request(
    method: str = "GET",
    path: str = "/",
    query: str = "",
    headers: Iterable[Header] = (),
    body: str | bytes | None = None,
) -> HttpRequest:
    """A request from the pieces a learner types: method, path, raw query, headers."""
    target = f"{path}?{query}" if query else path
    return HttpRequest.from_target(method, target, headers=headers, body=body)


def sample_apigateway_event(
    request: HttpRequest | None = None,
    *,
    request_id: str = SAMPLE_REQUEST_ID,
    time_ms: int = SAMPLE_TIME_MS,
    stage: str = "prod",
    api_id: str = DEFAULT_API_ID,
    account_id: str = DEFAULT_ACCOUNT_ID,
) -> JsonObject:
    """A REST API proxy event (payload 1.0) for a request, default ``GET /``."""
    return rest_event(
        request or sample_request(),
        request_id=request_id,
        time_ms=time_ms,
        stage=stage,
        api_id=api_id,
        account_id=account_id,
    )


def sample_apigateway_v2_event(
    request: HttpRequest | None = None,
    *,
    request_id: str = SAMPLE_REQUEST_ID,
    time_ms: int = SAMPLE_TIME_MS,
    route_key: str = "$default",
    api_id: str = DEFAULT_API_ID,
    account_id: str = DEFAULT_ACCOUNT_ID,
    region: str = DEFAULT_REGION,
) -> JsonObject:
    """An HTTP API event (payload 2.0) for a request, default ``GET /``."""
    return http_api_event(
        request or sample_request(),
        request_id=request_id,
        time_ms=time_ms,
        route_key=route_key,
        api_id=api_id,
        account_id=account_id,
        region=region,
    )


def sample_alb_event(
    request: HttpRequest | None = None,
    *,
    multi_value_headers: bool = False,
    target_group_arn: str = DEFAULT_TARGET_GROUP_ARN,
) -> JsonObject:
    """An ALB target-group event for a request, default ``GET /``."""
    return alb_event(
        request or sample_request(),
        multi_value_headers=multi_value_headers,
        target_group_arn=target_group_arn,
    )


def sample_s3_event(
    *,
    bucket: str = SAMPLE_BUCKET,
    key: str = SAMPLE_KEY,
    event_name: str = "ObjectCreated:Put",
    size: int = SAMPLE_SIZE,
    etag: str = SAMPLE_ETAG,
    sequencer: str = SAMPLE_SEQUENCER,
    configuration_id: str = SAMPLE_CONFIGURATION_ID,
    region: str = DEFAULT_REGION,
    time_ms: int = SAMPLE_TIME_MS,
) -> JsonObject:
    """An S3 notification event with one record (7.1); ``key`` is the raw object key.

    Removal events carry no size or ETag, as S3 sends none for them.
    """
    name = s3.normalize_event_name(event_name)
    removed = name.startswith(("ObjectRemoved:", "LifecycleExpiration:"))
    if size < 0:
        raise ConfigError(f"object size {size} cannot be negative")
    record = s3.s3_record(
        bucket=bucket,
        key=key,
        event_name=name,
        time_ms=time_ms,
        sequencer=sequencer,
        configuration_id=configuration_id,
        size=None if removed else size,
        etag=None if removed else etag,
        region=region,
    )
    return {"Records": [record]}


def scheduled_event(
    *,
    rule: str = SAMPLE_RULE,
    time_ms: int = SAMPLE_TIME_MS,
    event_id: str = SAMPLE_EVENT_ID,
    account_id: str = DEFAULT_ACCOUNT_ID,
    region: str = DEFAULT_REGION,
) -> JsonObject:
    """The event an EventBridge scheduled rule delivers (LAMBDA-FACTS 5.1)."""
    moment = datetime.fromtimestamp(time_ms // 1000, tz=UTC)
    return {
        "version": "0",
        "id": event_id,
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account_id,
        "time": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:{account_id}:rule/{rule}"],
        "detail": {},
    }
