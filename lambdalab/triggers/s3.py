"""S3 buckets, event notifications to Lambda, and the records S3 sends (LAMBDA-FACTS 7).

A ``Bucket`` keeps objects and notification configurations. Each write returns an
``ObjectOperation``; ``Bucket.deliveries`` turns one into the
``(function_name, event)`` pairs S3 would invoke asynchronously. That step is pure, so
the engine decides when the invokes happen. Nothing here reads a clock: every time is
passed in as epoch milliseconds.

Lab decisions where LAMBDA-FACTS is silent:

- Keys in records are form-encoded with ``quote_plus`` keeping ``/`` (PITFALLS R35, R36,
  R38); ``*`` becomes ``%2A`` and ``~`` stays, Python's choice, not confirmed on AWS.
- Filter values are written URL-encoded (7.3), so ``+`` in a filter means a space: keys
  are matched against the decoded filter. Overlap is judged on the filters as written.
- ``s3:ObjectCreated:*`` and ``s3:ObjectCreated:Put`` count as the same event type for
  the overlap rule, since both would fire for one PUT.
- Sequencers are a per-bucket counter in 18 hex digits, so a later write always has the
  larger value. Buckets are unversioned (no ``versionId``). Deleting a missing key still
  succeeds and notifies, as S3's DeleteObject does not fail on it.
- Without content, an object's ETag is a stand-in derived from bucket, key and size
  (the MD5 of empty content for size 0).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, NamedTuple
from urllib.parse import quote_plus, unquote_plus

from lambdalab.errors import ConfigError

JsonObject = dict[str, Any]

DEFAULT_REGION = "us-east-1"
DEFAULT_OWNER_ID = "A3NL1KOZZKExample"
DEFAULT_PRINCIPAL_ID = "AIDAJDPLRKLG7UEXAMPLE"
DEFAULT_SOURCE_IP = "127.0.0.1"
MAX_KEY_BYTES = 1024

OVERLAP_MESSAGE = (
    "Configuration is ambiguously defined. Cannot have overlapping suffixes in two rules "
    "if the prefixes are overlapping for the same event type."
)
OVERLAP_ERROR_CODE = "InvalidArgument"  # believed, not confirmed (LAMBDA-FACTS 7.3)

_EVENT_FAMILIES: dict[str, tuple[str, ...]] = {
    "ObjectCreated": ("Put", "Post", "Copy", "CompleteMultipartUpload"),
    "ObjectRemoved": ("Delete", "DeleteMarkerCreated"),
    "ObjectRestore": ("Post", "Completed", "Delete"),
    "Replication": (
        "OperationFailedReplication",
        "OperationMissedThreshold",
        "OperationReplicatedAfterThreshold",
        "OperationNotTracked",
    ),
    "LifecycleExpiration": ("Delete", "DeleteMarkerCreated"),
    "ObjectTagging": ("Put", "Delete"),
}
_SINGLE_EVENTS = (
    "ReducedRedundancyLostObject",
    "LifecycleTransition",
    "IntelligentTiering",
    "ObjectAcl:Put",
)

EVENT_NAMES: tuple[str, ...] = (
    *(
        f"{family}:{member}"
        for family, members in _EVENT_FAMILIES.items()
        for member in members
    ),
    *_SINGLE_EVENTS,
)
"""Concrete event names as they appear in records (no ``s3:`` prefix), 7.2."""

NOTIFICATION_EVENT_TYPES: frozenset[str] = frozenset(
    [f"s3:{name}" for name in EVENT_NAMES]
    + [f"s3:{family}:*" for family in _EVENT_FAMILIES]
)
"""Every value a notification configuration may list, wildcards included (7.2)."""


def encode_key(key: str) -> str:
    """Form-encode an object key the way S3 writes it into event records (R35, R36)."""
    return quote_plus(key, safe="/")


def decode_key(encoded: str) -> str:
    """Turn a record's key back into the object key; handlers must do this too."""
    return unquote_plus(encoded)


