"""The replay: rebuild state in time order and, at each request point, ask every configuration
what it would have served, then score that against what the viewer actually did.

Protocol (stated in every report):
1. Pass 1 reads the log once to find the sessions (request points) and their outcomes.
2. The log's time span is split at ``train_fraction``: models train only on events before the
   split; request points are sampled (seeded, uniform) from For You sessions after it.
3. Pass 2 replays every event in time order into the in-process stores; before a request point
   only events STRICTLY older than it are applied, then every configuration runs on the same
   state, in a fixed order, each with its own served history.
4. Every list is scored against the logged session (what the viewer did) and, on the synthetic
   world, against the world's truth (``counterfactual.py``: the primary protocol there, because
   logged outcomes only exist for the posts the logging policy chose to show).
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from events.log import event_time_ms
from home_mixer.deps import Deps
from home_mixer.embeddings import HashedIdEmbeddings
from home_mixer.replay.counterfactual import CounterfactualJudge
from home_mixer.replay.event_sources import ReplaySource
from home_mixer.replay.inprocess import (
    InMemoryFeedState,
    InProcessRanker,
    InProcessRetrieval,
    InProcessThunder,
    OracleRanker,
    ReplayClock,
)
from home_mixer.replay.models import (
    TrainingBudget,
    TrainingData,
    live_index_for,
    train_ranker,
    train_retrieval,
)
from home_mixer.replay.request_metrics import (
    OracleUtility,
    default_weights,
    history_bucket,
    recall_by_post_age,
    request_metrics,
)
from home_mixer.replay.sessions import Session, pick_request_points, scan_sessions
from home_mixer.replay.state import ReplayState
from home_mixer.replay.strategies import (
    ChronologicalStrategy,
    Eligibility,
    PipelineStrategy,
    PopularityStrategy,
    RandomStrategy,
    RetrievalOnlyStrategy,
    ServedItem,
    Strategy,
)
from infra.snowflake import snowflake_timestamp_ms
from user_state.memory import InMemoryUserState

BASELINES = ("chronological", "popularity", "random", "retrieval")


@dataclass(frozen=True)
class ReplaySettings:
    configs: tuple[tuple[str, str | None], ...] = (("for_you", None),)  # (name, config path; None = default)
    baselines: tuple[str, ...] = BASELINES
    seed: int = 0
    max_requests: int | None = 200
    train_fraction: float = 0.5
    budget: TrainingBudget = field(default_factory=TrainingBudget)
    ranker_checkpoint: str | None = None
    retrieval_checkpoint: str | None = None
    ranker_eval_examples: int = 2000
    progress: bool = True
    oracle_ranker: bool = False  # synthetic world: also run the first config with the TRUE probabilities
    # Models given in memory (tests, notebooks): used instead of training or checkpoints.
    ranker_engine: object | None = field(default=None, compare=False, repr=False)
    retrieval_model: tuple[object, str] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        names = [n for n, _ in self.configs] + list(self.baselines)
        if len(set(names)) != len(names):
            raise ValueError(f"configuration names must be unique, got {names}")
        if not self.configs and not self.baselines:
            raise ValueError("nothing to replay: no configurations and no baselines")
        unknown = set(self.baselines) - set(BASELINES)
        if unknown:
            raise ValueError(f"unknown baselines {sorted(unknown)}; choose from {BASELINES}")
        if not 0.0 < self.train_fraction < 1.0:
            raise ValueError(f"train_fraction must be in (0, 1), got {self.train_fraction}")
        if self.max_requests is not None and self.max_requests < 1:
            raise ValueError("max_requests must be >= 1")
        for name, path in self.configs:
            if path is not None and not Path(path).is_file():
                raise FileNotFoundError(f"config {name!r}: {path} does not exist")


@dataclass
class RequestRecord:
    key: str
    viewer_id: int
    now_ms: int
    history_len: int
    history_bucket: str
    engaged: int
    metrics: dict[str, dict[str, float]]  # strategy -> metric -> value
    recall_by_age: dict[str, dict[str, float]]  # strategy -> age bucket -> recall@35
    scores: dict[str, list[float]]  # strategy -> served scores (for distributions)
    served: dict[str, list[int]] = field(default_factory=dict)  # strategy -> served post ids


@dataclass
class ReplayRun:
    source: str
    source_description: str
    settings: ReplaySettings
    strategies: list[str]
    strategy_kinds: dict[str, str]
    split_ms: int
    window_ms: tuple[int, int]
    sessions_total: int
    requests: list[RequestRecord]
    notes: list[str]
    model_versions: dict[str, str]
    stage_failures: dict[str, dict[str, int]]
    ranker_eval: dict | None = None
    timings_s: dict[str, float] = field(default_factory=dict)
    events_replayed: int = 0
    has_oracle: bool = False


def _progress(enabled: bool) -> Progress:
    return Progress(TextColumn("[bold]replay[/] {task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), TimeRemainingColumn(), disable=not enabled)


def run_replay(source: ReplaySource, settings: ReplaySettings) -> ReplayRun:
    return asyncio.run(_run(source, settings))


async def _run(source: ReplaySource, settings: ReplaySettings) -> ReplayRun:
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    scan = scan_sessions(source.stream())
    if not scan.sessions:
        raise ValueError(f"{source.name}: the log has no sessions (no engagements) to replay")
    split_ms = scan.first_ms + int(settings.train_fraction * (scan.last_ms - scan.first_ms))
    points = pick_request_points(scan.sessions, split_ms, settings.max_requests, settings.seed)
    if not points:
        raise ValueError(f"{source.name}: no For You sessions after the split at {split_ms}")
    timings["scan"] = time.perf_counter() - t0

    clock = ReplayClock(scan.first_ms)
    user_state = InMemoryUserState()
    thunder = InProcessThunder(clock)
    notes: list[str] = []
    versions: dict[str, str] = {}
    needs_models = bool(settings.configs) or "retrieval" in settings.baselines
    ranker = retrieval = None
    train_data: TrainingData | None = None
    t0 = time.perf_counter()
    if needs_models:
        ranker, retrieval, train_data = _models(source, settings, split_ms, clock, user_state, notes, versions)
    timings["models"] = time.perf_counter() - t0

    state = ReplayState(clock, retrieval, user_state, thunder)
    baseline_seen = InMemoryFeedState(clock)
    state.feed_states.append(baseline_seen)
    deps = Deps(user_state=user_state, thunder=thunder, ranker=ranker, retrieval=retrieval,
                embeddings=HashedIdEmbeddings())
    strategies: list[Strategy] = []
    for name, path in settings.configs:
        s = PipelineStrategy(name, path, deps, clock)
        state.feed_states.append(s.feed_state)
        strategies.append(s)
    if settings.oracle_ranker and source.world is not None and settings.configs:
        name, path = settings.configs[0]
        s = PipelineStrategy(f"{name}+oracle_ranker", path,
                             dataclasses.replace(deps, ranker=OracleRanker(source.world, clock)), clock)
        state.feed_states.append(s.feed_state)
        strategies.append(s)
    eligibility = Eligibility(user_state, baseline_seen)
    for name in settings.baselines:
        if name == "chronological":
            strategies.append(ChronologicalStrategy(thunder, user_state, eligibility))
        elif name == "popularity":
            strategies.append(PopularityStrategy(state.pool, eligibility))
        elif name == "random":
            strategies.append(RandomStrategy(state.pool, eligibility, settings.seed))
        elif name == "retrieval" and retrieval is not None:
            strategies.append(RetrievalOnlyStrategy(retrieval, user_state, eligibility))

    weights = default_weights()
    oracle = OracleUtility(source.world, weights) if source.world is not None else None
    judge = CounterfactualJudge(source.world, settings.seed) if source.world is not None else None
    window = TrainingData([], [], [])
    records: list[RequestRecord] = []
    strategy_s: dict[str, float] = {}
    t0 = time.perf_counter()
    serve_s = 0.0
    with _progress(settings.progress) as bar:
        task = bar.add_task(source.name, total=len(points))
        i = 0
        last_point_ms = points[-1].start_ms
        for topic, msg in source.stream():
            t = event_time_ms(topic, msg)
            while i < len(points) and points[i].start_ms <= t:
                s0 = time.perf_counter()
                records.append(await _evaluate(points[i], i, state, strategies, weights, oracle, judge, strategy_s))
                serve_s += time.perf_counter() - s0
                i += 1
                bar.advance(task)
            if i >= len(points) and t > last_point_ms:
                break
            state.apply(topic, msg, t)
            if t >= split_ms and settings.ranker_eval_examples:
                window.add(topic, msg)
        while i < len(points):  # request points after the last event
            records.append(await _evaluate(points[i], i, state, strategies, weights, oracle, judge, strategy_s))
            i += 1
            bar.advance(task)
    timings["replay"] = time.perf_counter() - t0
    timings["serve"] = serve_s
    timings.update({f"serve:{k}": v for k, v in strategy_s.items()})

    ranker_eval = None
    if ranker is not None and train_data is not None and settings.ranker_eval_examples:
        from home_mixer.replay.ranker_quality import evaluate_ranker

        t0 = time.perf_counter()
        ranker_eval = evaluate_ranker(ranker.engine.model, train_data, window, split_ms, settings.ranker_eval_examples, settings.seed, source.world)
        timings["ranker_eval"] = time.perf_counter() - t0

    return ReplayRun(
        source=source.name, source_description=source.description, settings=settings,
        strategies=[s.name for s in strategies], strategy_kinds={s.name: s.kind for s in strategies},
        split_ms=split_ms, window_ms=(points[0].start_ms, points[-1].start_ms), sessions_total=len(scan.sessions),
        requests=records, notes=notes, model_versions=versions,
        stage_failures={s.name: dict(sorted(s.stage_failures.items())) for s in strategies
                        if isinstance(s, PipelineStrategy)},
        ranker_eval=ranker_eval, timings_s=timings, events_replayed=state.applied, has_oracle=oracle is not None,
    )


def _models(source: ReplaySource, settings: ReplaySettings, split_ms: int, clock: ReplayClock,
            user_state: InMemoryUserState, notes: list[str], versions: dict[str, str]):
    from phoenix.ranker.engine import RankerEngine

    data = TrainingData.collect(source.stream(), split_ms)
    if settings.ranker_engine is not None:
        engine = settings.ranker_engine
        notes.append(f"ranker: given in memory ({engine.version})")
    elif settings.ranker_checkpoint:
        engine = RankerEngine.from_checkpoint(settings.ranker_checkpoint)
        notes.append(f"ranker: loaded checkpoint {settings.ranker_checkpoint}")
    else:
        engine, _, note = train_ranker(data, settings.seed, settings.budget)
        notes.append(note)
    if settings.retrieval_model is not None:
        model, version = settings.retrieval_model
        notes.append(f"retrieval: given in memory ({version})")
    elif settings.retrieval_checkpoint:
        from phoenix.retrieval.checkpoints import load_model

        model, version = load_model(settings.retrieval_checkpoint)
        notes.append(f"retrieval: loaded checkpoint {settings.retrieval_checkpoint}")
    else:
        model, version, note = train_retrieval(data, settings.seed, settings.budget)
        notes.append(note)
    versions["ranker"], versions["retrieval"] = engine.version, version
    live = live_index_for(model, version, clock.seconds)
    return InProcessRanker(engine, clock), InProcessRetrieval(live, user_state), data


async def _evaluate(session: Session, index: int, state: ReplayState, strategies: list[Strategy],
                    weights: dict[str, float], oracle: OracleUtility | None, judge: CounterfactualJudge | None,
                    strategy_seconds: dict[str, float]) -> RequestRecord:
    now = session.start_ms
    if now > state.clock.now_ms:
        state.clock.now_ms = now
    state.flush()
    viewer = session.viewer_id
    following = await state.user_state.following(viewer)
    history = len((await state.user_state.action_sequence(viewer, 1024)).user_actions)
    created = {p: snowflake_timestamp_ms(p) or 0 for p in session.actions}
    lists: dict[str, list[ServedItem]] = {}
    for strategy in strategies:  # every configuration serves before any is judged (the union is the ideal)
        t0 = time.perf_counter()
        lists[strategy.name] = await strategy.serve(session, now, index)
        strategy_seconds[strategy.name] = strategy_seconds.get(strategy.name, 0.0) + time.perf_counter() - t0
    counterfactual = judge.judge(index, viewer, lists, following, now) if judge is not None else {}
    metrics, by_age, scores, served_ids = {}, {}, {}, {}
    for name, served in lists.items():
        m = request_metrics(served, session, following, now, weights)
        if oracle is not None:
            m["oracle_utility"] = oracle(viewer, served, following, now)
        m.update(counterfactual.get(name, {}))
        metrics[name] = m
        by_age[name] = recall_by_post_age(served, session, now, created)
        scores[name] = [s.score for s in served if s.score is not None]
        served_ids[name] = [s.post_id for s in served]
    return RequestRecord(session.key, viewer, now, history, history_bucket(history), len(session.engaged),
                         metrics, by_age, scores, served_ids)
