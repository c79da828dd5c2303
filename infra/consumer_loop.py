"""A Kafka consumer loop shared by every ingest (Thunder, user state, the retrieval index).

It gives each consumer the same guarantees (DESIGN.md §3):
* malformed messages are counted, logged (rate-limited), optionally copied to a dead-letter
  topic, and skipped: they never stop the loop;
* a handler error on a batch is retried message by message so one bad event cannot hold back
  the others; events that still fail are counted and dead-lettered;
* offsets are committed only after the handler applied the batch (group mode), so a crash
  replays rather than loses; handlers must therefore be idempotent (they are, by event id);
* poll errors (broker gone, restarting, paused) back off 100 ms and retry, as X's Thunder does;
* ``caught_up`` is set once the consumer has read up to the high-water mark seen at that time,
  which services use to report NOT_SERVING on health until the retained window is rebuilt.

Two modes: ``group_id`` set -> subscribe with that group (commits, resume where it left off);
``group_id`` None -> assign every partition of the topics and read from the beginning (a
rebuild on every start, as X's serving Thunder does with a fresh group), no commits.

Two kinds of consumer share that loop: :class:`EventConsumer` decodes each message with protobuf
and hands the handler decoded :class:`Record` s; :class:`RawBatchConsumer` hands the handler a
whole poll's raw values at once (:class:`RawBatch`) for a handler that decodes a batch faster
than message by message (Thunder's ingest), and the handler reports which messages were
malformed, which the loop then counts, logs and dead-letters one by one as above.
"""

from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, Self, TypedDict, TypeVar, Unpack

import numpy as np
from google.protobuf.message import DecodeError, Message
from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError
from prometheus_client import Counter, Gauge

from infra.kafka_io import make_consumer, make_producer

log = logging.getLogger(__name__)

M = TypeVar("M", bound=Message)

CONSUMED = Counter("foryou_kafka_consumed_total", "Kafka messages read", ["consumer", "topic"])
MALFORMED = Counter("foryou_kafka_malformed_total", "Messages that failed to decode or validate", ["consumer", "topic"])
HANDLER_ERRORS = Counter("foryou_kafka_handler_errors_total", "Decoded events the handler failed to apply", ["consumer", "topic"])
LAG = Gauge("foryou_kafka_lag", "Messages behind the high-water mark", ["consumer"])
POLL_ERRORS = Counter("foryou_kafka_poll_errors_total", "Poll failures (broker unavailable, ...)", ["consumer"])


@dataclass(frozen=True)
class Record(Generic[M]):
    """One decoded Kafka message with where it came from."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    timestamp_ms: int
    message: M


Validator = Callable[[M], str | None]
"""Returns None when the message is valid, else why not (the message is then counted malformed)."""


@dataclass(frozen=True)
class RawBatch:
    """One poll's messages, undecoded, in runs of one partition each (in poll order)."""

    values: list[bytes]
    runs: list[tuple[str, int, int]]  # (topic, partition, number of messages)

    def partitions(self) -> np.ndarray:
        """The partition of each message."""
        return np.repeat(np.array([p for _, p, _ in self.runs], dtype=np.int64), [n for _, _, n in self.runs])

    def one(self, i: int) -> RawBatch:
        """A batch of message ``i`` alone."""
        topic, partition = self._run_of(i)
        return RawBatch([self.values[i]], [(topic, partition, 1)])

    def _run_of(self, i: int) -> tuple[str, int]:
        for topic, partition, n in self.runs:
            if i < n:
                return topic, partition
            i -= n
        raise IndexError(i)


RawBatchHandler = Callable[[RawBatch], Sequence[tuple[int, str]]]
"""Applies a batch; returns (index in the batch, why) of each message it found malformed."""


class LoopOptions(TypedDict, total=False):
    """The loop's keyword options, shared by both consumers' constructors (see
    :class:`_ConsumerLoop` for the defaults): broker, group mode, dead letters, poll sizing."""

    bootstrap: str | None
    group_id: str | None
    dead_letter_topic: str | None
    poll_timeout_ms: int
    max_records: int
    consumer_overrides: dict[str, object] | None


