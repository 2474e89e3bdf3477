"""S3 buckets, notification rules and records (LAMBDA-FACTS 7, T51-T53, R35-R38)."""

from __future__ import annotations

import hashlib

import pytest

from lambdalab.errors import ConfigError
from lambdalab.triggers.s3 import (
    OVERLAP_MESSAGE,
    Bucket,
    NotificationConfiguration,
    encode_key,
    event_version,
    iso_time_ms,
    normalize_event_name,
)

T0 = 1_735_718_400_000  # 2025-01-01T08:00:00.000Z


def rule(
    config_id: str,
    function: str = "demo-fn",
    events: tuple[str, ...] = ("s3:ObjectCreated:*",),
    prefix: str = "",
    suffix: str = "",
) -> NotificationConfiguration:
    return NotificationConfiguration(config_id, function, events, prefix, suffix)


def bucket_with(*rules: NotificationConfiguration, name: str = "b") -> Bucket:
    bucket = Bucket(name)
    for config in rules:
        bucket.add_notification(config)
    return bucket


# ------------------------------------------------------------------ records


def test_put_delivers_one_record_with_encoded_key_t51() -> None:
    bucket = bucket_with(rule("on-upload", "fnA"))
    operation = bucket.put_object("red flower.jpg", b"petals", time_ms=T0)
    deliveries = bucket.deliveries(operation)
    assert len(deliveries) == 1
    function_name, event = deliveries[0]
    assert function_name == "fnA"
    (record,) = event["Records"]
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["eventSource"] == "aws:s3"
    assert record["s3"]["object"]["key"] == "red+flower.jpg"


def test_record_shape_and_field_order_7_1() -> None:
    bucket = bucket_with(rule("testConfigRule"), name="mybucket")
    operation = bucket.put_object("HappyFace.jpg", b"", time_ms=T0)
    ((_, event),) = bucket.deliveries(operation)
    (record,) = event["Records"]
    assert list(event) == ["Records"]
    assert list(record) == [
        "eventVersion",
        "eventSource",
        "awsRegion",
        "eventTime",
        "eventName",
        "userIdentity",
        "requestParameters",
        "responseElements",
        "s3",
    ]
    assert list(record["responseElements"]) == ["x-amz-request-id", "x-amz-id-2"]
    assert list(record["s3"]) == [
        "s3SchemaVersion",
        "configurationId",
        "bucket",
        "object",
    ]
    assert list(record["s3"]["bucket"]) == ["name", "ownerIdentity", "arn"]
    assert list(record["s3"]["object"]) == ["key", "size", "eTag", "sequencer"]
    assert record["eventVersion"] == "2.1"
    assert record["awsRegion"] == "us-east-1"
    assert record["eventTime"] == "2025-01-01T08:00:00.000Z"
    assert record["s3"]["s3SchemaVersion"] == "1.0"
    assert record["s3"]["configurationId"] == "testConfigRule"
    assert record["s3"]["bucket"]["name"] == "mybucket"
    assert record["s3"]["bucket"]["arn"] == "arn:aws:s3:::mybucket"
    assert record["s3"]["object"]["size"] == 0
    # MD5 of empty content, the eTag of the 7.1 sample record.
    assert record["s3"]["object"]["eTag"] == "d41d8cd98f00b204e9800998ecf8427e"


def test_event_time_comes_from_the_virtual_time_7_1() -> None:
    assert iso_time_ms(0) == "1970-01-01T00:00:00.000Z"
    assert iso_time_ms(T0 + 42) == "2025-01-01T08:00:00.042Z"


def test_event_name_has_no_s3_prefix_7_1() -> None:
    bucket = bucket_with(rule("r", events=("s3:ObjectCreated:Put",)))
    ((_, event),) = bucket.deliveries(bucket.put_object("k", time_ms=0))
    assert event["Records"][0]["eventName"] == "ObjectCreated:Put"
    assert normalize_event_name("s3:ObjectRemoved:Delete") == "ObjectRemoved:Delete"
    with pytest.raises(ConfigError, match="'ObjectCreated:\\*' is not one S3 sends"):
        normalize_event_name("ObjectCreated:*")


def test_event_versions_7_1() -> None:
    assert event_version("ObjectCreated:Put") == "2.1"
    assert event_version("Replication:OperationFailedReplication") == "2.2"
    assert event_version("LifecycleExpiration:Delete") == "2.3"
    assert event_version("ObjectTagging:Put") == "2.3"
    assert event_version("ObjectRestore:Delete") == "2.3"
    assert event_version("ObjectRestore:Completed") == "2.1"


