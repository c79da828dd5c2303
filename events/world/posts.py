"""The posts of a synthetic world as a column table, sorted by creation time.

Kinds: originals, replies (threads: a reply joins its parent's conversation), reposts (of the
original, never of a repost, as on X), and quotes. Parents are recent posts of the same topic,
recency-biased. Text is a bag of words from the post's topic vocabulary (a repost carries its
source's text). Ids are snowflakes of the creation time, so age is readable from the id alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from events.world.config import DAY_MS, WorldConfig
from events.world.population import Population
from infra.snowflake import make_snowflake

ORIGINAL, REPLY, REPOST, QUOTE = 0, 1, 2, 3
NO_WORD = np.iinfo(np.uint16).max
MAX_WORDS = 16
LABELS = ("", "nsfw", "spam")
NSFW, SPAM = 1, 2
# A post's quality = its author's quality + this much Gaussian noise (minus a penalty for spam):
# the part of the oracle no request can know (the ``knowable`` oracle integrates it out).
QUALITY_NOISE_STD = 0.5
SPAM_QUALITY_PENALTY = 2.0


@dataclass(frozen=True)
class PostTable:
    post_id: np.ndarray        # int64, increasing
    created_ms: np.ndarray     # int64, non-decreasing
    author: np.ndarray         # int64 user index
    topic: np.ndarray          # int64
    kind: np.ndarray           # int8: ORIGINAL / REPLY / REPOST / QUOTE
    parent: np.ndarray         # int64 row of the replied / reposted / quoted post, -1 = none
    conversation: np.ndarray   # int64 row of the thread root
    has_video: np.ndarray      # bool
    video_ms: np.ndarray       # int64
    has_media: np.ndarray      # bool (photo or video)
    label: np.ndarray          # int8 index into LABELS
    quality: np.ndarray        # float32: author quality + post noise
    words: np.ndarray          # (n, MAX_WORDS) uint16 word ids, NO_WORD padded

    def __len__(self) -> int:
        return int(self.post_id.shape[0])

    def row_of(self, post_id: int) -> int:
        """Row of a post id; KeyError when the world has no such post."""
        row = int(np.searchsorted(self.post_id, post_id))
        if row >= len(self) or int(self.post_id[row]) != post_id:
            raise KeyError(f"post {post_id} is not in this world")
        return row

    def source_row(self, row: int) -> int:
        """The post whose content a row shows (a repost shows its source)."""
        return int(self.parent[row]) if self.kind[row] == REPOST else row


def label_prior(config: WorldConfig) -> np.ndarray:
    """P(label) over ``LABELS`` for an authored post, as ``build_posts`` draws it."""
    labelled = config.label_fraction / (len(LABELS) - 1)
    return np.array([1.0 - config.label_fraction] + [labelled] * (len(LABELS) - 1))


def build_posts(config: WorldConfig, population: Population, rng: np.random.Generator) -> PostTable:
    counts = rng.poisson(population.posting_rate * config.days)
    author = np.repeat(np.arange(population.n_users), counts)
    n = len(author)
    created = config.start_ms + (rng.random(n) * config.days * DAY_MS).astype(np.int64)
    order = np.argsort(created, kind="stable")
    author, created = author[order], created[order]

    own_topic = rng.random(n) < 0.75
    cum = population.interests[author].cumsum(axis=1)
    sampled_topic = np.minimum((cum < rng.random((n, 1))).sum(axis=1), config.n_topics - 1)
    topic = np.where(own_topic, population.home_topic[author], sampled_topic).astype(np.int64)

    r = rng.random(n)
    kind = np.full(n, ORIGINAL, dtype=np.int8)
    kind[r < config.reply_fraction] = REPLY
    kind[(r >= config.reply_fraction) & (r < config.reply_fraction + config.repost_fraction)] = REPOST
    lo = config.reply_fraction + config.repost_fraction
    kind[(r >= lo) & (r < lo + config.quote_fraction)] = QUOTE

    parent = np.full(n, -1, dtype=np.int64)
    for t in range(config.n_topics):
        rows = np.flatnonzero(topic == t)
        if len(rows) == 0:
            continue
        back = rng.geometric(0.05, len(rows))  # recency-biased: mostly the last few dozen posts
        pos = np.arange(len(rows)) - back
        ok = pos >= 0
        parent[rows[ok]] = rows[pos[ok]]
    no_parent = (kind != ORIGINAL) & (parent < 0)
    kind[no_parent] = ORIGINAL
    parent[kind == ORIGINAL] = -1

    conversation = np.arange(n, dtype=np.int64)
    for i in np.flatnonzero(kind != ORIGINAL):  # parents precede children: one pass resolves chains
        p = parent[i]
        if kind[p] == REPOST:  # nobody replies to, quotes or reposts a repost: they act on its source
            parent[i] = p = parent[p]
        if kind[i] != QUOTE:  # replies join the thread; a repost belongs to its source's thread
            conversation[i] = conversation[p]

    authored = kind != REPOST
    has_video = authored & (rng.random(n) < population.video_propensity[author])
    video_ms = np.where(has_video, 5_000 + rng.lognormal(np.log(20_000), 0.8, n).astype(np.int64), 0)
    has_media = has_video | (authored & (rng.random(n) < config.photo_fraction))
    label = np.zeros(n, dtype=np.int8)
    labelled = authored & (rng.random(n) < config.label_fraction)
    label[labelled] = rng.integers(1, len(LABELS), int(labelled.sum()))
    quality = (population.quality[author] + QUALITY_NOISE_STD * rng.standard_normal(n)).astype(np.float32)
    quality[label == SPAM] -= SPAM_QUALITY_PENALTY  # spam is low quality

    lengths = rng.integers(6, MAX_WORDS + 1, n)
    words = (topic[:, None] * config.words_per_topic + rng.integers(0, config.words_per_topic, (n, MAX_WORDS))).astype(np.uint16)
    words[np.arange(MAX_WORDS)[None, :] >= lengths[:, None]] = NO_WORD
    reposts = np.flatnonzero(kind == REPOST)
    words[reposts] = words[parent[reposts]]
    has_video[reposts] = has_video[parent[reposts]]
    video_ms[reposts] = video_ms[parent[reposts]]
    has_media[reposts] = has_media[parent[reposts]]
    label[reposts] = label[parent[reposts]]
    quality[reposts] = quality[parent[reposts]]

    post_id = np.empty(n, dtype=np.int64)
    prev_ms, seq = -1, 0
    for i, ms in enumerate(created.tolist()):
        seq = seq + 1 if ms == prev_ms else 0
        prev_ms = ms
        post_id[i] = make_snowflake(ms, seq)
    return PostTable(post_id, created, author.astype(np.int64), topic, kind, parent, conversation,
                     has_video, video_ms, has_media, label, quality, words)
