"""``foryou demo``: the whole For You stack on this machine, from an empty folder to explained feeds.

Steps (each printed as it runs): start the embedded broker and Redis (or use
``KAFKA_BOOTSTRAP_SERVERS`` / ``REDIS_URL``), simulate a small synthetic world that ends *now* into
``<out>/world``, stream it through Kafka, train the ranker and retrieval models briefly (or reuse
the checkpoints of an earlier run of the same world), start Thunder, Phoenix ranking, Phoenix
retrieval, the user-state ingest and home-mixer as separate processes (``infra.supervisor``),
wait until every one reports SERVING over gRPC health (= caught up with Kafka), ask home-mixer for
a few feeds with ``debug=true`` and print them as tables with the reasons behind each score, and
finally replay the same log through two pipeline configurations side by side.

Why a world cache rather than only a checkpoint cache: post ids are snowflakes of their creation
time, so a world regenerated to end "now" has different post ids and the cached ranker would
meet only unseen posts. A cached world (with the models trained on it) is reused while it is
recent enough for its posts to be servable (``MAX_WORLD_AGE_MS``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import importlib.resources
import json
import logging
import shutil
import signal
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from infra.embedded import EmbeddedServices, free_port
from infra.supervisor import ServiceFailed, ServiceProcess, Supervisor

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
MAX_WORLD_AGE_MS = 6 * HOUR_MS  # a cached world older than this is regenerated (its posts age out)
RECIPE = "demo-v2"  # bump when the training recipe below changes: invalidates cached checkpoints
VARIANT_NAME = "favorites_x10"
TRAIN_FRACTION = 0.5  # models train on the first half of the log; the replay judges the second half


@dataclass(frozen=True)
class DemoOptions:
    users: int = 300
    preset: str = "tiny"
    days: float = 2.0
    seed: int = 0
    feeds: int = 3
    fresh: bool = False
    out: Path = Path("runs/demo")
    skip_replay: bool = False
    serve: bool = False  # keep the services up after the feeds until Ctrl-C (then no replay)
    replay_requests: int = 20
    ranker_steps: int = 300
    retrieval_epochs: int = 4
    catch_up_timeout_s: float = 120.0

    def validate(self) -> None:
        if self.users < 10:
            raise ValueError("--users must be at least 10")
        if self.feeds < 1:
            raise ValueError("--feeds must be at least 1")
        if not 0 < self.days <= 2.0:
            raise ValueError("--days must be in (0, 2]: older posts are outside Thunder's 48 h window")


# -- world + checkpoints (cached together) --------------------------------------------------------


@dataclass(frozen=True)
class DemoData:
    world_dir: Path
    ranker_dir: Path
    retrieval_dir: Path
    reused: bool
    world_config: object = None  # the WorldConfig that wrote world_dir (regenerates the oracle)


def _fingerprint(options: DemoOptions, world_config: object) -> str:
    config = {k: v for k, v in dataclasses.asdict(world_config).items() if k != "start_ms"}  # type: ignore[call-overload]
    recipe = {"recipe": RECIPE, "ranker_steps": options.ranker_steps, "retrieval_epochs": options.retrieval_epochs}
    return hashlib.sha256(json.dumps([config, recipe], sort_keys=True).encode()).hexdigest()[:16]


def prepare_data(options: DemoOptions, console: Console) -> DemoData:
    """Reuse ``<out>/checkpoints`` when its fingerprint matches and the world is recent; else build."""
    from events.world import World, WorldConfig, write_to_log

    now_ms = int(time.time() * 1000)
    config = WorldConfig.preset(options.preset, seed=options.seed, n_users=options.users, days=options.days,
                                start_ms=now_ms - int(options.days * DAY_MS))
    fingerprint = _fingerprint(options, config)
    cache = options.out / "checkpoints"
    data = DemoData(options.out / "world", cache / "ranker", cache / "retrieval", reused=False)
    meta_path = cache / "fingerprint.json"
    if not options.fresh and meta_path.is_file():
        meta = json.loads(meta_path.read_text())
        age_ms = now_ms - int(meta.get("world_end_ms", 0))
        if meta.get("fingerprint") == fingerprint and age_ms < MAX_WORLD_AGE_MS and data.world_dir.is_dir():
            console.print(f"[green]reusing[/] world + checkpoints {fingerprint} from {cache} "
                          f"(world ended {age_ms / 60_000:.0f} min ago; --fresh rebuilds)")
            stored = (dataclasses.replace(config, start_ms=int(meta["world_start_ms"]))
                      if "world_start_ms" in meta else None)  # older caches: no oracle, logged metrics only
            return dataclasses.replace(data, reused=True, world_config=stored)
        console.print(f"cached checkpoints do not match (fingerprint or age): rebuilding {fingerprint}")
    for path in (data.world_dir, cache):
        shutil.rmtree(path, ignore_errors=True)
    counts = write_to_log(World.generate(config), data.world_dir)
    console.print("world: " + ", ".join(f"{t}={n:,}" for t, n in sorted(counts.items())))
    train_models(options, data, console)
    meta_path.write_text(json.dumps({"fingerprint": fingerprint, "world_end_ms": config.end_ms,
                                     "world_start_ms": config.start_ms,
                                     "world": options.preset, "users": options.users}) + "\n")
    return dataclasses.replace(data, world_config=config)


def training_split_ms(world_dir: Path) -> int:
    """The replay's split rule (``home_mixer.replay.driver``): models that learn only from events
    before it can be reused by the replay without seeing the outcomes it judges them on."""
    from events.log import EventLog, event_time_ms

    times = [t for topic, msg in EventLog(world_dir).merged() if (t := event_time_ms(topic, msg)) > 0]
    if not times:
        raise ValueError(f"{world_dir} holds no timed events")
    first, last = min(times), max(times)
    return first + int(TRAIN_FRACTION * (last - first))


def train_models(options: DemoOptions, data: DemoData, console: Console) -> None:
    """Brief CPU training with the Phoenix teams' own code paths (progress bars come from them)."""
    import torch

    from events.log import EventLog
    from home_mixer.replay.models import TrainingBudget, TrainingData, train_retrieval
    from phoenix.ranker.config import small_config
    from phoenix.ranker.examples import build_examples
    from phoenix.ranker.model import PhoenixRanker
    from phoenix.ranker.train import TrainConfig, save_ranker, train
    from phoenix.retrieval.checkpoints import save_model

    split_ms = training_split_ms(data.world_dir)
    events = TrainingData.collect(EventLog(data.world_dir).merged(), split_ms=split_ms)
    console.print(f"training on the first {TRAIN_FRACTION:.0%} of the log's time span (the replay judges the rest)")
    cfg = small_config(history_len=32, max_candidates=2800)  # home-mixer sends up to 2,800 candidates
    examples, _ = build_examples(events.posts, events.engagements, history_len=cfg.history_len, max_candidates=16,
                                 social=events.social)
    if not examples:
        raise ValueError("the world has no impressions to train the ranker on (try more --users)")
    torch.manual_seed(options.seed)
    ranker = PhoenixRanker(cfg)
    console.print(f"training the ranker on {len(examples):,} examples (at most {options.ranker_steps} steps)")
    stats = train(ranker, examples, TrainConfig(epochs=2, batch_size=32, lr=3e-3, seed=options.seed,
                                                max_steps=options.ranker_steps))
    version = save_ranker(ranker.cpu(), data.ranker_dir)
    console.print(f"ranker {version}: {stats.steps} steps, final loss {stats.final_loss:.4f}")
    console.print("training the retrieval two-tower model")
    model, _, note = train_retrieval(events, options.seed, TrainingBudget(retrieval_epochs=options.retrieval_epochs))
    save_model(data.retrieval_dir, model)
    console.print(note.replace(" before the window", ""))