def test_etag_is_md5_of_content_and_copy_keeps_it() -> None:
    bucket = bucket_with(rule("r"))
    put = bucket.put_object("a.txt", "hello", time_ms=0)
    assert put.etag == hashlib.md5(b"hello").hexdigest()
    assert put.size == 5
    copy = bucket.copy_object("a.txt", "b.txt", time_ms=1)
    assert (copy.event_name, copy.etag, copy.size) == (
        "ObjectCreated:Copy",
        put.etag,
        5,
    )
    ((_, event),) = bucket.deliveries(copy)
    assert event["Records"][0]["eventName"] == "ObjectCreated:Copy"
    assert set(bucket.objects) == {"a.txt", "b.txt"}


def test_copy_from_another_bucket_and_missing_source() -> None:
    source = Bucket("src")
    source.put_object("k", b"x", time_ms=0)
    target = Bucket("dst")
    assert target.copy_object("k", "k2", time_ms=1, source_bucket=source).size == 1
    with pytest.raises(ConfigError, match="has no object 'nope' to copy"):
        target.copy_object("nope", "k3", time_ms=2)


def test_delete_record_has_no_size_or_etag_7_1() -> None:
    bucket = bucket_with(rule("gone", events=("s3:ObjectRemoved:*",)))
    bucket.put_object("k", b"x", time_ms=0)
    operation = bucket.delete_object("k", time_ms=1)
    ((_, event),) = bucket.deliveries(operation)
    record = event["Records"][0]
    assert record["eventName"] == "ObjectRemoved:Delete"
    assert list(record["s3"]["object"]) == ["key", "sequencer"]
    assert "k" not in bucket.objects


def test_sequencer_increases_per_bucket_7_1() -> None:
    first, second = Bucket("one"), Bucket("two")
    a = first.put_object("k", b"1", time_ms=0)
    b = first.put_object("k", b"2", time_ms=0)
    c = second.put_object("k", b"3", time_ms=0)
    assert a.sequencer < b.sequencer
    assert len(a.sequencer) == 18
    assert int(a.sequencer, 16) == 1 and int(b.sequencer, 16) == 2
    assert int(c.sequencer, 16) == 1  # counted per bucket
    assert a.request_id != b.request_id


def test_size_without_content_and_conflicting_size() -> None:
    bucket = Bucket("b")
    assert bucket.put_object("big", size=5_000, time_ms=0).size == 5_000
    with pytest.raises(ConfigError, match="size 3 disagrees with the 1 bytes"):
        bucket.put_object("k", b"x", size=3, time_ms=0)
    with pytest.raises(ConfigError, match="1 to 1024 bytes"):
        bucket.put_object("", b"x", time_ms=0)


# ------------------------------------------------------------- key encoding


def test_key_with_spaces_and_parentheses_is_form_encoded_r35() -> None:
    bucket = bucket_with(rule("r"), name="example-bucket")
    operation = bucket.put_object("reports/Q1 summary (final).csv", b"", time_ms=0)
    ((_, event),) = bucket.deliveries(operation)
    assert (
        event["Records"][0]["s3"]["object"]["key"]
        == "reports/Q1+summary+%28final%29.csv"
    )


@pytest.mark.parametrize(
    ("key", "encoded"),
    [
        ("this im + age.txt", "this+im+%2B+age.txt"),
        ("logs/10:47:07.log", "logs/10%3A47%3A07.log"),
        ("c++/pkg.tar", "c%2B%2B/pkg.tar"),
    ],
)
def test_plus_colon_and_slash_encoding_r36(key: str, encoded: str) -> None:
    assert encode_key(key) == encoded


def test_partition_style_key_encodes_equals_sign_r38() -> None:
    assert encode_key("data/dt=2024-05-04/_SUCCESS") == "data/dt%3D2024-05-04/_SUCCESS"


# --------------------------------------------------------- filters and overlap


def test_distinct_prefixes_and_suffixes_are_accepted_t53() -> None:
    bucket = bucket_with(
        rule("images", "fnA", prefix="images/"),
        rule("logs", "fnB", prefix="logs/"),
    )
    assert [c.id for c in bucket.notifications] == ["images", "logs"]
    bucket_with(rule("jpg", suffix=".jpg"), rule("png", suffix=".png"))


