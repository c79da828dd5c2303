"""Security properties as tests: code-free checkpoints, plugins only by name, authenticated Redis,
Kafka SASL/TLS pass-through, TLS on a real service, and no secrets in the repository.

Request size limits are tested where they live: ``test_grpc_fuzz.py::
test_oversized_requests_are_refused_or_truncated_as_documented`` (every service).
"""

from __future__ import annotations

import asyncio
import pickle
import re
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import grpc
import pytest
import redis as redis_lib

from infra.embedded import RedisServer
from infra.settings import ConnectionSettings
from phoenix.checkpoint import WEIGHTS_FILE, CheckpointError

REPO = Path(__file__).resolve().parents[2]


def _tracked_files() -> list[Path]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    return [REPO / name for name in out.decode().split("\0") if name]


# -- checkpoints -------------------------------------------------------------------------------------


class _Exploit:
    """Unpickling this runs a command: what a pickle checkpoint can do to a server that loads it."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # noqa: ANN204
        return (subprocess.call, (["touch", str(self.marker)],))


def _poison(directory: Path, marker: Path) -> None:
    (directory / WEIGHTS_FILE).write_bytes(pickle.dumps({"weights": _Exploit(marker)}))


def test_a_pickle_placed_as_a_checkpoint_is_refused_and_never_executed(tmp_path: Path) -> None:
    from home_mixer.local_stack import fresh_retrieval_model
    from phoenix.ranker.config import small_config
    from phoenix.ranker.engine import RankerEngine
    from phoenix.ranker.model import PhoenixRanker
    from phoenix.ranker.train import save_ranker
    from phoenix.retrieval.checkpoints import load_model, save_model

    marker = tmp_path / "pwned"
    save_ranker(PhoenixRanker(small_config(max_candidates=64)), tmp_path / "ranker")
    save_model(tmp_path / "retrieval", fresh_retrieval_model())
    for d in ("ranker", "retrieval"):
        _poison(tmp_path / d, marker)
    # a directory with only a pickle under a conventional torch name
    (tmp_path / "torch_style").mkdir()
    (tmp_path / "torch_style" / "model.pt").write_bytes(pickle.dumps(_Exploit(marker)))
    with pytest.raises(CheckpointError):
        RankerEngine.from_checkpoint(str(tmp_path / "ranker"))
    with pytest.raises(CheckpointError):
        load_model(tmp_path / "retrieval")
    for loader in (lambda: RankerEngine.from_checkpoint(str(tmp_path / "torch_style")),
                   lambda: load_model(tmp_path / "torch_style")):
        with pytest.raises(CheckpointError, match="no model.safetensors"):
            loader()
    assert not marker.exists(), "a checkpoint executed code"


_TORCH_LOAD = re.compile(r"torch\.load\s*\(")
_UNSAFE = {
    "pickle.load": re.compile(r"\bpickle\.loads?\s*\("),
    "yaml.load without a safe loader": re.compile(r"\byaml\.load\s*\((?![^)]*SafeLoader)"),
    "eval/exec of data": re.compile(r"(?<![\w.])(eval|exec)\s*\("),
}


def _call_text(source: str, start: int) -> str:
    """The text of a call from its opening parenthesis to the matching one."""
    depth = 0
    for i in range(source.index("(", start), len(source)):
        depth += {"(": 1, ")": -1}.get(source[i], 0)
        if depth == 0:
            return source[start:i + 1]
    return source[start:]


def test_no_unsafe_deserialisation_in_the_source_tree() -> None:
    """``torch.load`` only with ``weights_only=True``; no pickle, unsafe YAML or eval on data.
    Tests are scanned too, except this file (which must build a pickle to attack with)."""
    offenders: list[str] = []
    scanned = 0
    for path in _tracked_files():
        if path.suffix != ".py" or path == Path(__file__).resolve() or not path.is_file():
            continue
        scanned += 1
        source = path.read_text(errors="replace")
        for match in _TORCH_LOAD.finditer(source):
            call = _call_text(source, match.start())
            if not re.search(r"weights_only\s*=\s*True", call):
                offenders.append(f"{path.relative_to(REPO)}: {call[:80]}")
        for what, pattern in _UNSAFE.items():
            if pattern.search(source):
                offenders.append(f"{path.relative_to(REPO)}: {what}")
    assert scanned > 100, "the scan must cover the source tree"
    assert not offenders, offenders


# -- plugins -----------------------------------------------------------------------------------------


def test_only_stages_named_in_the_config_are_built() -> None:
    from candidate_pipeline import StageRegistry
    from home_mixer.pipeline_factory import build_for_you_pipeline
    from tests.home_mixer.test_pipeline import make_deps
    from tests.home_mixer.test_pipeline import make_world as pipeline_world

    built: list[str] = []

    def rogue_factory(deps, **params):  # noqa: ANN001, ANN003, ANN202
        built.append("RogueStage")
        raise AssertionError("a stage that no config names was built")

    registry = dict(StageRegistry.from_entry_points())
    registry["RogueStage"] = rogue_factory
    deps, _, _ = make_deps(pipeline_world())
    pipeline = build_for_you_pipeline(deps, registry=registry)
    assert pipeline is not None and built == []
    # and an operator allow-list drops installed stages a config may not use
    allowed = StageRegistry.from_entry_points(allowed={"AgeFilter"})
    assert list(allowed) == ["AgeFilter"]


# -- Redis password ----------------------------------------------------------------------------------


def test_user_state_store_works_with_a_password_protected_redis() -> None:
    from protos import events_pb2
    from user_state.redis_state import RedisUserState

    password = uuid.uuid4().hex
    server = RedisServer(password=password).start()
    try:
        assert f":{password}@" in server.url
        with pytest.raises(redis_lib.exceptions.AuthenticationError):
            redis_lib.Redis(host="127.0.0.1", port=server.port).ping()

        async def scenario() -> set[int]:
            state = RedisUserState.from_url(server.url)
            try:
                await state.apply([events_pb2.SocialGraphEvent(event_id="s1", user_id=5, action=events_pb2.FOLLOW,
                                                                target_user_id=9, timestamp_ms=1)])
                return await state.following(5)
            finally:
                await state.close()

        assert asyncio.run(scenario()) == {9}
    finally:
        server.cleanup()


# -- Kafka SASL / TLS ----------------------------------------------------------------------------------


def test_kafka_sasl_and_tls_settings_reach_every_client(monkeypatch: pytest.MonkeyPatch) -> None:
    from infra import kafka_io

    assert ConnectionSettings(kafka_security_protocol="SSL", kafka_ssl_cafile="/ca").kafka_client_kwargs() == {
        "security_protocol": "SSL", "ssl_cafile": "/ca"}
    for key, value in {"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
                       "KAFKA_SASL_USERNAME": "feed", "KAFKA_SASL_PASSWORD": "from-the-environment",
                       "KAFKA_SSL_CAFILE": "/etc/ssl/ca.pem"}.items():
        monkeypatch.setenv(key, value)
    settings = ConnectionSettings()
    expected = {"security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512", "sasl_plain_username": "feed",
                "sasl_plain_password": "from-the-environment", "ssl_cafile": "/etc/ssl/ca.pem"}
    assert settings.kafka_client_kwargs() == expected

    seen: list[dict] = []

    class Recorder:
        def __init__(self, **kwargs: object) -> None:
            seen.append(kwargs)

        def subscribe(self, topics: list[str]) -> None:
            pass

    monkeypatch.setattr(kafka_io, "KafkaProducer", Recorder)
    monkeypatch.setattr(kafka_io, "KafkaConsumer", Recorder)
    kafka_io.make_producer("broker:9093", settings)
    kafka_io.make_consumer(["posts"], group_id="g", bootstrap="broker:9093", settings=settings)
    assert len(seen) == 2
    for kwargs in seen:
        assert {k: kwargs[k] for k in expected} == expected


# -- TLS on a real service -------------------------------------------------------------------------------


@pytest.fixture
def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True)
    return cert, key


@pytest.mark.integration
def test_thunder_serves_get_in_network_posts_over_tls_only(kafka_bootstrap: str, self_signed: tuple[Path, Path]) -> None:
    from infra.grpc_server import make_channel
    from infra.kafka_io import ensure_topics
    from infra.snowflake import make_snowflake
    from protos import events_pb2, thunder_pb2, thunder_pb2_grpc
    from tests.reliability.helpers import produce_raw
    from thunder.server import start_thunder
    from thunder.settings import ThunderSettings

    cert, key = self_signed
    connection = ConnectionSettings(kafka_bootstrap_servers=kafka_bootstrap, grpc_tls_cert=str(cert),
                                    grpc_tls_key=str(key), grpc_tls_ca=str(cert))
    topic = f"tls-posts-{uuid.uuid4().hex[:8]}"
    ensure_topics([topic], partitions=1, bootstrap=kafka_bootstrap)
    now_ms = int(time.time() * 1000)
    pid = make_snowflake(now_ms - 60_000, 1)
    produce_raw(kafka_bootstrap, topic, [(b"7", events_pb2.PostEvent(event_id="c1", created=events_pb2.PostCreated(
        post_id=pid, author_id=7, created_at=now_ms // 1000 - 60, conversation_id=pid)).SerializeToString())])
    request = thunder_pb2.GetInNetworkPostsRequest(user_id=1, following_user_ids=[7])

    async def scenario() -> None:
        server = await start_thunder(ThunderSettings(host="127.0.0.1", port=0, metrics_port=0),
                                     bootstrap=kafka_bootstrap, topic=topic, connection=connection, instance="tls")
        try:
            assert await server.wait_serving(30)
            async with make_channel(f"localhost:{server.port}", connection) as channel:
                reply = await thunder_pb2_grpc.InNetworkPostsServiceStub(channel).GetInNetworkPosts(request, timeout=5)
                assert [p.post_id for p in reply.posts] == [pid]
            async with grpc.aio.insecure_channel(f"localhost:{server.port}") as plain:
                with pytest.raises(grpc.aio.AioRpcError) as err:
                    await thunder_pb2_grpc.InNetworkPostsServiceStub(plain).GetInNetworkPosts(request, timeout=3)
                assert err.value.code() == grpc.StatusCode.UNAVAILABLE
        finally:
            await server.stop()

    asyncio.run(scenario())


# -- no secrets in the repository --------------------------------------------------------------------------

_BEGIN, _KEY = "-----BEGIN ", "PRIVATE KEY-----"  # split so this file does not match itself
SECRET_PATTERNS = {
    "private key": re.compile(re.escape(_BEGIN) + r"(RSA |EC |DSA |OPENSSH |ENCRYPTED )?" + re.escape(_KEY)),
    "AWS access key id": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "Slack token": re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    "OpenAI/Anthropic style key": re.compile(r"\bsk-(ant-)?[A-Za-z0-9_-]{32,}"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
    "credential in a URL": re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@'\"]+:[^/\s@'\"{}$]{8,}@"),
}


def test_no_secrets_in_tracked_files() -> None:
    hits: list[str] = []
    for path in _tracked_files():
        if not path.is_file() or path.stat().st_size > 5_000_000:
            continue
        data = path.read_bytes()
        if b"\0" in data[:4096]:
            continue  # binary (images, checkpoints)
        text = data.decode(errors="replace")
        for what, pattern in SECRET_PATTERNS.items():
            for match in pattern.finditer(text):
                hits.append(f"{path.relative_to(REPO)}: {what}: {match.group(0)[:24]}...")
    assert not hits, hits
    # the scanner itself must catch what it claims to catch
    assert SECRET_PATTERNS["private key"].search(_BEGIN + "RSA " + _KEY)
    assert SECRET_PATTERNS["credential in a URL"].search("redis://user:" + "hunter22hunter22" + "@host:6379/0")
