"""Schedules, the HTTP front door and S3 buckets in a lesson's lab: keys, actions, checks."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambdalab.course.loader import load_lesson
from lambdalab.course.model import Check
from lambdalab.course.session import LabSession
from lambdalab.course.triggers import LAB_BRAKE_DEPTH
from lambdalab.errors import ConfigError, LessonFormatError, ScheduleSyntaxError

LESSON = """\
id = "triggers"
title = "Triggers"
summary = "Everything at once."
objectives = ["See triggers work."]
recap = "recap.md"
solution_text = "solution.md"

[lab]
seed = 3

[[lab.functions]]
name = "report"
handler = "report.py:handler"

[[lab.functions]]
name = "web"
handler = "web.py:handler"

[[lab.functions]]
name = "thumbs"
handler = "thumbs.py:handler"

[[lab.functions]]
name = "flaky"
handler = "flaky.py:handler"

[lab.events]
empty = {}

[[lab.schedules]]
name = "daily-report"
expression = "cron(0 8 * * ? *)"
function = "report"

[[lab.schedules]]
name = "heartbeat"
expression = "rate(1 hour)"
function = "report"
enabled = false

[[lab.schedules]]
name = "la-morning"
expression = "cron(0 4 * * ? *)"
function = "report"
enabled = false
timezone = "America/Los_Angeles"

[[lab.schedules]]
name = "always-fails"
expression = "cron(0 1 * * ? *)"
function = "flaky"
enabled = false

[lab.http]
api = "rest"
function = "web"

[[lab.http.requests]]
name = "login"
method = "POST"
path = "/login"
query = [["next", "/home"], ["next", "/again"]]
headers = [["Cookie", "a=1"], ["Cookie", "b=2"], ["X-Tag", "one"]]
body = "user=ada"

[[lab.buckets]]
name = "photos"

[[lab.buckets.notifications]]
id = "all-photos"
function = "thumbs"
events = ["s3:ObjectCreated:*"]

[[lab.buckets]]
name = "inbox"

[[lab.buckets.notifications]]
id = "csv"
function = "report"
events = ["s3:ObjectCreated:*"]
prefix = "uploads/"
suffix = ".csv"

[lab.uploads]
cat = { bucket = "photos", key = "cat.jpg", size = 2048 }
q1 = { bucket = "inbox", key = "uploads/Q1 summary (final).csv", body = "a,b" }
notes = { bucket = "inbox", key = "notes/todo.txt", body = "x" }
drop = { bucket = "inbox", key = "notes/todo.txt", operation = "delete" }

[[steps]]
id = "only"
title = "Only"
text = "step.md"
hints = ["Do it."]
[[steps.checks]]
type = "schedule"
schedule = "daily-report"
min = 1
goal = "Let the daily report fire."

[[solution]]
do = "wait"
seconds = 30000
"""

REPORT = """\
def handler(event, context):
    print("got", event.get("detail-type") or event["Records"][0]["s3"]["object"]["key"])
    return "ok"
"""

WEB = """\
def handler(event, context):
    return {
        "statusCode": 200,
        "multiValueHeaders": {"Set-Cookie": ["session=abc; HttpOnly", "theme=dark"]},
        "headers": {"X-Got": ",".join(event.get("multiValueHeaders", {}).get("Cookie", []))},
        "body": "hi",
    }
"""

THUMBS = """\
import boto3
from urllib.parse import unquote_plus

s3 = boto3.client("s3")

def handler(event, context):
    for record in event["Records"]:
        key = unquote_plus(record["s3"]["object"]["key"])
        s3.put_object(Bucket=record["s3"]["bucket"]["name"], Key="thumbs/" + key, Body=b"t")
"""

FLAKY = """\
def handler(event, context):
    raise RuntimeError("no report today")
