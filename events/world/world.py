"""The synthetic world: its population, posts and the oracle, plus the generated event stream.

``World.generate(config)`` builds the world model (deterministic by ``config.seed``) and returns a
``WorldData`` whose ``events()`` replays the simulation in global time order. The stream is
re-simulated on each call rather than held in memory, so a world with millions of events costs
only its column tables; two calls yield identical events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from google.protobuf.message import Message

from events.world.actions import ORACLE_ACTIONS
from events.world.config import HOUR_MS, WorldConfig
from events.world.oracle import ImpressionContext, expected_oracle_row, oracle_matrix
from events.world.population import Population, build_population
from events.world.posts import (
    LABELS,
    NO_WORD,
    QUALITY_NOISE_STD,
    QUOTE,
    REPLY,
    REPOST,
    PostTable,
    build_posts,
    label_prior,
)
from events.world.vocabulary import Vocabulary
from protos import events_pb2


@dataclass
class World:
    config: WorldConfig
    vocabulary: Vocabulary
    population: Population
    posts: PostTable

    @classmethod
    def build(cls, config: WorldConfig) -> World:
        seeds = np.random.SeedSequence(config.seed).spawn(3)
        rngs = [np.random.default_rng(s) for s in seeds]
        vocabulary = Vocabulary.build(config.n_topics, config.words_per_topic, rngs[0])
        population = build_population(config, rngs[1])
        posts = build_posts(config, population, rngs[2])
        return cls(config, vocabulary, population, posts)

    @classmethod
    def generate(cls, config: WorldConfig) -> WorldData:
        return WorldData(cls.build(config))

    # -- ids ---------------------------------------------------------------------------------
    @property
    def user_ids(self) -> np.ndarray:
        return np.arange(1, self.population.n_users + 1, dtype=np.int64)

    def user_index(self, user_id: int) -> int:
        if not 1 <= user_id <= self.population.n_users:
            raise KeyError(f"user {user_id} is not in this world (ids are 1..{self.population.n_users})")
        return user_id - 1

    def initially_follows(self, user_id: int, author_id: int) -> bool:
        follows = self.population.follows[self.user_index(user_id)]
        i = int(np.searchsorted(follows, author_id - 1))
        return i < len(follows) and int(follows[i]) == author_id - 1

    # -- posts -------------------------------------------------------------------------------
    def post_text(self, row: int) -> str:
        words = self.posts.words[row]
        return self.vocabulary.text(words[words != NO_WORD])

    def post_created(self, row: int) -> events_pb2.PostCreated:
        p = self.posts
        kind = int(p.kind[row])
        post = events_pb2.PostCreated(
            post_id=int(p.post_id[row]),
            author_id=int(p.author[row]) + 1,
            created_at=int(p.created_ms[row]) // 1000,
            has_video=bool(p.has_video[row]),
            conversation_id=int(p.post_id[p.conversation[row]]),
            text=self.post_text(row),
            video_duration_ms=int(p.video_ms[row]),
            has_media=bool(p.has_media[row]),
            language_code="en",
            topic_id=int(p.topic[row]) + 1,
        )
        if p.label[row]:
            post.labels.append(LABELS[int(p.label[row])])
        parent = int(p.parent[row])
        if kind == REPLY:
            post.is_reply = True
            post.in_reply_to_post_id = int(p.post_id[parent])
            post.in_reply_to_user_id = int(p.author[parent]) + 1
        elif kind == REPOST:
            post.is_retweet = True
            post.source_post_id = int(p.post_id[parent])
            post.source_user_id = int(p.author[parent]) + 1
        elif kind == QUOTE:
            post.quoted_post_id = int(p.post_id[parent])
            post.quoted_user_id = int(p.author[parent]) + 1
        return post

    # -- the oracle --------------------------------------------------------------------------
    def oracle_rows(self, users: np.ndarray, rows: np.ndarray, positions: np.ndarray, follows: np.ndarray,
                    now_ms: np.ndarray) -> np.ndarray:
        """Oracle probabilities (n, len(ORACLE_ACTIONS)) for user indices x post rows."""
        p = self.posts
        return oracle_matrix(
            affinity=self.population.affinity[users, p.topic[rows]],
            quality=p.quality[rows],
            follows=follows.astype(np.float64),
            age_ms=now_ms - p.created_ms[rows],
            position=positions,
            is_reply=p.kind[rows] == REPLY,
            is_repost=p.kind[rows] == REPOST,
            label=p.label[rows],
            has_video=p.has_video[rows],
            has_media=p.has_media[rows],
        )

    def oracle_probabilities(self, user_id: int, post_id: int,
                             context: ImpressionContext | None = None) -> dict[str, float]:
        """The true probability of every action in ``ORACLE_ACTIONS`` for this impression."""
        u, row, follows, now, position = self._impression(user_id, post_id, context)
        probs = self.oracle_rows(np.array([u]), np.array([row]), np.array([position]),
                                 np.array([follows]), np.array([now], dtype=np.int64))[0]
        return {name: float(probs[i]) for i, name in enumerate(ORACLE_ACTIONS)}

    def knowable_oracle_probabilities(self, user_id: int, post_id: int, context: ImpressionContext | None = None,
                                      *, know_labels: bool = False) -> dict[str, float]:
        """The oracle limited to what a scoring request can know: the post's quality noise (and,
        unless ``know_labels``, its safety label) replaced by their distribution given the author
        (``expected_oracle_row``). The author, topic, follow state, age and post kind stay exact.
        A repost is judged by its source post, whose quality and label it carries."""
        u, row, follows, now, position = self._impression(user_id, post_id, context)
        p = self.posts
        source = p.source_row(row)
        if know_labels:
            label_probs = np.eye(len(LABELS))[int(p.label[source])]
        else:
            label_probs = label_prior(self.config)
        probs = expected_oracle_row(
            affinity=float(self.population.affinity[u, p.topic[row]]),
            author_quality=float(self.population.quality[p.author[source]]),
            noise_std=QUALITY_NOISE_STD, label_probs=label_probs, follows=bool(follows),
            age_ms=now - int(p.created_ms[row]), position=position, is_reply=bool(p.kind[row] == REPLY),
            is_repost=bool(p.kind[row] == REPOST), has_video=bool(p.has_video[row]),
            has_media=bool(p.has_media[row]),
        )
        return {name: float(probs[i]) for i, name in enumerate(ORACLE_ACTIONS)}

    def _impression(self, user_id: int, post_id: int,
                    context: ImpressionContext | None) -> tuple[int, int, bool, int, int]:
        """(user index, post row, follows, now ms, position) of an impression, defaults filled in."""
        context = context or ImpressionContext()
        u = self.user_index(user_id)
        row = self.posts.row_of(post_id)
        author_id = int(self.posts.author[row]) + 1
        follows = context.follows_author
        if follows is None:
            follows = self.initially_follows(user_id, author_id)
        now = context.now_ms if context.now_ms is not None else int(self.posts.created_ms[row]) + HOUR_MS
        return u, row, bool(follows), int(now), context.position


@dataclass
class WorldData:
    """A generated world and its event stream (re-simulated, identically, on every iteration)."""

    world: World
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def config(self) -> WorldConfig:
        return self.world.config

    def events(self, on_progress: Callable[[int], None] | None = None) -> Iterator[tuple[str, Message]]:
        """Every event as ``(topic, message)`` in global time order."""
        from events.world.sessions import Simulation

        counts: dict[str, int] = {}
        for topic, message in Simulation(self.world).run(on_progress):
            counts[topic] = counts.get(topic, 0) + 1
            yield topic, message
        self.counts = counts

    def progress_total(self) -> int:
        from events.world.sessions import Simulation

        return Simulation(self.world).agenda_size()


def write_to_log(data: WorldData, directory: str | Path, *, progress: bool = True) -> dict[str, int]:
    """Write the world's events to an event log directory (with a rich progress bar)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from events.log import EventLogWriter

    with EventLogWriter(directory) as writer, Progress(
        TextColumn("[bold]world[/] {task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        disable=not progress, transient=False,
    ) as bar:
        task = bar.add_task("simulating", total=data.progress_total())
        for topic, message in data.events(on_progress=lambda n: bar.advance(task, n)):
            writer.write(topic, message)
        bar.update(task, description="written")
        return writer.counts()
