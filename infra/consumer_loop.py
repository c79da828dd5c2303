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
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

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


class EventConsumer(Generic[M]):
    """Runs ``handler`` over batches of decoded protobuf events on a background thread."""

    def __init__(
        self,
        *,
        name: str,
        topics: Sequence[str],
        message_type: type[M],
        handler: Callable[[list[Record[M]]], None],
        bootstrap: str | None = None,
        group_id: str | None = None,
        validator: Validator[M] | None = None,
        dead_letter_topic: str | None = None,
        poll_timeout_ms: int = 100,
        max_records: int = 2000,
        consumer_overrides: dict[str, object] | None = None,
    ) -> None:
        self.name = name
        self.topics = list(topics)
        self.message_type = message_type
        self.handler = handler
        self.bootstrap = bootstrap
        self.group_id = group_id
        self.validator = validator
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
    def start(self) -> EventConsumer[M]:
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
                records = [r for part in batches.values() for r in part]
                if records:
                    self._process(records)
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

    def _process(self, raw: list) -> None:
        decoded: list[Record[M]] = []
        per_topic: dict[str, int] = {}
        for r in raw:
            per_topic[r.topic] = per_topic.get(r.topic, 0) + 1
            msg = self._decode(r)
            if msg is not None:
                decoded.append(Record(r.topic, r.partition, r.offset, r.key, r.timestamp, msg))
        self.consumed += len(raw)
        for topic, count in per_topic.items():  # one labelled-counter lookup per batch, not per event
            CONSUMED.labels(self.name, topic).inc(count)
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
                    self.handler_errors += 1
                    HANDLER_ERRORS.labels(self.name, rec.topic).inc()
                    self._dead_letter(rec.topic, rec.key, rec.message.SerializeToString(), f"handler: {exc}")

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
        self.malformed += 1
        MALFORMED.labels(self.name, r.topic).inc()
        now = time.monotonic()
        if now - self._last_malformed_log > 5:
            self._last_malformed_log = now
            log.warning("%s: skipping malformed message %s[%d]@%d: %s (total %d)",
                        self.name, r.topic, r.partition, r.offset, reason, self.malformed)
        self._dead_letter(r.topic, r.key, r.value, reason)
        return None

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