"""


def make_lesson(folder: Path, toml: str = LESSON) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "lesson.toml").write_text(toml)
    for name, code in (
        ("report.py", REPORT),
        ("web.py", WEB),
        ("thumbs.py", THUMBS),
        ("flaky.py", FLAKY),
    ):
        (folder / name).write_text(code)
    for name in ("recap.md", "solution.md", "step.md"):
        (folder / name).write_text("# text\n")
    return folder


@pytest.fixture
def session(tmp_path: Path) -> Iterator[LabSession]:
    lesson = load_lesson(make_lesson(tmp_path / "lesson"))
    lab = LabSession(lesson, tmp_path / "work", wall_guard_s=2.0)
    yield lab
    lab.close()


def check(session: LabSession, type_: str, **params: object) -> tuple[bool, str]:
    result = session.check(Check(type_, "goal", dict(params)))
    return result.passed, result.detail


# -- loading ------------------------------------------------------------------------


def test_trigger_keys_load_into_the_lab_spec(tmp_path: Path) -> None:
    lab = load_lesson(make_lesson(tmp_path / "l")).lab
    daily = lab.schedules[0]
    assert (daily.name, daily.expression, daily.function, daily.enabled) == (
        "daily-report",
        "cron(0 8 * * ? *)",
        "report",
        True,
    )
    assert lab.schedules[2].timezone == "America/Los_Angeles"
    assert lab.http is not None and lab.http.api == "rest"
    login = lab.http.requests[0]
    assert login.query == "next=%2Fhome&next=%2Fagain"
    assert login.headers == (("Cookie", "a=1"), ("Cookie", "b=2"), ("X-Tag", "one"))
    assert [b.name for b in lab.buckets] == ["photos", "inbox"]
    assert lab.buckets[1].notifications[0].prefix == "uploads/"
    assert [(u.name, u.operation) for u in lab.uploads] == [
        ("cat", "put"),
        ("q1", "put"),
        ("notes", "put"),
        ("drop", "delete"),
    ]


def _broken(tmp_path: Path, old: str, new: str) -> str:
    assert old in LESSON
    folder = make_lesson(tmp_path / "broken", LESSON.replace(old, new, 1))
    with pytest.raises(LessonFormatError) as err:
        load_lesson(folder)
    return str(err.value)


def test_invalid_cron_names_file_line_key_and_field(tmp_path: Path) -> None:
    message = _broken(tmp_path, "cron(0 8 * * ? *)", "cron(0 8 ? * 8 *)")
    path = tmp_path / "broken" / "lesson.toml"
    assert message == (
        f"{path}:32: lab.schedules[0].expression: 'cron(0 8 ? * 8 *)' is refused by "
        "EventBridge (day-of-week): Parameter ScheduleExpression is not valid. "
        "day-of-week 8 is out of range 1-7 (1 = SUN)."
    )


def test_overlapping_notifications_are_refused_with_s3s_message(
    tmp_path: Path,
) -> None:
    # LAMBDA-FACTS 7.3: the same event type, a missing prefix overlaps every prefix.
    extra = (
        '[[lab.buckets.notifications]]\nid = "again"\nfunction = "report"\n'
        'events = ["s3:ObjectCreated:Put"]\nsuffix = ".jpg"\n\n[[lab.buckets]]\n'
        'name = "inbox"'
    )
    message = _broken(tmp_path, '[[lab.buckets]]\nname = "inbox"', extra)
    assert "lab.buckets[0].notifications[1]: InvalidArgument: Configuration is " in (
        message
    )
    assert (
        "Cannot have overlapping suffixes in two rules if the prefixes are "
        "overlapping for the same event type." in message
    )


@pytest.mark.parametrize(
    ("old", "new", "fragment"),
    [
        (
            'api = "rest"',
            'api = "graphql"',
            "lab.http.api: 'graphql' is not a front door",
        ),
        (
            'name = "photos"',
            'name = "Photos"',
            "lab.buckets[0].name: 'Photos': a bucket name is 3-63 lower-case",
        ),
        (
            'cat = { bucket = "photos"',
            'cat = { bucket = "nope"',
            "lab.uploads.cat.bucket: 'nope' is not a bucket of this lab",
        ),
        (
            'schedule = "daily-report"',
            'schedule = "nightly"',
            "steps[0].checks[0].schedule: 'nightly' is not a schedule of this lab",
        ),
        (
            'headers = [["Cookie", "a=1"]',
            'headers = [["Cookie"]',
            'lab.http.requests[0].headers: must be a list of ["name", "value"] pairs',
        ),
        (
            'expression = "rate(1 hour)"',
            'expression = "at(2025-01-01T09:00:00)"',
            "is an EventBridge Scheduler expression; a scheduled rule takes cron(...)",
        ),
        (
            'do = "wait"\nseconds = 30000',
            'do = "upload"\nupload = "dog"',
            "solution[0].upload: 'dog' is not one of the lab's uploads (cat, q1, notes, drop)",
        ),
    ],
)
def test_bad_trigger_keys_are_located(
    tmp_path: Path, old: str, new: str, fragment: str
) -> None:
    assert fragment in _broken(tmp_path, old, new)


# -- schedules ----------------------------------------------------------------------


def test_daily_rule_fires_at_eight_utc_with_the_scheduled_event(
    session: LabSession,
) -> None:
    # LAMBDA-FACTS T1 and 5.1: the lab starts 2025-01-01T00:00Z; async invoke.
    session.advance(8 * 3600 + 1)
    [fire] = session.triggers.rule("daily-report").fires
    assert fire.at.isoformat() == "2025-01-01T08:00:00+00:00"
    inv = session.service.async_events[fire.request_id]
    assert inv.state == "succeeded" and inv.function == "report"
    assert json.loads(inv.payload) == {
        "version": "0",
        "id": fire.event_id,
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2025-01-01T08:00:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/daily-report"],
        "detail": {},
    }
    assert session.history[-1].response is not None
    assert session.history[-1].response.status_code == 202
    assert check(session, "schedule", schedule="daily-report", min=1) == (
        True,
        "Rule daily-report (cron(0 8 * * ? *), At 08:00 UTC, every day): it fired 1 "
        "time(s).",
    )


def test_disabled_rule_never_fires_and_the_check_says_so(session: LabSession) -> None:
    session.advance(3 * 86400)
    assert session.triggers.rule("heartbeat").fires == []
    assert check(session, "schedule", schedule="heartbeat", min=1) == (
        False,
        "Rule heartbeat (rate(1 hour), Every hour): it fired 0 time(s) (it is "
        "disabled); the goal is at least 1.",
    )


def test_rate_counts_from_the_put_rule_instant(session: LabSession) -> None:
    # LAMBDA-FACTS 5.3 and T20: fires are creation + whole intervals.
    session.advance(150)  # 00:02:30
    session.triggers.set_schedule(
        "heartbeat", expression="rate(5 minutes)", enabled=True
    )
    session.advance(16 * 60)
    times = [
        f.at.strftime("%H:%M:%S") for f in session.triggers.rule("heartbeat").fires
    ]
    assert times == ["00:07:30", "00:12:30", "00:17:30"]


def test_disabling_stops_the_next_fire(session: LabSession) -> None:
    session.triggers.set_schedule("daily-report", enabled=False)
    session.advance(86400)
    assert session.triggers.rule("daily-report").fires == []


def test_scheduler_zone_follows_local_time_r08(session: LabSession) -> None:
    # PITFALLS R08: 04:00 in Los Angeles is 12:00 UTC in winter (PST).
    rule = session.triggers.set_schedule("la-morning", enabled=True)
    assert rule.describe() == "At 04:00 America/Los_Angeles time, every day"
    session.advance(13 * 3600)
    assert [f.at.isoformat() for f in rule.fires] == ["2025-01-01T12:00:00+00:00"]


def test_failing_scheduled_invoke_is_retried_with_the_same_request_id(
    session: LabSession,
) -> None:
    # LAMBDA-FACTS 4.1 and T34: async, so three attempts about 1 and 2 minutes apart.
    session.triggers.set_schedule("always-fails", enabled=True)
    session.advance(3600 + 5 * 60)
    [fire] = session.triggers.rule("always-fails").fires
    attempts = [
        r
        for r in session.service.trace.of_kind("invoke.end")
        if r.request_id == fire.request_id
    ]
    assert [r.data["outcome"] for r in attempts] == ["error", "error", "error"]
    starts = [round(r.data["started_ms"] / 60_000) for r in attempts]
    assert starts == [60, 61, 63]


def test_invalid_expression_is_refused_like_putrule(session: LabSession) -> None:
    with pytest.raises(ScheduleSyntaxError) as err:
        session.triggers.set_schedule("daily-report", expression="cron(0 8 * * 1 *)")
    assert str(err.value).startswith("Parameter ScheduleExpression is not valid.")
    assert session.triggers.rule("daily-report").expression == "cron(0 8 * * ? *)"


def test_schedule_check_names_the_weekday_trap(session: LabSession) -> None:
    session.triggers.set_schedule("daily-report", expression="cron(0 8 ? * 1-5 *)")
    assert check(
        session,
        "schedule",
        schedule="daily-report",
        weekdays=["MON", "TUE", "WED", "THU", "FRI"],
        times=["08:00"],
    ) == (
        False,
        "Rule daily-report (cron(0 8 ? * 1-5 *), At 08:00 UTC, Sunday through "
        "Thursday): it fires on MON, TUE, WED, THU, SUN; the goal is MON, TUE, WED, "
        "THU, FRI (in EventBridge cron 1 = SUN, 2 = MON ... 7 = SAT).",
    )
    session.triggers.set_schedule("daily-report", expression="cron(0 8 ? * MON-FRI *)")
    passed, _ = check(
        session,
        "schedule",
        schedule="daily-report",
        weekdays=["MON", "TUE", "WED", "THU", "FRI"],
        times=["08:00"],
        expression="cron(0 8 ? * 2-6 *)",
    )
    assert not passed  # MON-FRI and 2-6 fire alike but are different expressions
    assert check(
        session,
        "schedule",
        schedule="daily-report",
        weekdays=["MON", "TUE", "WED", "THU", "FRI"],
    )[0]


def test_next_fires_check_t7(session: LabSession) -> None:
    # LAMBDA-FACTS T7: first Mondays of 2025.
    session.triggers.set_schedule("daily-report", expression="cron(0 9 ? * 2#1 *)")
    assert check(
        session,
        "schedule",
        schedule="daily-report",
        next_fires=["2025-01-06T09:00Z", "2025-02-03T09:00Z", "2025-03-03T09:00Z"],
    )[0]


def test_settle_ends_although_rules_keep_firing(session: LabSession) -> None:
    session.triggers.set_schedule(
        "heartbeat", expression="rate(1 minute)", enabled=True
    )
    session.advance(150)
    session.settle()
    assert len(session.triggers.rule("heartbeat").fires) == 2
    assert session.triggers.rule("heartbeat").timer is not None  # picked up again


def test_day_counts_for_the_calendar_strip(session: LabSession) -> None:
    from datetime import date

    rule = session.triggers.set_schedule(
        "daily-report", expression="cron(0/30 8-9 ? * MON-FRI *)"
    )
    assert rule.day_counts(date(2025, 1, 1), 7) == [4, 4, 4, 0, 0, 4, 4]


# -- HTTP ---------------------------------------------------------------------------


def test_rest_front_door_event_and_two_set_cookie_lines(session: LabSession) -> None:
    exchange = session.triggers.send("login")
    assert exchange.invocation is not None
    session.service.run_until_done(exchange.invocation)
    event = exchange.event
    assert event["multiValueQueryStringParameters"] == {"next": ["/home", "/again"]}
    assert event["queryStringParameters"] == {"next": "/again"}  # T47: last wins
    assert event["multiValueHeaders"]["Cookie"] == ["a=1", "b=2"]
    response = exchange.response
    assert response is not None and response.status == 200
    assert response.header_values("set-cookie") == [
        "session=abc; HttpOnly",
        "theme=dark",
    ]
    assert response.header_values("x-got") == ["a=1,b=2"]
    assert check(
        session,
        "http",
        request="login",
        api="rest",
        header="Set-Cookie",
        values=["session=abc; HttpOnly", "theme=dark"],
    ) == (True, "REST API (payload 1.0) answered request 'login' with 200 as expected.")


def test_http_api_drops_multi_value_headers_and_the_check_explains(
    session: LabSession,
) -> None:
    # PITFALLS R12: payload 2.0 has no multiValueHeaders.
    session.triggers.set_front_door("http")
    exchange = session.triggers.send("login")
    assert exchange.invocation is not None
    session.service.run_until_done(exchange.invocation)
    assert exchange.event["cookies"] == ["a=1", "b=2"]  # R15
    assert exchange.event["headers"]["x-tag"] == "one"
    assert exchange.response is not None
    assert exchange.response.header_values("set-cookie") == []
    passed, detail = check(
        session,
        "http",
        api="http",
        header="set-cookie",
        values=["session=abc; HttpOnly", "theme=dark"],
    )
    assert not passed
    assert detail == (
        "The latest answer through HTTP API (payload 2.0): the client received 0 "
        "set-cookie line(s), not 2 (session=abc; HttpOnly; theme=dark). The front door "
        "noted: HTTP API: multiValueHeaders['Set-Cookie'] ignored (2 value(s)); "
        "payload 2.0 has no multiValueHeaders, use headers or cookies."
    )


def test_front_door_key_cycles_rest_http_alb_and_alb_multi(session: LabSession) -> None:
    names = [session.triggers.next_front_door() for _ in range(4)]
    assert names == [
        "HTTP API (payload 2.0)",
        "ALB (single-value headers)",
        "ALB (multi-value headers)",
        "REST API (payload 1.0)",
    ]


def test_alb_multi_value_mode_passes_both_cookies(session: LabSession) -> None:
    session.triggers.set_front_door("alb", True)
    exchange = session.triggers.send("login")
    assert exchange.invocation is not None
    session.service.run_until_done(exchange.invocation)
    assert "multiValueHeaders" in exchange.event and "headers" not in exchange.event
    assert exchange.response is not None
    assert len(exchange.response.header_values("Set-Cookie")) == 2


# -- S3 -----------------------------------------------------------------------------


def test_upload_delivers_a_71_record_asynchronously(session: LabSession) -> None:
    # LAMBDA-FACTS 7.1, T51, PITFALLS R35: form-encoded key, async invoke.
    [inv] = session.triggers.upload("q1")
    assert inv.invocation_type == "Event"
    assert inv.response is not None and inv.response.status_code == 202
    record = json.loads(inv.payload)["Records"][0]
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["s3"]["object"]["key"] == "uploads/Q1+summary+%28final%29.csv"
    assert record["s3"]["configurationId"] == "csv"
    assert record["eventTime"] == "2025-01-01T00:00:00.000Z"
    assert session.triggers.upload("notes") == []  # prefix and suffix filter it out
    session.triggers.upload("drop")
    assert "notes/todo.txt" not in session.triggers.bucket("inbox").objects


def test_recursive_loop_runs_until_the_lab_brake(session: LabSession) -> None:
    # LAMBDA-FACTS 7.4: the function writes into the bucket that triggers it.
    session.triggers.upload("cat")
    session.settle()
    runs = [
        r for r in session.service.trace.of_kind("invoke.end") if r.function == "thumbs"
    ]
    assert len(runs) == LAB_BRAKE_DEPTH == 16
    photos = session.triggers.bucket("photos").objects
    assert "thumbs/" * 16 + "cat.jpg" in photos
    brake = [a for a in session.triggers.activity if a.kind == "brake"]
    assert len(brake) == 1 and brake[0].text.startswith("lab brake: 16 invocations")
    assert check(session, "bucket", bucket="photos", count="deliveries", min=5)[0]
    assert check(session, "effects", function="thumbs", action="PutObject", min=16)[0]
    assert check(
        session, "effects", function="thumbs", resource="arn:aws:s3:::inbox/*"
    ) == (
        False,
        "Needs at least 1 AWS call(s) by thumbs on arn:aws:s3:::inbox/*; the lab "
        "recorded 0. Touched so far: s3:PutObject arn:aws:s3:::photos/thumbs/cat.jpg, "
        "s3:PutObject arn:aws:s3:::photos/thumbs/thumbs/cat.jpg, s3:PutObject "
        "arn:aws:s3:::photos/thumbs/thumbs/thumbs/cat.jpg, s3:PutObject "
        "arn:aws:s3:::photos/thumbs/thumbs/thumbs/thumbs/cat.jpg.",
    )


def test_loop_guard_refuses_the_write_that_would_retrigger(session: LabSession) -> None:
    session.triggers.set_loop_guard("photos", True)
    session.triggers.upload("cat")
    session.settle()
    runs = [
        r for r in session.service.trace.of_kind("invoke.end") if r.function == "thumbs"
    ]
    assert len(runs) == 1
    [refused] = [a for a in session.triggers.activity if a.kind == "refused"]
    assert refused.text.startswith(
        "loop guard: thumbs writing 'thumbs/cat.jpg' into bucket 'photos' would "
        "invoke thumbs again through notification 'all-photos'"
    )
    assert [e.outcome for e in session.triggers.effects] == ["refused"]
    assert check(
        session, "bucket", bucket="photos", count="refused", loop_guard=True
    ) == (
        True,
        "Bucket photos: 1 write(s) refused by the loop guard.",
    )
    assert check(session, "bucket", bucket="photos", key="thumbs/cat.jpg") == (
        False,
        "Bucket photos shows 0 object(s) for key 'thumbs/cat.jpg'; the goal is at "
        "least 1. It holds cat.jpg.",
    )


def test_notification_filter_change_breaks_the_loop_and_refuses_overlap(
    session: LabSession,
) -> None:
    session.triggers.put_notification("photos", "all-photos", prefix="uploads/")
    with pytest.raises(ConfigError) as err:
        session.triggers.put_notification(
            "photos",
            "second",
            function="report",
            events=("s3:ObjectCreated:Put",),
            prefix="uploads/raw/",
        )
    assert str(err.value).startswith("Configuration is ambiguously defined.")
    assert [c.id for c in session.triggers.bucket("photos").notifications] == [
        "all-photos"
    ]
    assert session.triggers.upload("cat") == []  # cat.jpg is not under uploads/


def test_effects_on_a_missing_bucket_are_kept_as_failed(session: LabSession) -> None:
    session.triggers.apply_effects(
        "report",
        "req-1",
        [
            {
                "service": "s3",
                "action": "PutObject",
                "bucket": "nope",
                "key": "k",
                "size": 1,
            }
        ],
    )
    [record] = session.triggers.effects
    assert (record.action, record.resource, record.outcome) == (
        "s3:PutObject",
        "arn:aws:s3:::nope/k",
        "failed",
    )
    assert record.detail.startswith("NoSuchBucket: the lab has no bucket 'nope'")


def test_trigger_actions_replay(tmp_path: Path) -> None:
    toml = LESSON.replace(
        '[[solution]]\ndo = "wait"\nseconds = 30000\n',
        textwrap.dedent(
            """\
            [[solution]]
            do = "schedule"
            schedule = "heartbeat"
            expression = "rate(2 minutes)"
            enabled = true

            [[solution]]
            do = "http"
            request = "login"
            api = "alb"
            multi_value = true

            [[solution]]
            do = "bucket"
            bucket = "photos"
            loop_guard = true

            [[solution]]
            do = "upload"
            upload = "cat"
            times = 2

            [[solution]]
            do = "notification"
            bucket = "inbox"
            id = "csv"
            suffix = ".txt"

            [[solution]]
            do = "wait"
            seconds = 30000
            """
        ),
    )
    lesson = load_lesson(make_lesson(tmp_path / "l", toml))
    lab = LabSession(lesson, tmp_path / "w", wall_guard_s=2.0)
    try:
        assert lab.replay_solution() == {"only"}
        triggers = lab.triggers
        assert triggers.rule("heartbeat").expression == "rate(2 minutes)"
        assert (triggers.api, triggers.multi_value) == ("alb", True)
        assert [x.request_name for x in triggers.exchanges] == ["login"]
        assert triggers.bucket("photos").loop_guard
        assert len([a for a in triggers.activity if a.kind == "refused"]) == 2
        assert triggers.bucket("inbox").notifications[0].suffix == ".txt"
        assert len(triggers.rule("heartbeat").fires) == 250
    finally:
        lab.close()
