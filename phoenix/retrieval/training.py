"""Training the two-tower model on user engagement histories.

A history is a time-ordered list of posts the user acted on, with the actions taken on each. Any
post in it can be a next-item target, but only a POSITIVE counts: it carries one of the
configured positive actions (favorite by default, as X's retrieval) and none of the negative-
feedback actions (X's hard negatives: report, not interested, see fewer, unfollow, block, mute,
not relevant - and the soft negative "recap not dwelled"). Every post, positive or not, is still
an input to the user tower: a disliked post tells the tower about the user too.

Runs are deterministic for a seed on CPU (seeded torch and numpy, ordered batches), show a rich
progress bar, and can keep the best epoch by a validation callback.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from phoenix.retrieval.loss import SampledSoftmaxLoss
from phoenix.retrieval.model import NUM_ACTION_FEATURES, HistoryBatch, TwoTowerModel, pad_histories
from protos import recsys_pb2

A = recsys_pb2.ActionName
DEFAULT_POSITIVE_ACTIONS: tuple[int, ...] = (A.SERVER_TWEET_FAV,)
NEGATIVE_FEEDBACK_ACTIONS: tuple[int, ...] = (
    A.SERVER_TWEET_REPORT,
    A.CLIENT_TWEET_REPORT,
    A.CLIENT_TWEET_NOT_INTERESTED_IN,
    A.CLIENT_TWEET_SEE_FEWER,
    A.CLIENT_TWEET_UNFOLLOW_AUTHOR,
    A.CLIENT_TWEET_BLOCK_AUTHOR,
    A.CLIENT_TWEET_MUTE_AUTHOR,
    A.CLIENT_TWEET_NOT_RELEVANT,
    A.CLIENT_TWEET_RECAP_NOT_DWELLED,
)


@dataclass
class UserHistory:
    """One user's engagements, oldest first: post, author and the actions' multi-hot per item."""

    user_id: int
    post_ids: np.ndarray
    author_ids: np.ndarray
    actions: np.ndarray  # [L, 64] float32 multi-hot over ActionName 0..63

    def __post_init__(self) -> None:
        n = len(self.post_ids)
        if len(self.author_ids) != n or self.actions.shape != (n, NUM_ACTION_FEATURES):
            raise ValueError(
                f"user {self.user_id}: {n} posts, {len(self.author_ids)} authors, actions {self.actions.shape}"
            )


def action_multi_hot(actions_per_item: Sequence[Sequence[int]]) -> np.ndarray:
    """``[L, 64]`` multi-hot from each item's ActionName numbers (numbers >= 64 are not model heads)."""
    out = np.zeros((len(actions_per_item), NUM_ACTION_FEATURES), np.float32)
    for i, acts in enumerate(actions_per_item):
        for a in acts:
            if 0 < int(a) < NUM_ACTION_FEATURES:
                out[i, int(a)] = 1.0
    return out


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 20
    batch_size: int = 128
    lr: float = 2e-3
    weight_decay: float = 0.0
    global_negatives: int = 256
    # softmax over the WHOLE corpus instead of sampled negatives: exact and cheap for small
    # catalogues (MovieLens' 1,682 movies); impractical for X-sized corpora
    full_softmax: bool = False
    init_temperature: float = 0.1
    logq_scale: float = 1.0
    positive_actions: tuple[int, ...] = DEFAULT_POSITIVE_ACTIONS
    negative_actions: tuple[int, ...] = NEGATIVE_FEEDBACK_ACTIONS
    seed: int = 0
    device: str = "cpu"
    max_seconds: float | None = None
    # torch intra-op threads during training (restored afterwards); None = leave as is. Small
    # models on a shared, loaded CPU run several times faster on 1 thread than on 2 that spin
    num_threads: int | None = None
    progress: bool = True
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.num_threads is not None and self.num_threads < 1:
            raise ValueError(f"num_threads must be >= 1, got {self.num_threads}")
        if self.epochs < 1 or self.batch_size < 1 or self.lr <= 0 or self.global_negatives < 0:
            raise ValueError(f"bad training config: {self}")
        if not self.positive_actions:
            raise ValueError("positive_actions must name at least one action")
        if set(self.positive_actions) & set(self.negative_actions):
            raise ValueError("an action cannot be both positive and negative feedback")


