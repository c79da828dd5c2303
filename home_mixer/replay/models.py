"""The models a replay serves with: trained briefly on the events BEFORE the replay window (a time
split, so the models never saw the outcomes they are judged on), or loaded from checkpoints.

Training uses the Phoenix teams' own code paths: ``phoenix.ranker.examples.build_examples`` +
``phoenix.ranker.train.train`` for the ranker, ``phoenix.retrieval.training.train`` for the two
towers, with the ranker team's recipe for small worlds (post-id dropout, weight decay, early
stopping on the latest slice of the training period). Sizes are small on purpose (a replay of
the small world trains in a few minutes on 2 cores); pass checkpoints for production-sized models.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import torch
from google.protobuf.message import Message

from events.log import event_time_ms
from phoenix.hashing import HashConfig
from phoenix.ranker.config import RankerConfig
from phoenix.ranker.engine import RankerEngine
from phoenix.ranker.examples import Example, build_examples
from phoenix.ranker.model import PhoenixRanker
from phoenix.ranker.train import TrainConfig as RankerTrainConfig
from phoenix.ranker.train import train as train_ranker_model
from phoenix.retrieval.index import IndexConfig
from phoenix.retrieval.live_index import LiveIndex
from phoenix.retrieval.model import RetrievalConfig, TwoTowerModel
from phoenix.retrieval.training import TrainConfig as RetrievalTrainConfig
from phoenix.retrieval.training import UserHistory, action_multi_hot
from phoenix.retrieval.training import train as train_retrieval_model
from phoenix.transformer import TransformerConfig
from protos import events_pb2, recsys_pb2

IMPRESSION = recsys_pb2.CLIENT_TWEET_IMPRESSION


@dataclass(frozen=True)
class TrainingBudget:
    """How long the replay trains its models. The ranker trains for ``ranker_epochs`` (early
    stopping keeps the best epoch's weights), optionally capped at ``ranker_max_steps``."""

    ranker_epochs: int = 3
    ranker_max_steps: int | None = None
    retrieval_epochs: int = 6
    max_examples: int | None = None
    early_stop_fraction: float = 0.1  # the latest share of the training examples, held out to pick the epoch
    progress: bool = True

    def __post_init__(self) -> None:
        if self.ranker_epochs < 1 or self.retrieval_epochs < 1:
            raise ValueError("training budgets need at least one epoch")
        if self.ranker_max_steps is not None and self.ranker_max_steps < 1:
            raise ValueError("ranker_max_steps must be >= 1 (or None for no cap)")
        if not 0.0 <= self.early_stop_fraction < 1.0:
            raise ValueError(f"early_stop_fraction must be in [0, 1), got {self.early_stop_fraction}")


# The Phoenix ranker team's training recipe for small synthetic worlds (bench/ranker.py --quality):
# post-id dropout (most posts of the replay window were never seen in training, so the model must
# score from author, topic, counts, kind, age and follow flag), user-id dropout (read the viewer's
# tastes from the history, which carries over to a later period), more weight decay, early stopping.
RANKER_RECIPE = dict(batch_size=32, lr=2e-3, weight_decay=0.05, post_id_dropout=0.5, user_id_dropout=0.5)


@dataclass
class TrainingData:
    """Posts and engagements before the split (the only data the models may learn from)."""

    posts: list[events_pb2.PostEvent]
    engagements: list[events_pb2.EngagementEvent]
    social: list[events_pb2.SocialGraphEvent]

    def add(self, topic: str, msg: Message) -> None:
        if topic == "posts":
            self.posts.append(msg)
        elif topic == "engagements":
            self.engagements.append(msg)
        elif topic == "social_graph":
            self.social.append(msg)

    @classmethod
    def collect(cls, stream: Iterable[tuple[str, Message]], split_ms: int) -> TrainingData:
        data = cls([], [], [])
        for topic, msg in stream:
            if event_time_ms(topic, msg) >= split_ms:
                break  # the stream is time ordered
            data.add(topic, msg)
        return data


@dataclass
class ReplayModels:
    ranker: RankerEngine | None
    retrieval: LiveIndex | None
    notes: list[str]


def replay_ranker_config() -> RankerConfig:
    """The size of the Phoenix ranker CLI's ``small`` model (d=64, 2 layers, history 64, wide hash
    tables). Measured on the small world's replay split (before the ranker had topic semantic
    ids): its weighted score (what the pipeline ranks by) had Spearman 0.26 with the truth's,
    against -0.03 for the test-sized ``small_config`` (d=32, history 32, 4001 post buckets), at
    about twice the training time."""
    return RankerConfig(
        hashing=HashConfig(2, 20_011, 200_003, 20_011),
        transformer=TransformerConfig(dim=64, num_layers=2, num_q_heads=4, num_kv_heads=2, head_dim=16),
        table_dim=32,
        history_len=64,
        max_candidates=512,
    )


def train_ranker(data: TrainingData, seed: int, budget: TrainingBudget,
                 cfg: RankerConfig | None = None) -> tuple[RankerEngine, list[Example], str]:
    """``cfg`` None = :func:`replay_ranker_config` (tests pass a smaller one)."""
    cfg = cfg or replay_ranker_config()
    examples, _ = build_examples(data.posts, data.engagements, history_len=cfg.history_len, max_candidates=16,
                                  social=data.social)
    if not examples:
        raise ValueError("no ranker training examples before the replay window (is the window too early?)")
    if budget.max_examples is not None and len(examples) > budget.max_examples:
        keep = np.random.default_rng(seed).choice(len(examples), budget.max_examples, replace=False)
        examples = [examples[i] for i in np.sort(keep).tolist()]
    examples.sort(key=lambda e: e.time_ms)  # the early-stop slice is the LATEST training period
    held = int(len(examples) * budget.early_stop_fraction) if len(examples) >= 20 else 0
    fit, early_stop = examples[: len(examples) - held], examples[len(examples) - held:]
    torch.manual_seed(seed)
    model = PhoenixRanker(cfg)
    stats = train_ranker_model(model, fit, RankerTrainConfig(
        epochs=budget.ranker_epochs, seed=seed, max_steps=budget.ranker_max_steps, progress=budget.progress,
        **RANKER_RECIPE), early_stop=early_stop)
    version = f"ranker-replay-s{seed}-{stats.steps}steps"
    stop = (f", early stopping on the latest {len(early_stop)} kept epoch {stats.best_epoch + 1} "
            f"(held-out losses {', '.join(f'{x:.4f}' for x in stats.early_stop_losses)})"
            if stats.best_epoch is not None else "")
    recipe = ", ".join(f"{k}={v}" for k, v in RANKER_RECIPE.items())
    note = (f"ranker: trained {stats.steps} steps ({budget.ranker_epochs} epochs max) on {len(fit)} examples "
            f"before the window ({recipe}){stop}")
    return RankerEngine(model, version), examples, note


def user_histories(engagements: Iterable[events_pb2.EngagementEvent]) -> list[UserHistory]:
    """Per user, the posts they acted on (not mere impressions), oldest first, with actions."""
    per_user: dict[int, dict[int, tuple[int, int, set[int]]]] = defaultdict(dict)
    for e in engagements:
        if e.action == IMPRESSION or e.user_id <= 0 or e.post_id <= 0:
            continue
        item = per_user[e.user_id].get(e.post_id)
        if item is None:
            per_user[e.user_id][e.post_id] = (e.timestamp_ms, e.author_id, {int(e.action)})
        else:
            item[2].add(int(e.action))
    out = []
    for user, items in sorted(per_user.items()):
        ordered = sorted(items.items(), key=lambda kv: (kv[1][0], kv[0]))
        out.append(UserHistory(
            user,
            np.array([p for p, _ in ordered], np.int64),
            np.array([v[1] for _, v in ordered], np.int64),
            action_multi_hot([sorted(v[2]) for _, v in ordered]),
        ))
    return out


def train_retrieval(data: TrainingData, seed: int, budget: TrainingBudget) -> tuple[TwoTowerModel, str, str]:
    cfg = RetrievalConfig(
        dim=32,
        transformer=TransformerConfig(dim=32, num_layers=1, num_q_heads=2, num_kv_heads=1, head_dim=16),
        hashing=HashConfig(num_hashes=2, user_buckets=4001, post_buckets=65521, author_buckets=4001),
        max_history=64,
    )
    histories = [h for h in user_histories(data.engagements) if len(h.post_ids) >= 2]
    if not histories:
        raise ValueError("no user histories before the replay window to train retrieval on")
    torch.manual_seed(seed)
    model = TwoTowerModel(cfg)
    result = train_retrieval_model(model, histories, RetrievalTrainConfig(
        epochs=budget.retrieval_epochs, batch_size=64, seed=seed, global_negatives=256, progress=budget.progress))
    version = f"retrieval-replay-s{seed}-{result.steps}steps"
    note = (f"retrieval: trained {result.epochs_run} epochs ({result.steps} steps) on {len(histories)} user "
            f"histories before the window (final loss {result.final_loss:.4f})")
    return model, version, note


def live_index_for(model: TwoTowerModel, version: str, clock_s) -> LiveIndex:
    """An exact (flat) FAISS index: replay measures the model, not ANN recall loss."""
    return LiveIndex(model, version, IndexConfig(dim=model.cfg.dim, kind="flat"), clock=clock_s)