def stream_world(world_dir: Path, bootstrap: str, console: Console) -> None:
    from events.log import EventLog
    from events.producer import produce

    with Progress(TextColumn("[bold]kafka[/] producing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console) as bar:
        task = bar.add_task("produce", total=None)
        stats = produce(EventLog(world_dir).merged(), bootstrap=bootstrap, on_progress=lambda n: bar.advance(task, n))
    console.print(f"streamed {stats.sent:,} events through Kafka in {stats.seconds:.1f} s "
                  f"({stats.events_per_s:,.0f}/s): " + ", ".join(f"{t}={n:,}" for t, n in sorted(stats.per_topic.items())))


# -- services ---------------------------------------------------------------------------------------


def service_processes(data: DemoData, embedded: EmbeddedServices, logs: Path) -> list[ServiceProcess]:
    """Each service with its gRPC and metrics port picked free; home-mixer last (it calls the others)."""
    ports = {name: (free_port(), free_port()) for name in ("thunder", "ranker", "retrieval", "user-state", "home-mixer")}
    addr = {name: f"127.0.0.1:{grpc}" for name, (grpc, _) in ports.items()}
    env = {**embedded.env(), "THUNDER_ADDR": addr["thunder"], "RANKER_ADDR": addr["ranker"],
           "RETRIEVAL_ADDR": addr["retrieval"], "HOME_MIXER_ADDR": addr["home-mixer"],
           # Five services and the demo share a laptop's cores: give each call room to answer.
           "HOME_MIXER_REQUEST_DEADLINE_S": "20", "HOME_MIXER_CLIENT_TIMEOUT_S": "15"}
    extra = {
        "thunder": [],
        "ranker": ["--checkpoint", str(data.ranker_dir), "--threads", "1"],
        "retrieval": ["--checkpoint", str(data.retrieval_dir)],
        "user-state": ["--group-id", ""],
        "home-mixer": [],
    }
    logs.mkdir(parents=True, exist_ok=True)
    return [
        ServiceProcess(name, ["serve", name, "--host", "127.0.0.1", "--port", str(grpc), "--metrics-port", str(metrics),
                              *extra[name]],
                       env=env, health_address=addr[name], log_path=logs / f"{name}.log")
        for name, (grpc, metrics) in ports.items()
    ]


def start_services(supervisor: Supervisor, processes: list[ServiceProcess], timeout_s: float, console: Console) -> None:
    """Start the back-ends together (they load in parallel), wait for each, then home-mixer."""
    *backends, mixer = processes
    for process in backends:
        supervisor.start(process, wait=False)
    with console.status("starting thunder, ranker, retrieval, user-state (waiting for SERVING = caught up)"):
        for process in backends:
            started = time.perf_counter()
            process.wait_healthy(timeout_s)
            console.print(f"  {process.name:<11} SERVING on {process.health_address} "
                          f"(+{time.perf_counter() - started:.1f} s, pid {process.process.pid})")  # type: ignore[union-attr]
        supervisor.start(mixer, wait=False)
        mixer.wait_healthy(timeout_s)
    console.print(f"  {mixer.name:<11} SERVING on {mixer.health_address} (pid {mixer.process.pid})")  # type: ignore[union-attr]


# -- feeds ------------------------------------------------------------------------------------------


def active_users(world_dir: Path, count: int) -> list[int]:
    """The most active viewers (most engagements): their feeds have history to explain."""
    from events.log import EventLog

    activity = Counter(e.user_id for e in EventLog(world_dir).engagements())
    return [user for user, _ in activity.most_common(count)]


async def fetch_feeds(address: str, users: list[int], size: int) -> list[tuple[int, object]]:
    from home_mixer.feed_client import FeedClient

    async with FeedClient(address, timeout_s=30.0) as client:
        return [(u, await client.get_feed(u, debug=True, max_results=size)) for u in users]


CONTINUOUS_TERMS = {"dwell_time", "click_dwell_time", "active_secs_5m_residual_norm"}  # seconds, not probabilities


def _short_action(name: str) -> str:
    return name.lower().replace("server_tweet_", "").replace("client_tweet_", "")


def feed_table(viewer: int, response, rows: int) -> Table:  # noqa: ANN001 - ForYouFeedResponse
    from protos import recsys_pb2

    table = Table(title=f"For You feed of user {viewer}  (model {response.model_version}, "
                        f"{len(response.posts)} posts, retrieved {response.retrieved_count})",
                  title_justify="left", show_lines=False, expand=False)
    for column, justify in (("#", "right"), ("post", "left"), ("author", "right"), ("source", "left"),
                            ("in-net", "center"), ("top predicted actions", "left"), ("score", "right"),
                            ("why", "left")):
        table.add_column(column, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for rank, post in enumerate(response.posts[:rows], 1):
        exp = post.explanation
        probabilities = [t for t in exp.terms if t.action not in CONTINUOUS_TERMS and 0.0 <= t.probability <= 1.0]
        top = sorted(probabilities, key=lambda t: t.probability, reverse=True)[:3]
        drivers = sorted(exp.terms, key=lambda t: abs(t.contribution), reverse=True)[:2]
        why = [f"weighted {exp.weighted_score:.3f} ("
               + " ".join(f"{t.contribution:+.2f} {_short_action(t.action)}" for t in drivers) + ")"]
        if abs(exp.cold_start_score - exp.weighted_score) > 1e-9:
            why.append(f"cold-start {exp.cold_start_score:.3f}")
        for label, value in (("author-div", exp.author_diversity_multiplier), ("oon", exp.oon_multiplier),
                             *sorted(exp.other_multipliers.items())):
            if value and abs(value - 1.0) > 1e-9:
                why.append(f"x{label} {value:.2f}")
        if exp.note:
            why.append(exp.note)
        text = post.tweet_text[:24] + ("..." if len(post.tweet_text) > 24 else "")
        table.add_row(
            str(rank), f"{post.tweet_id}\n[dim]{text}[/]" if text else str(post.tweet_id), str(post.author_id),
            recsys_pb2.ServedType.Name(post.served_type).removeprefix("FOR_YOU_").lower(),
            "yes" if post.in_network else "", ", ".join(f"{_short_action(t.action)} {t.probability:.2f}" for t in top),
            f"{post.score:.3f}", "; ".join(why),
        )
    return table


def feed_summary(response) -> str:  # noqa: ANN001 - ForYouFeedResponse
    sources = ", ".join(f"{s.stage} {s.kept}" for s in response.stages if s.kind == "source")
    removed = Counter(r.removed_by for r in response.removed)
    removed_text = ", ".join(f"{name} {n}" for name, n in removed.most_common()) or "none"
    slowest = sorted(response.stages, key=lambda s: s.latency_ms, reverse=True)[:3]
    timing = ", ".join(f"{s.stage} {s.latency_ms:.0f} ms" for s in slowest)
    degraded = f"  [red]degraded: {', '.join(response.degraded)}[/]" if response.degraded else ""
    return (f"  candidates from sources: {sources}\n  removed by filters: {removed_text}\n"
            f"  slowest stages: {timing}{degraded}")


# -- replay -----------------------------------------------------------------------------------------


def variant_config(out: Path) -> Path:
    """The default pipeline with favorites weighted 10x: a change a ranking engineer might try."""
    import yaml

    default = importlib.resources.files("home_mixer") / "configs" / "default.yaml"
    config = yaml.safe_load(default.read_text())
    for scorer in config["scorers"]:
        if isinstance(scorer, dict) and scorer.get("name") == "WeightedScorer":
            weights = scorer["params"]["weights"]
            weights["favorite"] = weights["favorite"] * 10
    config["name"] = VARIANT_NAME
    path = out / "configs" / f"{VARIANT_NAME}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


# oracle_* / sampled_*: counterfactual relevance from the world's known truth (the primary protocol
# on the synthetic world: logged metrics can only credit posts the world's logger happened to show).
REPLAY_METRICS = ("oracle_ndcg@35", "sampled_ndcg@35", "oracle_utility", "ndcg@35", "hr@35", "utility", "negative_rate", "author_diversity", "in_network_share", "freshness_h")


def run_replay_comparison(options: DemoOptions, data: DemoData, console: Console) -> None:
    from home_mixer.replay.driver import ReplaySettings, run_replay
    from home_mixer.replay.event_sources import log_source
    from home_mixer.replay.report import write_report
    from home_mixer.replay.summary import summarize

    settings = ReplaySettings(
        configs=(("default", None), (VARIANT_NAME, str(variant_config(options.out)))),
        baselines=("chronological",), seed=options.seed, max_requests=options.replay_requests,
        train_fraction=TRAIN_FRACTION, ranker_checkpoint=str(data.ranker_dir),
        retrieval_checkpoint=str(data.retrieval_dir))
    source = log_source(data.world_dir)
    if data.world_config is not None:  # the same config regenerates the same world: its oracle judges
        from events.world import World

        source = dataclasses.replace(source, world=World.generate(data.world_config).world)
    run = run_replay(source, settings)
    if run.split_ms < training_split_ms(data.world_dir):
        console.print("[red]warning: the models saw events after the replay's split[/]")
    summary = summarize(run)
    paths = write_report(run, summary, options.out / "replay")
    table = Table(title=f"Replay: {summary['requests']} request points after the training split "
                        f"({summary['requests_with_engagement']} with an engagement); mean [95% bootstrap]",
                  title_justify="left")
    table.add_column("metric")
    for strategy in run.strategies:
        table.add_column(strategy, justify="right")
    for metric in REPLAY_METRICS:
        cells = []
        for strategy in run.strategies:
            m = summary["metrics"][strategy].get(metric)
            cells.append("-" if not m or m["mean"] is None else
                         f"{m['mean']:.3f} [{m['low']:.3f}, {m['high']:.3f}]" if m["low"] is not None else f"{m['mean']:.3f}")
        table.add_row(metric, *cells)
    console.print(table)
    console.print(f"  {VARIANT_NAME} = the default pipeline with the favorite weight x10; oracle_*/sampled_* judge each "
                  f"served list with the world's true action probabilities, the rest only credit posts the world's logger "
                  f"showed; full report: {paths['markdown']}")


def serve_until_interrupted(processes: list[ServiceProcess], console: Console, poll_s: float = 0.5) -> None:
    """Keep the demo's services up for the user's own requests until Ctrl-C (KeyboardInterrupt
    unwinds through the caller's ``with`` blocks, which stop everything). A service that exits
    meanwhile ends the wait with :class:`ServiceFailed` instead of leaving a half-dead stack."""
    mixer = processes[-1]
    console.print(f"serving until Ctrl-C: foryou.home_mixer.ForYouFeedService on {mixer.health_address} "
                  "(gRPC with reflection; from Python: home_mixer.feed_client.FeedClient)")
    while True:
        for process in processes:
            if process.process is not None and process.process.poll() is not None:
                raise ServiceFailed(f"{process.name} exited with {process.process.returncode}:\n{process.log_tail()}")
        time.sleep(poll_s)


# -- the whole demo ---------------------------------------------------------------------------------


@contextmanager
def _sigterm_as_exit() -> Iterator[None]:
    """SIGTERM unwinds like Ctrl-C, so every ``finally``/``with`` below stops what it started."""
    def raise_exit(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    old = signal.signal(signal.SIGTERM, raise_exit)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def run_demo(options: DemoOptions, console: Console | None = None) -> int:
    # Tables need room: a pipe or a CI log gets 160 columns instead of rich's 80-column fallback.
    console = console or Console(width=None if Console().is_terminal else 160)
    root = logging.getLogger()  # the demo prints its own progress lines; per-request logs would drown them
    root.setLevel(max(root.level, logging.WARNING))
    options.validate()
    options.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with _sigterm_as_exit():
        console.rule("[bold]1. data and models")
        data = prepare_data(options, console)
        console.rule("[bold]2. broker, Redis, Kafka")
        with EmbeddedServices.start() as embedded:
            console.print(f"Kafka {embedded.kafka_bootstrap} ({'embedded tansu' if embedded.broker else 'external'}), "
                          f"Redis {embedded.redis_url} ({'embedded' if embedded.redis else 'external'})")
            stream_world(data.world_dir, embedded.kafka_bootstrap, console)
            console.rule("[bold]3. services (separate processes)")
            with Supervisor() as supervisor:
                processes = service_processes(data, embedded, options.out / "logs")
                start_services(supervisor, processes, options.catch_up_timeout_s, console)
                console.rule("[bold]4. feeds over gRPC (debug=true)")
                users = active_users(data.world_dir, options.feeds)
                for viewer, response in asyncio.run(fetch_feeds(processes[-1].health_address or "", users, 35)):
                    console.print(feed_table(viewer, response, rows=10))
                    console.print(feed_summary(response))
                if options.serve:
                    serve_until_interrupted(processes, console)
            console.print(f"services stopped (logs in {options.out / 'logs'})")
        console.rule("[bold]5. replay: two configurations side by side")
        if options.skip_replay:
            console.print("skipped (--skip-replay)")
        else:
            run_replay_comparison(options, data, console)
    console.rule(f"[bold green]demo finished in {time.perf_counter() - started:.0f} s")
    return 0
