"""Recall of the two-tower retrieval on the synthetic world, against the world's own oracle.

At a cut time T the model (trained only on events before T) retrieves for each user from the
posts servable at T (created in the 48 h before T, originals only, not deleted); a hit is a post
the user favorites after T. The oracle ranks the same candidates by the world's TRUE favorite
probability (``World.oracle_rows`` at T, top feed position, follow state as at the world's start),
so "model recall / oracle recall" says how much of the knowable signal retrieval recovers.
Posts the user engaged with before T are excluded for every ranker, as the server excludes seen
posts. A popularity ranker (favorites before T) is the baseline.
"""

from __future__ import annotations

import numpy as np
import torch

from events.log import event_time_ms
from events.world.actions import ORACLE_ACTIONS
from events.world.config import HOUR_MS, WorldConfig
from events.world.world import World
from phoenix.retrieval.datasets import histories_from_events
from phoenix.retrieval.model import RetrievalConfig, TwoTowerModel, pad_histories
from phoenix.retrieval.training import TrainConfig, train
from protos import recsys_pb2

DAY_MS = 24 * HOUR_MS


def _recall(scores: np.ndarray, targets: list[set[int]], cand_ids: np.ndarray, k: int) -> float:
    top = np.argsort(-scores, axis=1)[:, :k]
    per_user = [len(t & set(cand_ids[row].tolist())) / len(t) for row, t in zip(top, targets, strict=True)]
    return float(np.mean(per_user))


def world_recall(world_cfg: WorldConfig, model_cfg: RetrievalConfig, train_cfg: TrainConfig,
                 ks: tuple[int, ...] = (100, 1000)) -> dict[str, float | int]:
    data = World.generate(world_cfg)
    world = data.world
    events = [(t, m) for t, m in data.events() if t != "served"]
    cut = world_cfg.start_ms + int((world_cfg.days - 1) * DAY_MS)
    before = [(t, m) for t, m in events if event_time_ms(t, m) < cut]
    histories = histories_from_events(before)
    torch.manual_seed(train_cfg.seed)
    model = TwoTowerModel(model_cfg)
    train(model, histories, train_cfg)

    created: dict[int, int] = {}
    deleted: set[int] = set()
    for t, m in before:
        if t == "posts" and m.WhichOneof("event") == "created" and not m.created.is_retweet:
            if m.created.created_at * 1000 >= cut - 48 * HOUR_MS:
                created[m.created.post_id] = m.created.author_id
        elif t == "posts" and m.WhichOneof("event") == "deleted":
            deleted.add(m.deleted.post_id)
    cand_ids = np.array(sorted(p for p in created if p not in deleted), np.int64)
    cand_authors = np.array([created[p] for p in cand_ids.tolist()], np.int64)
    col = {int(p): i for i, p in enumerate(cand_ids.tolist())}
    fav = recsys_pb2.ActionName.SERVER_TWEET_FAV
    future: dict[int, set[int]] = {}
    pop = np.zeros(cand_ids.size)
    for t, m in events:
        if t != "engagements" or m.action != fav or m.post_id not in col:
            continue
        if m.timestamp_ms < cut:
            pop[col[m.post_id]] += 1
        else:
            future.setdefault(m.user_id, set()).add(m.post_id)
    by_user = {h.user_id: h for h in histories}
    users = [u for u in sorted(future) if u in by_user]
    seen = [set(by_user[u].post_ids.tolist()) for u in users]
    targets = [future[u] - s for u, s in zip(users, seen, strict=True)]
    keep = [i for i, t in enumerate(targets) if t]
    users, seen, targets = [users[i] for i in keep], [seen[i] for i in keep], [targets[i] for i in keep]
    if not users:
        raise ValueError("no user favorites a servable post after the cut; use a larger world")

    hs = [by_user[u] for u in users]
    with torch.no_grad():
        batch = pad_histories(users, [h.post_ids for h in hs], [h.author_ids for h in hs], [h.actions for h in hs],
                              model_cfg.max_history)
        model_scores = (model.user_vectors(batch) @ model.candidate_vectors(cand_ids, cand_authors).T).numpy()
    u_idx = np.repeat([world.user_index(u) for u in users], cand_ids.size)
    rows = np.tile([world.posts.row_of(int(p)) for p in cand_ids], len(users))
    follows = np.array([world.initially_follows(u, int(a)) for u in users for a in cand_authors.tolist()])
    oracle = world.oracle_rows(u_idx, rows, np.zeros(rows.size), follows, np.full(rows.size, cut, np.int64))
    oracle_scores = oracle[:, ORACLE_ACTIONS.index("favorite")].reshape(len(users), cand_ids.size)
    popularity = np.broadcast_to(pop, (len(users), cand_ids.size)).copy()
    for s in (model_scores, oracle_scores, popularity):
        for r, items in enumerate(seen):
            idx = [col[p] for p in items if p in col]
            s[r, idx] = -np.inf
    out: dict[str, float | int] = {"world_users": len(users), "world_candidates": int(cand_ids.size)}
    for k in ks:
        out[f"world_recall@{k}"] = round(_recall(model_scores, targets, cand_ids, k), 4)
        out[f"world_oracle_recall@{k}"] = round(_recall(oracle_scores, targets, cand_ids, k), 4)
        out[f"world_pop_recall@{k}"] = round(_recall(popularity, targets, cand_ids, k), 4)
    return out



