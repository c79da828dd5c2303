"""Retrieval quality: MovieLens-100K full-ranking leave-one-out (the HSTU protocol).

``python -m bench retrieval_quality [--quick] [--record]``

Protocol (evaluation-and-anchors.md §2): per user, interactions sorted by time; the last item is
the test target, the second-to-last the validation target (used to keep the best epoch); the
model ranks the target against the WHOLE catalogue (1,682 movies) by exact scores, with the
user's own earlier items removed. HR@10/50/200, NDCG@10/50/200 and MRR for the two-tower model
and, in the same run, a popularity and an item-to-item co-occurrence baseline.

Synthetic mapping (MovieLens has ratings only): a movie is a post; its author is its first genre;
every rating is a watch (CLIENT_TWEET_CLICK, the positive action here: the protocol's target is
the next interaction whatever its rating) and rating >= 4 is also a favorite (an input feature).
The data is read from the installed recbole wheel and never committed.

Model defaults (chosen on the VALIDATION item, see the commit log): causal user tower trained on
every prefix position, SASRec-style last-position pooling, dropout 0.4 on the input tokens, a
full softmax over the 1,682 movies (``--sampled`` for the sampled one), no log-Q (popularity is
real signal under this protocol), 1 torch thread (several times faster than 2 on a loaded box).

Second part (``phoenix.retrieval.world_eval``): on the synthetic world, recall@100/@1000 of the
posts each user favorites after a cut time, for the model, the world's oracle and popularity.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import time
from pathlib import Path

import numpy as np
import torch

from bench.record import emit
from events.world.config import WorldConfig
from phoenix.hashing import HashConfig
from phoenix.retrieval.baselines import cooccurrence_scores, popularity_scores
from phoenix.retrieval.evaluation import metrics_from_ranks, target_ranks
from phoenix.retrieval.model import RetrievalConfig, TwoTowerModel, pad_histories
from phoenix.retrieval.training import TrainConfig, UserHistory, action_multi_hot, train
from phoenix.retrieval.world_eval import world_recall
from phoenix.transformer import TransformerConfig
from protos import recsys_pb2

A = recsys_pb2.ActionName


def _recbole_dir() -> Path:
    spec = importlib.util.find_spec("recbole")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("MovieLens-100K needs the recbole wheel: pip install --no-deps recbole==1.2.1")
    return Path(list(spec.submodule_search_locations)[0]) / "dataset_example" / "ml-100k"


def load_interactions() -> tuple[np.ndarray, dict[int, int]]:
    """``[n, 4]`` int64 rows (user, item, rating, timestamp) sorted by (user, time) and item -> genre id."""
    folder = _recbole_dir()
    rows = np.loadtxt(folder / "ml-100k.inter", skiprows=1, dtype=np.int64, delimiter="\t")
    order = np.lexsort((np.arange(len(rows)), rows[:, 3], rows[:, 0]))  # stable within equal times
    genres: dict[str, int] = {}
    item_genre: dict[int, int] = {}
    for line in (folder / "ml-100k.item").read_text(encoding="latin-1").splitlines()[1:]:
        parts = line.split("\t")
        first = parts[3].split(" ")[0] if len(parts) > 3 and parts[3] else "unknown"
        item_genre[int(parts[0])] = genres.setdefault(first, len(genres) + 1)
    return rows[order], item_genre


def build_users(rows: np.ndarray, item_genre: dict[int, int]) -> list[UserHistory]:
    users = []
    bounds = np.flatnonzero(np.diff(rows[:, 0])) + 1
    for block in np.split(rows, bounds):
        items = block[:, 1]
        acts = [[A.CLIENT_TWEET_CLICK] + ([A.SERVER_TWEET_FAV] if r >= 4 else []) for r in block[:, 2].tolist()]
        users.append(UserHistory(int(block[0, 0]), items.copy(),
                                 np.array([item_genre.get(int(i), 1) for i in items], np.int64),
                                 action_multi_hot(acts)))
    return users


def cut(h: UserHistory, end: int) -> UserHistory:
    return UserHistory(h.user_id, h.post_ids[:end], h.author_ids[:end], h.actions[:end])


@torch.no_grad()
def model_scores(model: TwoTowerModel, histories: list[UserHistory], catalogue: np.ndarray,
                 authors: np.ndarray) -> torch.Tensor:
    cands = model.candidate_vectors(catalogue, authors)
    out = []
    for s in range(0, len(histories), 256):
        hs = histories[s:s + 256]
        batch = pad_histories([h.user_id for h in hs], [h.post_ids for h in hs], [h.author_ids for h in hs],
                              [h.actions for h in hs], model.cfg.max_history)
        out.append(model.user_vectors(batch) @ cands.T)
    return torch.cat(out).cpu()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench retrieval_quality", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a short training run (< 60 s)")
    parser.add_argument("--record", action="store_true", help="write bench/results/retrieval_quality.json")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--logq-scale", type=float, default=0.0)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--max-history", type=int, default=50)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--no-user-embedding", action="store_true")
    parser.add_argument("--dropout", type=float, default=0.4)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--pooling", choices=("mean", "last"), default="last")
    parser.add_argument("--sampled", action="store_true",
                        help="sampled softmax (256 global + in-batch negatives) instead of the full 1,682-way softmax")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (1 is fastest for this small model on a shared CPU)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    epochs = args.epochs or (8 if args.quick else 80)
    max_seconds = 20.0 if args.quick else 420.0
    t0 = time.monotonic()

    rows, item_genre = load_interactions()
    users = [u for u in build_users(rows, item_genre) if len(u.post_ids) >= 3]
    catalogue = np.array(sorted(item_genre), np.int64)
    cat_authors = np.array([item_genre[int(i)] for i in catalogue], np.int64)
    index_of = {int(p): i for i, p in enumerate(catalogue)}
    to_idx = np.vectorize(index_of.__getitem__, otypes=[np.int64])

    train_hist = [cut(u, -2) for u in users]
    valid_hist, test_hist = train_hist, [cut(u, -1) for u in users]
    valid_target = to_idx(np.array([u.post_ids[-2] for u in users]))
    test_target = to_idx(np.array([u.post_ids[-1] for u in users]))
    valid_seen = [to_idx(h.post_ids) for h in valid_hist]
    test_seen = [to_idx(h.post_ids) for h in test_hist]

    torch.manual_seed(args.seed)
    tcfg = TransformerConfig(dim=args.dim, num_layers=args.layers, num_q_heads=2, num_kv_heads=1,
                             head_dim=args.dim // 2)
    mcfg = RetrievalConfig(dim=args.dim, transformer=tcfg, max_history=args.max_history,
                           use_user_embedding=not args.no_user_embedding, dropout=args.dropout,
                           pooling=args.pooling,
                           hashing=HashConfig(num_hashes=2, user_buckets=2003, post_buckets=4001, author_buckets=61))
    model = TwoTowerModel(mcfg)

    def validate(epoch: int, m: TwoTowerModel) -> float:
        ranks = target_ranks(model_scores(m, valid_hist, catalogue, cat_authors), valid_target, valid_seen)
        return metrics_from_ranks(ranks)["ndcg@10"]

    cfg = TrainConfig(epochs=epochs, batch_size=args.batch_size, lr=args.lr, global_negatives=256,
                      full_softmax=not args.sampled, logq_scale=args.logq_scale, num_threads=args.threads,
                      positive_actions=(A.CLIENT_TWEET_CLICK,), seed=args.seed, max_seconds=max_seconds)
    fit = train(model, train_hist, cfg, on_epoch_end=validate)

    ranks = target_ranks(model_scores(model, test_hist, catalogue, cat_authors), test_target, test_seen)
    ours = metrics_from_ranks(ranks)
    item_seqs = [to_idx(h.post_ids) for h in test_hist]  # everything before the test items
    pop = metrics_from_ranks(target_ranks(popularity_scores(item_seqs, len(catalogue), len(users)),
                                          test_target, test_seen), prefix="pop_")
    cooc = metrics_from_ranks(target_ranks(cooccurrence_scores(item_seqs, item_seqs, len(catalogue)),
                                           test_target, test_seen), prefix="cooc_")
    world_cfg = WorldConfig(seed=1, n_users=120) if args.quick else WorldConfig(seed=1, n_users=400, days=4.0)
    world = world_recall(world_cfg, RetrievalConfig(dim=32, max_history=50, transformer=TransformerConfig(
        dim=32, num_layers=1, num_q_heads=2, num_kv_heads=1, head_dim=16)),
        TrainConfig(epochs=3 if args.quick else 15, batch_size=64, lr=3e-3, seed=args.seed,
                    num_threads=args.threads))
    print(f"synthetic world ({world['world_users']} users, {world['world_candidates']} servable posts): "
          + ", ".join(f"{k} {v}" for k, v in world.items() if "recall" in k))
    print(f"MovieLens-100K full-ranking leave-one-out: {len(users)} users x {len(catalogue)} items")
    print(f"{'model':<14}" + "".join(f"{k:>10}" for k in ours))
    for name, m in (("two-tower", ours), ("popularity", pop), ("co-occurrence", cooc)):
        print(f"{name:<14}" + "".join(f"{v:>10.4f}" for v in m.values()))
    print(f"trained {fit.epochs_run} epochs / {fit.steps} steps in {fit.seconds:.0f} s; "
          f"best validation ndcg@10 {max((h.get('score') or 0) for h in fit.history):.4f}")
    result = {**ours, **pop, **cooc,
              "users": len(users), "items": len(catalogue), "epochs": fit.epochs_run,
              "train_seconds": round(fit.seconds, 1), "total_seconds": round(time.monotonic() - t0, 1),
              "temperature": round(fit.temperature, 4), "logq_scale": args.logq_scale, "dim": args.dim, "dropout": args.dropout,
              "layers": args.layers, "pooling": args.pooling, "max_history": args.max_history,
              "batch_size": args.batch_size, "softmax": "sampled" if args.sampled else "full",
              "threads": args.threads, "load_avg": [round(x, 2) for x in os.getloadavg()], "protocol": "full-ranking LOO (HSTU), exact top-k, own items removed",
              **world}
    emit("retrieval_quality", result, record=args.record)
    return 0
