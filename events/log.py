"""The compact on-disk event log that offline replay and training read.

A log is a directory with one file per topic (``posts.pb.zst``, ``engagements.pb.zst``,
``social_graph.pb.zst``, ``served.pb.zst``). Each file is one zstd stream of records, each record
``varint(len(payload) + 1) || payload`` where payload is the serialized protobuf value of that
topic. The stream starts with a magic header and ends with a ``varint(0)`` end marker followed by
the record count, so a file cut short (a crashed writer, a partial copy) is reported as truncated
instead of silently replaying fewer events.

Within a file records are in write order, which producers keep equal to time order;
``EventLog.merged()`` merges the four files by event time into one global stream.
"""

from __future__ import annotations

import heapq
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

import zstandard
from google.protobuf.message import DecodeError, Message

from infra.snowflake import snowflake_timestamp_ms
from protos import events_pb2

MAGIC = b"FYEVLOG1"
TOPICS: dict[str, type[Message]] = {
    "posts": events_pb2.PostEvent,
    "engagements": events_pb2.EngagementEvent,
    "social_graph": events_pb2.SocialGraphEvent,
    "served": events_pb2.ServedFeed,
}
"""Topic name -> protobuf value type; the order is the tie-break order of ``merged()`` (a post
exists before anyone engages with it)."""

FILE_SUFFIX = ".pb.zst"


class EventLogError(ValueError):
    """The log file is corrupt, truncated or not an event log."""


def event_time_ms(topic: str, message: Message) -> int:
    """The time an event happened, in epoch ms (the merge key of ``EventLog.merged``)."""
    if topic == "posts":
        kind = message.WhichOneof("event")
        if kind == "created":
            ts = snowflake_timestamp_ms(message.created.post_id)
            return ts if ts is not None else message.created.created_at * 1000
        if kind == "deleted":
            return message.deleted.deleted_at * 1000
        return 0
    if topic == "served":
        return message.served_at_ms
    return message.timestamp_ms


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _read_varint(stream: BinaryIO, path: Path) -> int | None:
    """Next varint, or None at a clean end of stream (no byte at all)."""
    shift = 0
    result = 0
    while True:
        b = stream.read(1)
        if not b:
            if shift == 0:
                return None
            raise EventLogError(f"{path}: truncated inside a record length")
        result |= (b[0] & 0x7F) << shift
        if not b[0] & 0x80:
            return result
        shift += 7
        if shift > 63:
            raise EventLogError(f"{path}: corrupt record length")


class _TopicWriter:
    def __init__(self, path: Path, level: int) -> None:
        self.path = path
        self._raw = open(path, "wb")  # noqa: SIM115 - closed in close()
        self._zst = zstandard.ZstdCompressor(level=level).stream_writer(self._raw, closefd=False)
        self._zst.write(MAGIC)
        self.count = 0

    def write(self, payload: bytes) -> None:
        self._zst.write(_varint(len(payload) + 1))
        self._zst.write(payload)
        self.count += 1

    def close(self) -> None:
        self._zst.write(_varint(0))
        self._zst.write(_varint(self.count))
        self._zst.close()
        self._raw.close()