def iso_time_ms(time_ms: int) -> str:
    """Format epoch milliseconds as S3's eventTime, e.g. ``1970-01-01T00:00:00.000Z``."""
    moment = datetime.fromtimestamp(time_ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{time_ms % 1000:03d}Z"


def event_version(event_name: str) -> str:
    """The record's ``eventVersion`` for one event name (7.1)."""
    family = event_name.split(":")[0]
    if family == "Replication":
        return "2.2"
    if family in ("LifecycleExpiration", "LifecycleTransition", "IntelligentTiering"):
        return "2.3"
    if family in ("ObjectAcl", "ObjectTagging") or event_name == "ObjectRestore:Delete":
        return "2.3"
    return "2.1"


def normalize_event_name(name: str) -> str:
    """Accept ``s3:ObjectCreated:Put`` or ``ObjectCreated:Put``; return the record form."""
    bare = name.removeprefix("s3:")
    if bare not in EVENT_NAMES:
        raise ConfigError(
            f"S3 event name {name!r} is not one S3 sends; use a concrete one such as "
            "ObjectCreated:Put, ObjectCreated:Copy or ObjectRemoved:Delete"
        )
    return bare


def s3_record(
    *,
    bucket: str,
    key: str,
    event_name: str,
    time_ms: int,
    sequencer: str,
    configuration_id: str,
    size: int | None = None,
    etag: str | None = None,
    region: str = DEFAULT_REGION,
    owner_id: str = DEFAULT_OWNER_ID,
    principal_id: str = DEFAULT_PRINCIPAL_ID,
    source_ip: str = DEFAULT_SOURCE_IP,
    request_id: str = "C3D13FE58DE4C810",
    host_id: str = "lambdalab/EXAMPLE/host-id",
) -> JsonObject:
    """Build one S3 event record, keys in the order of 7.1; ``key`` is the raw key."""
    obj: JsonObject = {"key": encode_key(key)}
    if size is not None:
        obj["size"] = size
    if etag is not None:
        obj["eTag"] = etag
    obj["sequencer"] = sequencer
    return {
        "eventVersion": event_version(event_name),
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventTime": iso_time_ms(time_ms),
        "eventName": event_name,
        "userIdentity": {"principalId": principal_id},
        "requestParameters": {"sourceIPAddress": source_ip},
        "responseElements": {"x-amz-request-id": request_id, "x-amz-id-2": host_id},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": configuration_id,
            "bucket": {
                "name": bucket,
                "ownerIdentity": {"principalId": owner_id},
                "arn": f"arn:aws:s3:::{bucket}",
            },
            "object": obj,
        },
    }


def _event_types_intersect(a: str, b: str) -> bool:
    if a == b:
        return True
    if a.endswith(":*") and b.startswith(a[:-1]):
        return True
    return b.endswith(":*") and a.startswith(b[:-1])


def prefixes_overlap(a: str, b: str) -> bool:
    """True if some key can start with both prefixes (7.3); ``""`` overlaps everything."""
    return a.startswith(b) or b.startswith(a)


def suffixes_overlap(a: str, b: str) -> bool:
    """True if some key can end with both suffixes (7.3): ``jpg`` and ``pg`` do."""
    return a.endswith(b) or b.endswith(a)


@dataclass(frozen=True, slots=True)
class NotificationConfiguration:
    """One Lambda notification rule of a bucket: event types, filters, target function."""

    id: str
    function_name: str
    events: tuple[str, ...]
    prefix: str = ""
    suffix: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "events", tuple(self.events))
        if not self.id:
            raise ConfigError("a notification configuration needs a non-empty Id")
        if not self.function_name:
            raise ConfigError(f"notification {self.id!r} needs a target function name")
        if not self.events:
            raise ConfigError(
                f"notification {self.id!r} lists no events; add one such as "
                "s3:ObjectCreated:*"
            )
        for event in self.events:
            if event not in NOTIFICATION_EVENT_TYPES:
                raise ConfigError(
                    f"notification {self.id!r}: {event!r} is not an S3 event type; use "
                    "one such as s3:ObjectCreated:*, s3:ObjectCreated:Put or "
                    "s3:ObjectRemoved:*"
                )

    def matches_event(self, event_name: str) -> bool:
        """True if a record named ``event_name`` (no ``s3:``) falls under this rule."""
        full = f"s3:{event_name}"
        return any(_event_types_intersect(event, full) for event in self.events)

    def matches_key(self, key: str) -> bool:
        """True if the raw key passes the prefix and suffix filters."""
        return key.startswith(unquote_plus(self.prefix)) and key.endswith(
            unquote_plus(self.suffix)
        )

    def shared_event_types(self, other: NotificationConfiguration) -> list[str]:
        """Event types of this rule that the other rule also covers."""
        return [
            mine
            for mine in self.events
            if any(_event_types_intersect(mine, theirs) for theirs in other.events)
        ]

    def overlaps(self, other: NotificationConfiguration) -> bool:
        """The 7.3 rule: shared event type, and both prefixes and suffixes overlap."""
        return (
            bool(self.shared_event_types(other))
            and prefixes_overlap(self.prefix, other.prefix)
            and suffixes_overlap(self.suffix, other.suffix)
        )


@dataclass(frozen=True, slots=True)
class S3Object:
    """An object as the bucket stores it."""

    key: str
    size: int
    etag: str


