"""Quality against known truth: train on a synthetic world, compare AUC with the world's oracle.

The world (``events.world``) draws every action from a known probability (the oracle). On the
held-out later period we score each shown post with the trained ranker AND with the oracle's
true probabilities for that impression (same user, post, time, feed position, follow state);
the oracle's AUC on the sampled labels is the best any model can do, so ``oracle_auc - auc`` is
how much the ranker leaves on the table.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from google.protobuf.message import Message

from phoenix.actions import NAME_BY_ACTION_NUMBER
from phoenix.ranker.evaluate import OracleFn
from phoenix.ranker.examples import Example, build_examples
from phoenix.ranker.features import CandidateItem

REPORT_ACTIONS = ("favorite", "reply", "repost", "click", "not_interested", "block_author")


@dataclass
class SplitEvents:
    posts: list
    engagements: list
    social: list


def split_topics(stream: Iterable[tuple[str, Message]]) -> SplitEvents:
    out = SplitEvents([], [], [])
    for topic, msg in stream:
        if topic == "posts":
            out.posts.append(msg)
        elif topic == "engagements":
            out.engagements.append(msg)
        elif topic == "social_graph":
            out.social.append(msg)
    return out


def world_oracle(  # noqa: ANN001 - world: events.world.World
    world, *, ignore_position: bool = False, knowable: bool = False, know_labels: bool = False
) -> OracleFn:
    """Adapt ``World.oracle_probabilities`` to ranker head names (matched by ActionName number).

    ``ignore_position=True`` evaluates every impression as if shown at the top of the feed: the
    truth minus the feed-position term, which the ranker cannot see (X's model is not given the
    position either), so that oracle is the fair ceiling for a position-blind model.

    ``knowable=True`` (position-blind too) is the information-limited oracle
    (``World.knowable_oracle_probabilities``): the post's own quality noise, and its safety label
    unless ``know_labels``, replaced by their distribution given the author. The ranker never sees
    either directly (only, later, through the post's engagement counts), so the AUC this oracle
    loses against the full one is, to first order, out of any ranker's reach.
    """
    from events.world import ACTION_NUMBERS, ImpressionContext

    head_of = {
        name: NAME_BY_ACTION_NUMBER[num]
        for name, num in ACTION_NUMBERS.items()
        if num in NAME_BY_ACTION_NUMBER
    }

    def oracle(user_id: int, candidate: CandidateItem, seen_ms: int, position: int) -> dict[str, float]:
        ctx = ImpressionContext(
            position=0 if ignore_position or knowable else max(position, 0),
            now_ms=seen_ms,
            follows_author=candidate.in_network,
        )
        if knowable:
            probs = world.knowable_oracle_probabilities(
                user_id, candidate.post_id, ctx, know_labels=know_labels
            )
        else:
            probs = world.oracle_probabilities(user_id, candidate.post_id, ctx)
        return {head_of[name]: p for name, p in probs.items() if name in head_of}

    return oracle


@dataclass
class WorldSplit:
    """A synthetic world's examples split by time: train | early-stop slice | validation, plus
    the oracle with and without the feed-position term, and limited to what a request can know
    with and without the posts' safety labels (see ``world_oracle``)."""

    train: list[Example]
    early_stop: list[Example]
    valid: list[Example]
    oracle: OracleFn
    oracle_no_position: OracleFn
    oracle_knowable: OracleFn
    oracle_knowable_labels: OracleFn


def world_split(
    preset: str,
    *,
    history_len: int,
    max_candidates: int,
    valid_fraction: float = 0.25,
    early_stop_fraction: float = 0.1,
    **overrides,
) -> WorldSplit:
    """``world_examples`` plus the last ``early_stop_fraction`` of the training examples (by
    time) held out for early stopping, so the validation period is never used to pick weights."""
    if not 0.0 <= early_stop_fraction < 1.0:
        raise ValueError(f"early_stop_fraction must be in [0, 1), got {early_stop_fraction}")
    train, valid, world = _world_train_valid(preset, history_len, max_candidates, valid_fraction, overrides)
    train.sort(key=lambda e: e.time_ms)
    cut = len(train) - int(len(train) * early_stop_fraction)
    return WorldSplit(
        train[:cut],
        train[cut:],
        valid,
        world_oracle(world),
        world_oracle(world, ignore_position=True),
        world_oracle(world, knowable=True),
        world_oracle(world, knowable=True, know_labels=True),
    )


def world_examples(
    preset: str, *, history_len: int, max_candidates: int, valid_fraction: float = 0.25, **overrides
) -> tuple[list[Example], list[Example], OracleFn]:
    """Generate a world, split its timeline at ``1 - valid_fraction``, and build examples."""
    train, valid, world = _world_train_valid(preset, history_len, max_candidates, valid_fraction, overrides)
    return train, valid, world_oracle(world)


def _world_train_valid(
    preset: str, history_len: int, max_candidates: int, valid_fraction: float, overrides: dict
) -> tuple[list[Example], list[Example], object]:
    """Generate a world, split its timeline at ``1 - valid_fraction``, build examples on each side."""
    from events.world import World, WorldConfig

    cfg = WorldConfig.preset(preset, **overrides)
    data = World.generate(cfg)
    events = split_topics(data.events())
    split = cfg.start_ms + int((cfg.end_ms - cfg.start_ms) * (1 - valid_fraction))
    train, valid = build_examples(
        events.posts,
        events.engagements,
        history_len=history_len,
        max_candidates=max_candidates,
        split_time_ms=split,
        social=events.social,
    )
    return train, valid, data.world