class EventLogWriter:
    """Writes an event log directory; use as a context manager so every file gets its end marker.

    Events must be written in time order per topic (the world and MovieLens producers do)."""

    def __init__(self, directory: str | Path, *, level: int = 3) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._level = level
        self._writers: dict[str, _TopicWriter] = {}
        self._closed = False

    def __enter__(self) -> EventLogWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def _writer(self, topic: str) -> _TopicWriter:
        if self._closed:
            raise ValueError("EventLogWriter is closed")
        writer = self._writers.get(topic)
        if writer is None:
            writer = self._writers[topic] = _TopicWriter(self.directory / f"{topic}{FILE_SUFFIX}", self._level)
        return writer

    def write(self, topic: str, message: Message) -> None:
        """Append one event; ``message`` must be the topic's value type."""
        expected = TOPICS.get(topic)
        if expected is None:
            raise ValueError(f"unknown topic {topic!r}; expected one of {sorted(TOPICS)}")
        if not isinstance(message, expected):
            raise TypeError(f"topic {topic!r} takes {expected.__name__}, got {type(message).__name__}")
        self._writer(topic).write(message.SerializeToString())

    def write_post(self, event: events_pb2.PostEvent) -> None:
        self.write("posts", event)

    def write_engagement(self, event: events_pb2.EngagementEvent) -> None:
        self.write("engagements", event)

    def write_social(self, event: events_pb2.SocialGraphEvent) -> None:
        self.write("social_graph", event)

    def write_served(self, event: events_pb2.ServedFeed) -> None:
        self.write("served", event)

    def counts(self) -> dict[str, int]:
        return {topic: w.count for topic, w in self._writers.items()}

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        # Every topic gets a file, empty or not, so readers can tell "no events" from "missing".
        for topic in TOPICS:
            self._writer_for_close(topic)
        for writer in self._writers.values():
            writer.close()

    def _writer_for_close(self, topic: str) -> None:
        if topic not in self._writers:
            self._writers[topic] = _TopicWriter(self.directory / f"{topic}{FILE_SUFFIX}", self._level)


class EventLog:
    """Reads an event log directory written by ``EventLogWriter``."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        if not self.directory.is_dir():
            raise FileNotFoundError(f"event log directory {self.directory} does not exist")

    def path(self, topic: str) -> Path:
        if topic not in TOPICS:
            raise ValueError(f"unknown topic {topic!r}; expected one of {sorted(TOPICS)}")
        return self.directory / f"{topic}{FILE_SUFFIX}"

    def read(self, topic: str) -> Iterator[Message]:
        """Every event of ``topic`` in file (= time) order; a missing file reads as empty."""
        path = self.path(topic)
        if not path.exists():
            return
        parse: Callable[[bytes], Message] = TOPICS[topic].FromString
        with open(path, "rb") as raw:
            try:
                reader = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
                stream = io.BufferedReader(reader, buffer_size=1 << 20)
                header = stream.read(len(MAGIC))
            except zstandard.ZstdError as exc:
                raise EventLogError(f"{path}: not a zstd event log ({exc})") from exc
            if header != MAGIC:
                raise EventLogError(f"{path}: not an event log (bad magic {header[:8]!r})")
            count = 0
            try:
                while True:
                    size = _read_varint(stream, path)
                    if size is None:
                        raise EventLogError(f"{path}: truncated after {count} records (no end marker)")
                    if size == 0:
                        trailer = _read_varint(stream, path)
                        if trailer != count:
                            raise EventLogError(f"{path}: end marker says {trailer} records, read {count}")
                        return
                    payload = stream.read(size - 1)
                    if len(payload) != size - 1:
                        raise EventLogError(f"{path}: truncated inside record {count}")
                    try:
                        message = parse(payload)
                    except DecodeError as exc:
                        raise EventLogError(f"{path}: record {count} does not decode: {exc}") from exc
                    count += 1
                    yield message
            except zstandard.ZstdError as exc:
                raise EventLogError(f"{path}: corrupt zstd data after {count} records ({exc})") from exc

    def posts(self) -> Iterator[events_pb2.PostEvent]:
        return self.read("posts")  # type: ignore[return-value]

    def engagements(self) -> Iterator[events_pb2.EngagementEvent]:
        return self.read("engagements")  # type: ignore[return-value]

    def social_graph(self) -> Iterator[events_pb2.SocialGraphEvent]:
        return self.read("social_graph")  # type: ignore[return-value]

    def served(self) -> Iterator[events_pb2.ServedFeed]:
        return self.read("served")  # type: ignore[return-value]

    def merged(self) -> Iterator[tuple[str, Message]]:
        """Every event of every topic as ``(topic, message)`` in global time order; equal times
        keep topic order (posts, engagements, social_graph, served) and file order."""
        streams = [self._timed(rank, topic) for rank, topic in enumerate(TOPICS)]
        for _, _, topic, message in heapq.merge(*streams, key=lambda item: (item[0], item[1])):
            yield topic, message

    def _timed(self, rank: int, topic: str) -> Iterator[tuple[int, int, str, Message]]:
        for message in self.read(topic):
            yield event_time_ms(topic, message), rank, topic, message
