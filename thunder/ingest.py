"""Applies ``posts`` topic events to a :class:`PostStore` (the handler given to ``EventConsumer``).

Creates in a batch go in as one columnar insert, then the deletes: since a delete is permanent
(tombstone), "all creates then all deletes" ends in the same state as event order, whatever the
interleaving. Replays and duplicates change nothing because inserts skip stored or tombstoned ids.

Sharded mode (``owned_partitions``): creates from the shard's own partitions are stored and
served; creates from the others only go to the store's parent directory (see
:mod:`thunder.parent_directory`); deletes apply to both.
"""

from __future__ import annotations

import logging

from infra.consumer_loop import Record
from protos import events_pb2
from thunder.metrics import INGESTED
from thunder.post_batch import PostBatch, post_fields
from thunder.post_store import PostStore

log = logging.getLogger(__name__)


def validate_post_event(event: events_pb2.PostEvent) -> str | None:
    """None when the event can be applied, else why not (the consumer counts it malformed)."""
    kind = event.WhichOneof("event")
    if kind is None:
        return "PostEvent has neither created nor deleted"
    if kind == "created":
        post = event.created
        if post.post_id <= 0:
            return f"created.post_id must be positive, got {post.post_id}"
        if post.author_id <= 0:
            return f"created.author_id must be positive, got {post.author_id}"
        if post.created_at <= 0:
            return f"created.created_at must be epoch seconds > 0, got {post.created_at}"
        return None
    if event.deleted.post_id <= 0:
        return f"deleted.post_id must be positive, got {event.deleted.post_id}"
    return None


class PostIngest:
    """Callable batch handler; counts what it applied for metrics and the bench."""

    def __init__(self, store: PostStore, instance: str = "thunder", owned_partitions: set[int] | None = None) -> None:
        self.store = store
        self.owned_partitions = owned_partitions
        self.instance = instance
        self.inserted = 0
        self.deleted = 0
        self.skipped = 0

    def __call__(self, records: list[Record[events_pb2.PostEvent]]) -> None:
        owned = self.owned_partitions
        creates: list[tuple[int, ...]] = []
        foreign: list[tuple[int, ...]] = []
        if owned is None:  # the hot path: one comprehension, one C-level field read per event
            creates = [post_fields(m.created) for r in records if (m := r.message).HasField("created")]
        else:
            for r in records:
                if r.message.HasField("created"):
                    (creates if r.partition in owned else foreign).append(post_fields(r.message.created))
        delete_ids: list[int] = []
        delete_times: list[int] = []
        if len(creates) + len(foreign) < len(records):
            for r in records:
                if r.message.HasField("deleted"):
                    delete_ids.append(r.message.deleted.post_id)
                    delete_times.append(r.message.deleted.deleted_at)
        if creates:
            result = self.store.insert(PostBatch.from_fields(creates))
            self.inserted += result.inserted
            skipped = len(creates) - result.inserted
            self.skipped += skipped
            INGESTED.labels(self.instance, "inserted").inc(result.inserted)
            INGESTED.labels(self.instance, "skipped").inc(skipped)
        if foreign:
            result = self.store.insert_foreign(PostBatch.from_fields(foreign))
            INGESTED.labels(self.instance, "foreign").inc(result.inserted)
        if delete_ids:
            removed = self.store.delete(delete_ids, delete_times)
            self.deleted += len(delete_ids)
            INGESTED.labels(self.instance, "deleted").inc(len(delete_ids))
            log.debug("%s: %d deletes, %d stored posts removed", self.instance, len(delete_ids), removed)