class _ConsumerLoop(ABC):
    """The poll loop, offsets, lag and malformed-message handling both consumers share."""

    def __init__(
        self,
        *,
        name: str,
        topics: Sequence[str],
        bootstrap: str | None = None,
        group_id: str | None = None,
        dead_letter_topic: str | None = None,
        poll_timeout_ms: int = 100,
        max_records: int = 2000,
        consumer_overrides: dict[str, object] | None = None,
    ) -> None:
        self.name = name
        self.topics = list(topics)
        self.bootstrap = bootstrap
        self.group_id = group_id
        self.dead_letter_topic = dead_letter_topic
        self.poll_timeout_ms = poll_timeout_ms
        self.max_records = max_records
        self.consumer_overrides = consumer_overrides or {}
        self.caught_up = threading.Event()
        self.consumed = 0
        self.malformed = 0
        self.handler_errors = 0
        self.applied = 0
        self.lag: int | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._consumer: KafkaConsumer | None = None
        self._dlq_producer = None
        self._last_malformed_log = 0.0

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> Self:
        self._thread = threading.Thread(target=self._run, name=f"consumer-{self.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop polling, commit what was applied, close the client."""
        self._stop.set()
        if self._thread:
            self._thread.join(timeout_s)

    def wait_caught_up(self, timeout_s: float) -> bool:
        return self.caught_up.wait(timeout_s)

    @property
    def running(self) -> bool:
        return bool(self._thread and self._thread.is_alive())

    # -- loop ------------------------------------------------------------------------------------
    def _connect(self) -> KafkaConsumer:
        overrides = dict(max_poll_records=self.max_records, **self.consumer_overrides)
        if self.group_id:
            return make_consumer(self.topics, group_id=self.group_id, bootstrap=self.bootstrap, **overrides)
        consumer = make_consumer(None, group_id=None, bootstrap=self.bootstrap, **overrides)
        partitions: list[TopicPartition] = []
        deadline = time.monotonic() + 30
        for topic in self.topics:
            parts = consumer.partitions_for_topic(topic)
            while not parts and time.monotonic() < deadline and not self._stop.is_set():
                time.sleep(0.1)
                parts = consumer.partitions_for_topic(topic)
            partitions += [TopicPartition(topic, p) for p in sorted(parts or [])]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        return consumer

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._consumer = self._connect()
                break
            except (KafkaError, OSError, ValueError) as exc:
                POLL_ERRORS.labels(self.name).inc()
                log.warning("%s: cannot connect yet (%s); retrying", self.name, exc)
                time.sleep(0.5)
        consumer = self._consumer
        if consumer is None:
            return
        try:
            while not self._stop.is_set():
                try:
                    batches = consumer.poll(timeout_ms=self.poll_timeout_ms, max_records=self.max_records)
                except KafkaError as exc:
                    POLL_ERRORS.labels(self.name).inc()
                    log.warning("%s: poll failed (%s); backing off", self.name, exc)
                    time.sleep(0.1)
                    continue
                if any(batches.values()):
                    self._process(batches)
                    # after the batch: ``consumed`` counts messages fully handled, so a reader
                    # seeing it reach N also sees their applied / malformed / failed counts
                    self._count_consumed(batches)
                    if self.group_id:
                        self._commit(consumer)
                self._update_lag(consumer)
        finally:
            if self.group_id:
                self._commit(consumer)
            consumer.close(autocommit=False)
            if self._dlq_producer is not None:
                self._dlq_producer.flush(5)
                self._dlq_producer.close(5)

    def _commit(self, consumer: KafkaConsumer) -> None:
        try:
            consumer.commit()
        except KafkaError as exc:  # replays are harmless: handlers are idempotent
            log.warning("%s: commit failed (%s); events will be re-read and deduplicated", self.name, exc)

    def _update_lag(self, consumer: KafkaConsumer) -> None:
        assignment = consumer.assignment()
        if not assignment:
            return
        total = 0
        for tp in assignment:
            high = consumer.highwater(tp)
            if high is None:
                return  # no fetch response for this partition yet
            try:
                total += max(0, high - consumer.position(tp))
            except KafkaError:
                return
        self.lag = total
        LAG.labels(self.name).set(total)
        if total == 0 and not self.caught_up.is_set():
            log.info("%s: caught up (%d applied, %d malformed)", self.name, self.applied, self.malformed)
            self.caught_up.set()

    @abstractmethod
    def _process(self, batches: dict[TopicPartition, list]) -> None:
        """Apply one poll's records (each subclass decodes them its own way)."""

    def _count_consumed(self, batches: dict[TopicPartition, list]) -> int:
        per_topic: dict[str, int] = {}
        for tp, records in batches.items():  # one labelled-counter lookup per batch, not per event
            per_topic[tp.topic] = per_topic.get(tp.topic, 0) + len(records)
        for topic, count in per_topic.items():
            CONSUMED.labels(self.name, topic).inc(count)
        total = sum(per_topic.values())
        self.consumed += total
        return total

    def _malformed(self, topic: str, partition: int, offset: int, key: bytes | None, value: bytes | None,
                   reason: str) -> None:
        """Count, log (at most every 5 s) and dead-letter one malformed message."""
        self.malformed += 1
        MALFORMED.labels(self.name, topic).inc()
        now = time.monotonic()
        if now - self._last_malformed_log > 5:
            self._last_malformed_log = now
            log.warning("%s: skipping malformed message %s[%d]@%d: %s (total %d)",
                        self.name, topic, partition, offset, reason, self.malformed)
        self._dead_letter(topic, key, value, reason)

    def _handler_failed(self, topic: str, key: bytes | None, value: bytes | None, exc: Exception) -> None:
        self.handler_errors += 1
        HANDLER_ERRORS.labels(self.name, topic).inc()
        self._dead_letter(topic, key, value, f"handler: {exc}")

    def _dead_letter(self, topic: str, key: bytes | None, value: bytes | None, reason: str) -> None:
        if not self.dead_letter_topic:
            return
        try:
            if self._dlq_producer is None:
                self._dlq_producer = make_producer(self.bootstrap)
            headers = [("source_topic", topic.encode()), ("reason", reason[:200].encode()), ("consumer", self.name.encode())]
            self._dlq_producer.send(self.dead_letter_topic, key=key, value=value or b"", headers=headers)
        except KafkaError as exc:
            log.warning("%s: dead-letter publish failed: %s", self.name, exc)


class EventConsumer(_ConsumerLoop, Generic[M]):
    """Runs ``handler`` over batches of decoded protobuf events on a background thread."""

    def __init__(
        self,
        *,
        name: str,
        topics: Sequence[str],
        message_type: type[M],
        handler: Callable[[list[Record[M]]], None],
        validator: Validator[M] | None = None,
        **options: Unpack[LoopOptions],
    ) -> None:
        super().__init__(name=name, topics=topics, **options)
        self.message_type = message_type
        self.handler = handler
        self.validator = validator

    def _process(self, batches: dict[TopicPartition, list]) -> None:
        decoded: list[Record[M]] = []
        for records in batches.values():
            for r in records:
                msg = self._decode(r)
                if msg is not None:
                    decoded.append(Record(r.topic, r.partition, r.offset, r.key, r.timestamp, msg))
        if not decoded:
            return
        try:
            self.handler(decoded)
            self.applied += len(decoded)
        except Exception:  # noqa: BLE001 - isolate the bad event, keep the rest
            log.exception("%s: batch handler failed; retrying events one by one", self.name)
            for rec in decoded:
                try:
                    self.handler([rec])
                    self.applied += 1
                except Exception as exc:  # noqa: BLE001
                    self._handler_failed(rec.topic, rec.key, rec.message.SerializeToString(), exc)

    def _decode(self, r) -> M | None:
        reason: str | None = None
        msg: M | None = None
        if r.value is None:
            reason = "empty value"
        else:
            try:
                msg = self.message_type.FromString(r.value)
            except (DecodeError, ValueError, TypeError) as exc:
                reason = f"decode: {exc}"
            else:
                if self.validator is not None:
                    reason = self.validator(msg)
        if reason is None:
            return msg
        self._malformed(r.topic, r.partition, r.offset, r.key, r.value, reason)
        return None


class RawBatchConsumer(_ConsumerLoop):
    """Runs ``handler`` over each poll's raw values (:class:`RawBatch`) on a background thread;
    the handler decodes them itself and reports the malformed ones."""

    def __init__(
        self,
        *,
        name: str,
        topics: Sequence[str],
        handler: RawBatchHandler,
        **options: Unpack[LoopOptions],
    ) -> None:
        super().__init__(name=name, topics=topics, **options)
        self.handler = handler

    def _process(self, batches: dict[TopicPartition, list]) -> None:
        records: list = []
        values: list[bytes] = []
        runs: list[tuple[str, int, int]] = []
        for tp, part in batches.items():
            part_values = [r.value for r in part]
            if None in part_values:  # a null value is malformed before any decoding
                for r in part:
                    if r.value is None:
                        self._malformed(r.topic, r.partition, r.offset, r.key, None, "empty value")
                part = [r for r in part if r.value is not None]
                part_values = [r.value for r in part]
            if part:
                records += part
                values += part_values
                runs.append((tp.topic, tp.partition, len(part)))
        if not values:
            return
        batch = RawBatch(values, runs)
        failed = 0
        try:
            malformed = list(self.handler(batch))
        except Exception:  # noqa: BLE001 - isolate the bad event, keep the rest
            log.exception("%s: batch handler failed; retrying events one by one", self.name)
            malformed, failed = self._one_by_one(batch, records)
        for i, reason in malformed:
            r = records[i]
            self._malformed(r.topic, r.partition, r.offset, r.key, r.value, reason)
        self.applied += len(values) - len(malformed) - failed

    def _one_by_one(self, batch: RawBatch, records: list) -> tuple[list[tuple[int, str]], int]:
        """(malformed, number that failed) when each message is handled alone."""
        malformed: list[tuple[int, str]] = []
        failed = 0
        for i, r in enumerate(records):
            try:
                malformed += [(i, reason) for _, reason in self.handler(batch.one(i))]
            except Exception as exc:  # noqa: BLE001
                failed += 1
                self._handler_failed(r.topic, r.key, r.value, exc)
        return malformed, failed