def test_deliveries_follow_prefix_filters_t53() -> None:
    bucket = bucket_with(
        rule("images", "fnA", prefix="images/"),
        rule("logs", "fnB", prefix="logs/"),
    )
    images = bucket.deliveries(bucket.put_object("images/cat.jpg", b"", time_ms=0))
    logs = bucket.deliveries(bucket.put_object("logs/app.log", b"", time_ms=0))
    other = bucket.deliveries(bucket.put_object("tmp/x", b"", time_ms=0))
    assert [d.function_name for d in images] == ["fnA"]
    assert [d.function_name for d in logs] == ["fnB"]
    assert other == []
    assert images[0].event["Records"][0]["s3"]["configurationId"] == "images"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (rule("a", prefix="images/"), rule("b", prefix="images/jpg/")),
        (rule("a"), rule("b", prefix="images/")),
        (rule("a", suffix="jpg"), rule("b", suffix="pg")),
        (rule("a", prefix="x/", suffix=".jpg"), rule("b", prefix="x/", suffix=".jpg")),
        (
            rule("a", events=("s3:ObjectCreated:*",)),
            rule("b", events=("s3:ObjectCreated:Put",)),
        ),
    ],
)
def test_overlapping_rules_for_the_same_event_type_are_refused_7_3(
    first: NotificationConfiguration, second: NotificationConfiguration
) -> None:
    bucket = bucket_with(first)
    with pytest.raises(ConfigError) as caught:
        bucket.add_notification(second)
    assert str(caught.value).startswith(
        "Configuration is ambiguously defined. Cannot have overlapping suffixes in two "
        "rules if the prefixes are overlapping for the same event type."
    )
    assert str(caught.value).startswith(OVERLAP_MESSAGE)
    assert caught.value.title == "InvalidArgument"
    assert bucket.notifications == (first,)


def test_overlapping_prefixes_allowed_when_suffixes_do_not_overlap_7_3() -> None:
    bucket_with(
        rule("a", prefix="images/", suffix=".jpg"),
        rule("b", prefix="images/jpg/", suffix=".png"),
    )


def test_different_event_types_may_reuse_filters_7_3() -> None:
    bucket = bucket_with(
        rule("created", events=("s3:ObjectCreated:*",), prefix="in/"),
        rule("removed", events=("s3:ObjectRemoved:*",), prefix="in/"),
    )
    assert len(bucket.notifications) == 2


def test_filter_plus_means_space_7_3() -> None:
    config = rule("r", prefix="my+folder/")
    assert config.matches_key("my folder/a.txt")
    assert not config.matches_key("my+folder/a.txt")


def test_event_type_matching_with_wildcards_7_2() -> None:
    created = rule("c", events=("s3:ObjectCreated:*",))
    put_only = rule("p", events=("s3:ObjectCreated:Put",))
    assert created.matches_event("ObjectCreated:Copy")
    assert put_only.matches_event("ObjectCreated:Put")
    assert not put_only.matches_event("ObjectCreated:Copy")
    assert not created.matches_event("ObjectRemoved:Delete")


def test_configuration_validation() -> None:
    with pytest.raises(ConfigError, match="'s3:ObjectCreated' is not an S3 event type"):
        rule("r", events=("s3:ObjectCreated",))
    with pytest.raises(ConfigError, match="lists no events"):
        rule("r", events=())
    with pytest.raises(ConfigError, match="already has a notification with Id 'r'"):
        bucket_with(rule("r", prefix="a/"), rule("r", prefix="b/"))
    bucket = bucket_with(rule("r"))
    bucket.remove_notification("r")
    assert bucket.notifications == ()
    with pytest.raises(ConfigError, match="no notification with Id 'r'"):
        bucket.remove_notification("r")


# ------------------------------------------------------------ recursion trap


def test_would_trigger_names_the_rule_of_the_loop_7_4() -> None:
    bucket = bucket_with(rule("on-upload", "resize", prefix="uploads/"))
    config = bucket.would_trigger("resize", "uploads/cat-small.jpg")
    assert config is not None and config.id == "on-upload"
    assert bucket.would_trigger("resize", "thumbnails/cat-small.jpg") is None
    assert bucket.would_trigger("other-fn", "uploads/cat-small.jpg") is None


def test_loop_guard_off_lets_the_loop_happen_7_4() -> None:
    bucket = bucket_with(rule("on-upload", "resize"))
    operation = bucket.put_object("out.jpg", b"x", time_ms=0, writer="resize")
    assert [d.function_name for d in bucket.deliveries(operation)] == ["resize"]


def test_loop_guard_on_refuses_a_self_triggering_write_7_4() -> None:
    bucket = bucket_with(rule("on-upload", "resize", prefix="uploads/"))
    bucket.loop_guard = True
    with pytest.raises(ConfigError, match="loop guard: resize writing 'uploads/x.jpg'"):
        bucket.put_object("uploads/x.jpg", b"x", time_ms=0, writer="resize")
    assert "uploads/x.jpg" not in bucket.objects
    bucket.put_object("thumbnails/x.jpg", b"x", time_ms=0, writer="resize")
    bucket.put_object("uploads/y.jpg", b"x", time_ms=0, writer="someone-else")
    bucket.put_object("uploads/z.jpg", b"x", time_ms=0)
