"""``lambdalab event``: sample events as indented, byte-stable JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lambdalab.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[str, dict[str, Any]]:
    assert main(["event", *argv]) == 0
    out = capsys.readouterr().out
    return out, json.loads(out)


def test_output_is_indented_and_byte_stable(capsys: pytest.CaptureFixture[str]) -> None:
    for kind in ("apigateway", "apigateway-v2", "alb", "s3", "schedule"):
        first, _ = run(capsys, kind)
        second, document = run(capsys, kind)
        assert first == second
        assert first == json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def test_s3_key_is_form_encoded_r35_r38(capsys: pytest.CaptureFixture[str]) -> None:
    _, event = run(capsys, "s3", "--key", "reports/Q1 summary (final).csv")
    record = event["Records"][0]
    assert record["s3"]["object"]["key"] == "reports/Q1+summary+%28final%29.csv"
    _, event = run(capsys, "s3", "--key", "data/dt=2024-05-04/_SUCCESS")
    assert event["Records"][0]["s3"]["object"]["key"] == "data/dt%3D2024-05-04/_SUCCESS"


def test_s3_defaults_and_options_7_1(capsys: pytest.CaptureFixture[str]) -> None:
    _, event = run(capsys, "s3")
    record = event["Records"][0]
    assert record["eventTime"] == "1970-01-01T00:00:00.000Z"
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["awsRegion"] == "us-east-1"
    _, event = run(
        capsys,
        "s3",
        "--bucket",
        "b",
        "--event-name",
        "ObjectRemoved:Delete",
        "--region",
        "eu-west-1",
        "--time",
        "2025-01-01T08:00:00Z",
    )
    record = event["Records"][0]
    assert record["s3"]["bucket"]["name"] == "b"
    assert record["eventName"] == "ObjectRemoved:Delete"
    assert record["eventTime"] == "2025-01-01T08:00:00.000Z"
    assert "size" not in record["s3"]["object"]


def test_apigateway_query_and_headers_t47(capsys: pytest.CaptureFixture[str]) -> None:
    _, event = run(
        capsys,
        "apigateway",
        "--path",
        "/p",
        "--query",
        "x=1&x=2&x=3",
        "--header",
        "Accept: a",
        "--header",
        "Accept: b",
        "--method",
        "POST",
        "--body",
        "hi",
    )
    assert event["queryStringParameters"] == {"x": "3"}
    assert event["multiValueQueryStringParameters"] == {"x": ["1", "2", "3"]}
    assert event["headers"] == {"Accept": "b"}
    assert event["multiValueHeaders"] == {"Accept": ["a", "b"]}
    assert event["httpMethod"] == "POST"
    assert event["body"] == "hi"


def test_apigateway_v2_comma_joins_t48(capsys: pytest.CaptureFixture[str]) -> None:
    _, event = run(
        capsys,
        "apigateway-v2",
        "--query",
        "parameter1=value1&parameter1=value2",
        "--header",
        "header2: value1",
        "--header",
        "header2: value2",
    )
    assert event["queryStringParameters"] == {"parameter1": "value1,value2"}
    assert event["headers"] == {"header2": "value1,value2"}
    assert event["version"] == "2.0"


def test_alb_multi_value_t50(capsys: pytest.CaptureFixture[str]) -> None:
    _, single = run(capsys, "alb", "--query", "myKey=val1&myKey=val2")
    assert single["queryStringParameters"] == {"myKey": "val2"}
    _, multi = run(capsys, "alb", "--query", "myKey=val1&myKey=val2", "--multi-value")
    assert multi["multiValueQueryStringParameters"] == {"myKey": ["val1", "val2"]}
    assert "queryStringParameters" not in multi


def test_schedule_rule_and_time_5_1(capsys: pytest.CaptureFixture[str]) -> None:
    _, event = run(
        capsys, "schedule", "--rule", "nightly", "--time", "2025-01-01T08:00:00Z"
    )
    assert event["time"] == "2025-01-01T08:00:00Z"
    assert event["resources"] == ["arn:aws:events:us-east-1:123456789012:rule/nightly"]
    assert event["detail-type"] == "Scheduled Event"


def test_bad_input_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["event", "s3", "--event-name", "ObjectCreated:Upload"]) == 2
    assert "'ObjectCreated:Upload' is not one S3 sends" in capsys.readouterr().err
    assert main(["event", "apigateway", "--path", "no-slash"]) == 2
    assert "must start with '/'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as caught:
        main(["event", "apigateway", "--header", "no colon"])
    assert caught.value.code == 2
    assert "'Name: value'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["event", "schedule", "--time", "tomorrow"])