def positive_mask(actions: np.ndarray, cfg: TrainConfig) -> np.ndarray:
    """Which items are positives: a positive action and no negative feedback."""
    pos = actions[:, list(cfg.positive_actions)].any(1)
    neg = actions[:, [a for a in cfg.negative_actions if a < NUM_ACTION_FEATURES]].any(1)
    return pos & ~neg


@dataclass
class TrainResult:
    epochs_run: int
    steps: int
    seconds: float
    final_loss: float
    temperature: float
    history: list[dict] = field(default_factory=list)


class Corpus:
    """The posts negatives are sampled from, with their log sampling probability (for log-Q)."""

    def __init__(self, histories: Sequence[UserHistory], cfg: TrainConfig) -> None:
        counts: dict[int, int] = {}
        author: dict[int, int] = {}
        for h in histories:
            pos = positive_mask(h.actions, cfg)
            for p, a, is_pos in zip(h.post_ids.tolist(), h.author_ids.tolist(), pos.tolist(), strict=True):
                author[p] = a
                counts[p] = counts.get(p, 0) + int(is_pos)
        self.post_ids = np.fromiter(author.keys(), np.int64, len(author))
        self.author_ids = np.fromiter((author[p] for p in self.post_ids.tolist()), np.int64, len(author))
        c = np.fromiter((counts[p] for p in self.post_ids.tolist()), np.float64, len(author)) + 1.0
        self.log_q = dict(zip(self.post_ids.tolist(), np.log(c / c.sum()).tolist(), strict=True))
        self.log_q_array = np.log(c / c.sum()).astype(np.float32)  # aligned with post_ids
        self.index = {p: i for i, p in enumerate(self.post_ids.tolist())}


def _windows(
    histories: Sequence[UserHistory], max_len: int, rng: np.random.Generator
) -> list[tuple[int, int, int]]:
    """(history index, start, end) windows of at most ``max_len + 1`` items (inputs + next targets)."""
    out = []
    for i, h in enumerate(histories):
        n = len(h.post_ids)
        if n < 2:
            continue
        if n <= max_len + 1:
            out.append((i, 0, n))
        else:
            end = int(rng.integers(max_len + 1, n + 1))
            out.append((i, end - max_len - 1, end))
    return out


def train(
    model: TwoTowerModel,
    histories: Sequence[UserHistory],
    cfg: TrainConfig,
    on_epoch_end: Callable[[int, TwoTowerModel], float | None] | None = None,
) -> TrainResult:
    """Train in place; with ``on_epoch_end`` returning a score, the best epoch's weights are kept."""
    threads_before = torch.get_num_threads()
    if cfg.num_threads is not None:
        torch.set_num_threads(cfg.num_threads)
    try:
        return _train(model, histories, cfg, on_epoch_end)
    finally:
        torch.set_num_threads(threads_before)


def _train(
    model: TwoTowerModel,
    histories: Sequence[UserHistory],
    cfg: TrainConfig,
    on_epoch_end: Callable[[int, TwoTowerModel], float | None] | None,
) -> TrainResult:
    if model.cfg.mask != "causal":
        raise ValueError("training uses every next-item target of a window and needs mask='causal'")
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    model.to(cfg.device).train()
    loss_fn = SampledSoftmaxLoss(cfg.init_temperature, cfg.logq_scale).to(cfg.device)
    params = list(model.parameters()) + list(loss_fn.parameters())
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.98))
    corpus = Corpus(histories, cfg)
    if corpus.post_ids.size == 0:
        raise ValueError("no posts in the training histories")
    positives = [positive_mask(h.actions, cfg) for h in histories]
    start = time.monotonic()
    steps, last_loss, best_score, best_state = 0, float("nan"), None, None
    result = TrainResult(0, 0, 0.0, float("nan"), float("nan"))
    batches_per_epoch = int(np.ceil(len(histories) / cfg.batch_size))
    with Progress(
        TextColumn("[bold]train retrieval"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[info]}"),
        disable=not cfg.progress,
    ) as bar:
        task = bar.add_task("train", total=cfg.epochs * batches_per_epoch, info="")
        for epoch in range(cfg.epochs):
            model.train()
            windows = _windows(histories, model.cfg.max_history, rng)
            order = rng.permutation(len(windows))
            for b0 in range(0, len(order), cfg.batch_size):
                chunk = [windows[j] for j in order[b0 : b0 + cfg.batch_size]]
                loss = _step(model, loss_fn, histories, positives, chunk, corpus, cfg, rng)
                if loss is None:
                    continue
                opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, 1.0)
                opt.step()
                steps += 1
                last_loss = float(loss.detach())
                bar.update(task, advance=1, info=f"loss {last_loss:.3f} T {float(loss_fn.temperature.detach()):.3f}")
            record = {"epoch": epoch, "loss": last_loss, "temperature": float(loss_fn.temperature.detach())}
            if on_epoch_end is not None:
                model.eval()
                score = on_epoch_end(epoch, model)
                record["score"] = score
                if score is not None and (best_score is None or score > best_score):
                    best_score = score
                    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            result.history.append(record)
            result.epochs_run = epoch + 1
            if cfg.max_seconds is not None and time.monotonic() - start > cfg.max_seconds:
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    result.steps, result.seconds = steps, time.monotonic() - start
    result.final_loss, result.temperature = last_loss, float(loss_fn.temperature.detach())
    return result


