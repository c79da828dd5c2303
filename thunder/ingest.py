"""Applies ``posts`` topic events to a :class:`PostStore` (the handler given to ``RawBatchConsumer``).

A poll's raw values are decoded at once (:mod:`thunder.post_event_decoder`); the creates go in
as one columnar insert, then the deletes: since a delete is permanent (tombstone), "all creates
then all deletes" ends in the same state as event order, whatever the interleaving. Replays and
duplicates change nothing because inserts skip stored or tombstoned ids.

Sharded mode (``owned_partitions``): creates from the shard's own partitions are stored and
served; creates from the others only go to the store's parent directory (see
:mod:`thunder.parent_directory`); deletes apply to both.
"""

from __future__ import annotations

import logging

import numpy as np

from infra.consumer_loop import RawBatch
from thunder.metrics import INGESTED
from thunder.post_event_decoder import decode_post_events, validate_post_event
from thunder.post_store import PostStore

log = logging.getLogger(__name__)

__all__ = ["PostIngest", "validate_post_event"]


class PostIngest:
    """Batch handler; counts what it applied for metrics and the bench."""

    def __init__(self, store: PostStore, instance: str = "thunder", owned_partitions: set[int] | None = None) -> None:
        self.store = store
        self.owned_partitions = None if owned_partitions is None else np.array(sorted(owned_partitions), dtype=np.int64)
        self.instance = instance
        self.inserted = 0
        self.deleted = 0
        self.skipped = 0
        self._inserted = INGESTED.labels(instance, "inserted")
        self._skipped = INGESTED.labels(instance, "skipped")
        self._foreign = INGESTED.labels(instance, "foreign")
        self._deleted = INGESTED.labels(instance, "deleted")

    def __call__(self, batch: RawBatch) -> list[tuple[int, str]]:
        """Apply a poll's events; returns the malformed ones as (index, why)."""
        events = decode_post_events(batch.values)
        posts = events.posts
        if self.owned_partitions is not None and len(events.created):
            owned = np.isin(batch.partitions()[events.created], self.owned_partitions)
            foreign = posts.select(~owned)
            posts = posts.select(owned)
            if len(foreign):
                self._foreign.inc(self.store.insert_foreign(foreign).inserted)
        if len(posts):
            result = self.store.insert(posts)
            skipped = len(posts) - result.inserted
            self.inserted += result.inserted
            self.skipped += skipped
            self._inserted.inc(result.inserted)
            self._skipped.inc(skipped)
        if len(events.deleted):
            removed = self.store.delete(events.deleted_post_ids, events.deleted_at)
            self.deleted += len(events.deleted)
            self._deleted.inc(len(events.deleted))
            log.debug("%s: %d deletes, %d stored posts removed", self.instance, len(events.deleted), removed)
        return events.malformed