@dataclass(frozen=True, slots=True)
class ObjectOperation:
    """One successful write or delete, everything a notification record needs."""

    bucket: str
    event_name: str
    key: str
    time_ms: int
    sequencer: str
    request_id: str
    host_id: str
    size: int | None = None
    etag: str | None = None
    principal_id: str = DEFAULT_PRINCIPAL_ID
    source_ip: str = DEFAULT_SOURCE_IP
    writer: str | None = None
    """The function that made the write, if any (for the loop guard and the trace)."""


INVOCATION_TYPE = "Event"
"""S3 invokes Lambda asynchronously (LAMBDA-FACTS 7.1): every delivery is an Event."""


class Delivery(NamedTuple):
    """One asynchronous invoke S3 asks Lambda for: target function and event document."""

    function_name: str
    event: JsonObject


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


class Bucket:
    """An S3 bucket with objects and Lambda notification configurations."""

    def __init__(
        self,
        name: str,
        *,
        region: str = DEFAULT_REGION,
        owner_id: str = DEFAULT_OWNER_ID,
        loop_guard: bool = False,
    ) -> None:
        if not name:
            raise ConfigError("a bucket needs a name, e.g. 'example-bucket'")
        self.name = name
        self.region = region
        self.owner_id = owner_id
        self.loop_guard = loop_guard
        """When on, a function's write that would trigger the same function is refused."""
        self._objects: dict[str, S3Object] = {}
        self._notifications: list[NotificationConfiguration] = []
        self._sequence = 0

    def __repr__(self) -> str:
        return f"Bucket({self.name!r}, objects={len(self._objects)})"

    @property
    def objects(self) -> Mapping[str, S3Object]:
        """Stored objects by key (read-only view)."""
        return MappingProxyType(self._objects)

    @property
    def notifications(self) -> tuple[NotificationConfiguration, ...]:
        """Notification configurations in the order they were added."""
        return tuple(self._notifications)

    def add_notification(self, config: NotificationConfiguration) -> None:
        """Add a rule, refusing a duplicate Id or an overlap with an existing rule (7.3)."""
        for existing in self._notifications:
            if existing.id == config.id:
                raise ConfigError(
                    f"bucket {self.name!r} already has a notification with Id "
                    f"{config.id!r}; give the new one another Id"
                )
            if existing.overlaps(config):
                shared = ", ".join(existing.shared_event_types(config))
                raise ConfigError(
                    f"{OVERLAP_MESSAGE} Rules {existing.id!r} and {config.id!r} both "
                    f"cover {shared} with prefixes {existing.prefix!r} and "
                    f"{config.prefix!r} and suffixes {existing.suffix!r} and "
                    f"{config.suffix!r}; change a prefix or suffix so no key can match "
                    "both.",
                    title=OVERLAP_ERROR_CODE,
                )
        self._notifications.append(config)

    def remove_notification(self, config_id: str) -> None:
        """Remove the rule with this Id."""
        for index, config in enumerate(self._notifications):
            if config.id == config_id:
                del self._notifications[index]
                return
        raise ConfigError(
            f"bucket {self.name!r} has no notification with Id {config_id!r}"
        )

    def would_trigger(
        self, function_name: str, key: str, event_name: str = "ObjectCreated:Put"
    ) -> NotificationConfiguration | None:
        """The rule through which this event on ``key`` would invoke ``function_name``.

        This is the recursive-invocation trap of 7.4: a function that writes into the
        bucket that triggers it runs again for its own output.
        """
        for config in self._notifications:
            if (
                config.function_name == function_name
                and config.matches_event(event_name)
                and config.matches_key(key)
            ):
                return config
        return None

    def _operation(
        self,
        event_name: str,
        key: str,
        time_ms: int,
        *,
        size: int | None,
        etag: str | None,
        writer: str | None,
        principal_id: str,
        source_ip: str,
    ) -> ObjectOperation:
        """Stamp one operation with the bucket's next sequencer and request ids."""
        self._sequence += 1
        n = self._sequence
        digest = hashlib.sha256(f"{self.name}/{n}".encode()).digest()
        return ObjectOperation(
            bucket=self.name,
            event_name=event_name,
            key=key,
            time_ms=time_ms,
            sequencer=f"{n:018X}",
            request_id=f"{n:016X}",
            host_id=base64.b64encode(digest).decode("ascii"),
            size=size,
            etag=etag,
            principal_id=principal_id,
            source_ip=source_ip,
            writer=writer,
        )

    def _check_write(self, key: str, event_name: str, writer: str | None) -> None:
        if not key or len(key.encode("utf-8")) > MAX_KEY_BYTES:
            raise ConfigError(
                f"object key {key!r} must be 1 to {MAX_KEY_BYTES} bytes of UTF-8"
            )
        if writer is None or not self.loop_guard:
            return
        config = self.would_trigger(writer, key, event_name)
        if config is not None:
            raise ConfigError(
                f"loop guard: {writer} writing {key!r} into bucket {self.name!r} would "
                f"invoke {writer} again through notification {config.id!r} "
                f"({', '.join(config.events)}, prefix {config.prefix!r}, suffix "
                f"{config.suffix!r}), and again for that write, forever. Write under "
                "another prefix or into a second bucket, or switch the loop guard off "
                "to watch the loop.",
                title="Recursive invocation",
            )

    def put_object(
        self,
        key: str,
        content: bytes | str | None = None,
        *,
        time_ms: int,
        size: int | None = None,
        writer: str | None = None,
        principal_id: str = DEFAULT_PRINCIPAL_ID,
        source_ip: str = DEFAULT_SOURCE_IP,
    ) -> ObjectOperation:
        """Store an object (PUT) and return the operation to notify about."""
        event_name = "ObjectCreated:Put"
        self._check_write(key, event_name, writer)
        data = content.encode("utf-8") if isinstance(content, str) else content
        if data is not None and size is not None and size != len(data):
            raise ConfigError(
                f"object {key!r}: size {size} disagrees with the {len(data)} bytes of "
                "content; give one or the other"
            )
        if size is not None and size < 0:
            raise ConfigError(f"object {key!r}: size {size} cannot be negative")
        if data is not None:
            length, etag = len(data), _md5(data)
        else:
            length = size or 0
            stand_in = f"{self.name}/{key}:{length}".encode()
            etag = _md5(b"" if length == 0 else stand_in)
        self._objects[key] = S3Object(key, length, etag)
        return self._operation(
            event_name,
            key,
            time_ms,
            size=length,
            etag=etag,
            writer=writer,
            principal_id=principal_id,
            source_ip=source_ip,
        )

    def copy_object(
        self,
        source_key: str,
        key: str,
        *,
        time_ms: int,
        source_bucket: Bucket | None = None,
        writer: str | None = None,
        principal_id: str = DEFAULT_PRINCIPAL_ID,
        source_ip: str = DEFAULT_SOURCE_IP,
    ) -> ObjectOperation:
        """Copy an object into this bucket (CopyObject) and return the operation."""
        origin = self if source_bucket is None else source_bucket
        source = origin._objects.get(source_key)
        if source is None:
            raise ConfigError(
                f"bucket {origin.name!r} has no object {source_key!r} to copy; put it first"
            )
        event_name = "ObjectCreated:Copy"
        self._check_write(key, event_name, writer)
        self._objects[key] = S3Object(key, source.size, source.etag)
        return self._operation(
            event_name,
            key,
            time_ms,
            size=source.size,
            etag=source.etag,
            writer=writer,
            principal_id=principal_id,
            source_ip=source_ip,
        )

    def delete_object(
        self,
        key: str,
        *,
        time_ms: int,
        writer: str | None = None,
        principal_id: str = DEFAULT_PRINCIPAL_ID,
        source_ip: str = DEFAULT_SOURCE_IP,
    ) -> ObjectOperation:
        """Delete an object (DeleteObject); records of deletes carry no size or ETag."""
        event_name = "ObjectRemoved:Delete"
        self._check_write(key, event_name, writer)
        self._objects.pop(key, None)
        return self._operation(
            event_name,
            key,
            time_ms,
            size=None,
            etag=None,
            writer=writer,
            principal_id=principal_id,
            source_ip=source_ip,
        )

    def matching_notifications(
        self, operation: ObjectOperation
    ) -> list[NotificationConfiguration]:
        """Rules whose event types and filters match one operation."""
        return [
            config
            for config in self._notifications
            if config.matches_event(operation.event_name)
            and config.matches_key(operation.key)
        ]

    def record(self, operation: ObjectOperation, configuration_id: str) -> JsonObject:
        """The event record S3 sends for one operation under one rule."""
        return s3_record(
            bucket=self.name,
            key=operation.key,
            event_name=operation.event_name,
            time_ms=operation.time_ms,
            sequencer=operation.sequencer,
            configuration_id=configuration_id,
            size=operation.size,
            etag=operation.etag,
            region=self.region,
            owner_id=self.owner_id,
            principal_id=operation.principal_id,
            source_ip=operation.source_ip,
            request_id=operation.request_id,
            host_id=operation.host_id,
        )

    def deliveries(self, operation: ObjectOperation) -> list[Delivery]:
        """The asynchronous invokes S3 requests for one operation: one per matching rule."""
        return [
            Delivery(
                config.function_name, {"Records": [self.record(operation, config.id)]}
            )
            for config in self.matching_notifications(operation)
        ]
