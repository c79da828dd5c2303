"""Thunder as a real child process, SIGKILLed and restarted (``infra.supervisor``).

Thunder's store is memory only; it is rebuilt from the ``posts`` topic on every start. After a
crash and a restart it must report NOT_SERVING until caught up, then answer exactly as before,
plus what was produced while it was down.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import pytest

from infra.embedded import free_port
from infra.healthcheck import check
from infra.kafka_io import ensure_topics
from infra.snowflake import make_snowflake
from infra.supervisor import ServiceProcess, Supervisor
from infra.topics import key_for
from protos import events_pb2
from tests.reliability.helpers import produce_raw
from thunder.client import ThunderClient

pytestmark = pytest.mark.integration

AUTHORS = list(range(700, 730))
LATE_AUTHOR = 799


def _posts(now_ms: int, authors: list[int], per_author: int, seq0: int) -> list[tuple[bytes, bytes]]:
    out = []
    for i in range(len(authors) * per_author):
        author = authors[i % len(authors)]
        ts = now_ms - 3_600_000 + seq0 + i * 997
        pid = make_snowflake(ts, seq0 + i)
        reply_to = make_snowflake(now_ms - 3_600_000 + (i - 3) * 997, i - 3) if i % 5 == 4 else 0
        created = events_pb2.PostCreated(
            post_id=pid, author_id=author, created_at=ts // 1000, conversation_id=pid, has_video=i % 7 == 0,
            is_reply=bool(reply_to), in_reply_to_post_id=reply_to,
            in_reply_to_user_id=authors[(i - 3) % len(authors)] if reply_to else 0)
        out.append((key_for(author), events_pb2.PostEvent(event_id=f"c{pid}", created=created).SerializeToString()))
    return out


async def _answers(address: str) -> list[list[bytes]]:
    async with ThunderClient([address], timeout_s=10) as client:
        out = []
        for viewer, start in ((1, 0), (2, 5), (3, 11)):
            following = AUTHORS[start:start + 15]
            for video in (False, True):
                posts = await client.get_in_network_posts(viewer, following, is_video_request=video)
                out.append([p.SerializeToString() for p in posts])
        return out


def test_thunder_sigkilled_and_restarted_answers_the_same_after_catching_up(
        kafka_bootstrap: str, tmp_path: Path) -> None:
    topic = f"kill-posts-{uuid.uuid4().hex[:8]}"
    ensure_topics([topic], partitions=3, bootstrap=kafka_bootstrap)
    now_ms = int(time.time() * 1000)
    produce_raw(kafka_bootstrap, topic, _posts(now_ms, AUTHORS, 12, 0))
    port = free_port()
    address = f"127.0.0.1:{port}"
    proc = ServiceProcess("thunder", ["serve", "thunder", "--host", "127.0.0.1", "--port", str(port),
                                      "--metrics-port", "0"],
                          env={"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "TOPIC_POSTS": topic},
                          health_address=address, log_path=tmp_path / "thunder.log")
    with Supervisor() as supervisor:
        supervisor.start(proc, timeout_s=90)
        before = asyncio.run(_answers(address))
        assert sum(len(a) for a in before) > 0 and all(before[::2]), "the comparison must not be vacuous"

        pid = proc.process.pid  # type: ignore[union-attr]
        proc.kill()
        assert proc.process.poll() is not None and not check(address, timeout_s=0.5)  # type: ignore[union-attr]
        late = _posts(now_ms + 1000, [LATE_AUTHOR], 3, 50_000)  # produced while Thunder is down
        produce_raw(kafka_bootstrap, topic, late)

        proc.start()
        assert proc.process.pid != pid  # type: ignore[union-attr]
        proc.wait_healthy(90)  # SERVING only once the topic has been replayed
        after = asyncio.run(_answers(address))
        assert after == before

        async def late_posts() -> list[int]:
            async with ThunderClient([address], timeout_s=10) as client:
                return [p.post_id for p in await client.get_in_network_posts(1, [LATE_AUTHOR])]

        assert sorted(asyncio.run(late_posts())) == sorted(events_pb2.PostEvent.FromString(v).created.post_id
                                                           for _, v in late)