def _step(
    model, loss_fn, histories, positives, chunk, corpus: Corpus, cfg: TrainConfig, rng
) -> torch.Tensor | None:
    hs = [histories[i] for i, _, _ in chunk]
    inputs = pad_histories(
        [h.user_id for h in hs],
        [h.post_ids[s : e - 1] for h, (_, s, e) in zip(hs, chunk, strict=True)],
        [h.author_ids[s : e - 1] for h, (_, s, e) in zip(hs, chunk, strict=True)],
        [h.actions[s : e - 1] for h, (_, s, e) in zip(hs, chunk, strict=True)],
        model.cfg.max_history,
    )
    targets = _shifted_targets(inputs, hs, chunk, positives)
    rows_b, rows_l = np.nonzero(targets[0] > 0)
    if rows_b.size == 0:
        return None
    prefix = model.prefix_user_vectors(inputs)  # [B, L, D]
    dev = model.device
    user_vecs = prefix[torch.from_numpy(rows_b).to(dev), torch.from_numpy(rows_l).to(dev)]
    tgt_posts = targets[0][rows_b, rows_l]
    tgt_authors = targets[1][rows_b, rows_l]
    if cfg.full_softmax:
        cand_posts = corpus.post_ids
        cand_vecs = model.candidate_vectors(cand_posts, corpus.author_ids)
        target_index = np.fromiter((corpus.index[int(p)] for p in tgt_posts), np.int64, tgt_posts.size)
        log_q = torch.from_numpy(corpus.log_q_array).to(dev)
        return loss_fn(user_vecs, torch.from_numpy(target_index).to(dev), cand_vecs,
                       torch.from_numpy(cand_posts).to(dev), log_q, torch.from_numpy(rows_b).to(dev))
    uniq, first, inverse = np.unique(tgt_posts, return_index=True, return_inverse=True)
    neg = (
        rng.integers(0, corpus.post_ids.size, cfg.global_negatives)
        if cfg.global_negatives
        else np.empty(0, int)
    )
    cand_posts = np.concatenate([uniq, corpus.post_ids[neg]])
    cand_authors = np.concatenate([tgt_authors[first], corpus.author_ids[neg]])
    cand_vecs = model.candidate_vectors(cand_posts, cand_authors)
    log_q = torch.tensor([corpus.log_q.get(int(p), 0.0) for p in cand_posts], dtype=torch.float32, device=dev)
    return loss_fn(
        user_vecs,
        torch.from_numpy(inverse.reshape(-1)).to(dev),
        cand_vecs,
        torch.from_numpy(cand_posts).to(dev),
        log_q,
        torch.from_numpy(rows_b).to(dev),
    )


def _shifted_targets(inputs: HistoryBatch, hs, chunk, positives) -> tuple[np.ndarray, np.ndarray]:
    """Post/author of the NEXT item per input slot (0 where the next item is not a positive)."""
    b, width = inputs.post_ids.shape
    posts = np.zeros((b, width), np.int64)
    authors = np.zeros((b, width), np.int64)
    for i, (h, (hi, _s, e)) in enumerate(zip(hs, chunk, strict=True)):
        n = int(inputs.lengths[i])
        nxt = slice(e - n, e)  # the targets of the last n inputs
        ok = positives[hi][nxt]
        posts[i, width - n :] = np.where(ok, h.post_ids[nxt], 0)
        authors[i, width - n :] = np.where(ok, h.author_ids[nxt], 0)
    return posts, authors
