"""Sample event builders: byte-stable defaults, S3 key encoding, schedule shape."""

from __future__ import annotations

import json
from urllib.parse import unquote_plus

import pytest

from lambdalab.errors import ConfigError
from lambdalab.triggers.events import (
    parse_header,
    parse_time,
    sample_alb_event,
    sample_apigateway_event,
    sample_apigateway_v2_event,
    sample_request,
    sample_s3_event,
    scheduled_event,
)


def test_s3_sample_defaults_follow_the_7_1_record() -> None:
    (record,) = sample_s3_event()["Records"]
    assert record["eventVersion"] == "2.1"
    assert record["eventTime"] == "1970-01-01T00:00:00.000Z"  # LAMBDA-FACTS 7.1 sample
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["awsRegion"] == "us-east-1"
    assert record["s3"]["configurationId"] == "testConfigRule"
    assert record["s3"]["object"] == {
        "key": "HappyFace.jpg",
        "size": 1024,
        "eTag": "d41d8cd98f00b204e9800998ecf8427e",
        "sequencer": "0055AED6DCD90281E5",
    }


def test_s3_sample_encodes_the_key_like_s3_r38() -> None:
    (record,) = sample_s3_event(key="data/dt=2024-05-04/_SUCCESS")["Records"]
    assert record["s3"]["object"]["key"] == "data/dt%3D2024-05-04/_SUCCESS"
    assert unquote_plus(record["s3"]["object"]["key"]) == "data/dt=2024-05-04/_SUCCESS"


def test_s3_sample_options() -> None:
    event = sample_s3_event(
        bucket="example-bucket",
        key="red flower.jpg",
        event_name="s3:ObjectCreated:Copy",
        size=7,
        region="eu-west-1",
        time_ms=parse_time("2025-01-01T08:00:00.250Z"),
    )
    (record,) = event["Records"]
    assert record["eventName"] == "ObjectCreated:Copy"
    assert record["awsRegion"] == "eu-west-1"
    assert record["eventTime"] == "2025-01-01T08:00:00.250Z"
    assert record["s3"]["bucket"]["arn"] == "arn:aws:s3:::example-bucket"
    assert record["s3"]["object"]["key"] == "red+flower.jpg"  # LAMBDA-FACTS T51
    assert record["s3"]["object"]["size"] == 7


def test_s3_sample_removal_has_no_size_or_etag() -> None:
    (record,) = sample_s3_event(event_name="ObjectRemoved:Delete")["Records"]
    assert list(record["s3"]["object"]) == ["key", "sequencer"]


def test_s3_sample_refuses_unknown_event_names() -> None:
    with pytest.raises(ConfigError, match="'ObjectCreated:Upload' is not one S3 sends"):
        sample_s3_event(event_name="ObjectCreated:Upload")


def test_scheduled_event_shape_5_1() -> None:
    event = scheduled_event(rule="nightly", time_ms=parse_time("2025-01-01T08:00:00Z"))
    assert event == {
        "version": "0",
        "id": "c0ffee00-0000-4000-8000-000000000002",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2025-01-01T08:00:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/nightly"],
        "detail": {},
    }


def test_http_samples_use_the_front_door_builders_t47_t48_t50() -> None:
    request = sample_request(path="/p", query="x=1&x=2&x=3")
    rest = sample_apigateway_event(request)
    assert rest["queryStringParameters"] == {"x": "3"}
    assert rest["multiValueQueryStringParameters"] == {"x": ["1", "2", "3"]}
    assert sample_apigateway_v2_event(request)["queryStringParameters"] == {
        "x": "1,2,3"
    }
    alb = sample_alb_event(request, multi_value_headers=True)
    assert alb["multiValueQueryStringParameters"] == {"x": ["1", "2", "3"]}
    assert sample_apigateway_event()["path"] == "/"


def test_samples_are_byte_stable() -> None:
    builders = (
        sample_apigateway_event,
        sample_apigateway_v2_event,
        sample_alb_event,
        sample_s3_event,
        scheduled_event,
    )
    for build in builders:
        assert json.dumps(build(), indent=2) == json.dumps(build(), indent=2)
    assert sample_apigateway_event()["requestContext"]["requestTimeEpoch"] == 0


def test_parse_time_and_header() -> None:
    assert parse_time("1970-01-01T00:00:00Z") == 0
    assert parse_time("1970-01-01T00:00:01.5") == 1500
    assert parse_time("1970-01-01T01:00:00+01:00") == 0
    with pytest.raises(ConfigError, match="'yesterday' is not ISO-8601"):
        parse_time("yesterday")
    assert parse_header("Accept:  text/html ") == ("Accept", "text/html")
    assert parse_header("X-Empty:") == ("X-Empty", "")
    with pytest.raises(ConfigError, match="'Name: value'"):
        parse_header("no colon")
