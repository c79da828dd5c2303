"""``foryou train ranker`` on a real on-disk event log, then the checkpoint serves."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from events.log import EventLogWriter
from infra.cli import app
from phoenix.ranker.engine import RankerEngine
from protos import events_pb2

from .synthetic import TinyWorld


def test_train_ranker_from_event_log(tmp_path) -> None:
    world = TinyWorld(users=12, posts=60, topics=2, seed=4)
    with EventLogWriter(tmp_path / "log") as writer:
        for post in world.posts():
            writer.write_post(events_pb2.PostEvent(event_id=f"p{post.post_id}", created=post))
        for ev in sorted(world.engagements(12), key=lambda e: e.timestamp_ms):
            writer.write_engagement(ev)
    out = tmp_path / "ck"
    result = CliRunner().invoke(
        app,
        [
            "train",
            "ranker",
            "--events",
            str(tmp_path / "log"),
            "--out",
            str(out),
            "--epochs",
            "1",
            "--batch-size",
            "8",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads((out / "eval.json").read_text())
    assert report["train_examples"] > 0 and report["valid_examples"] > 0
    assert "favorite" in report["metrics"]
    assert RankerEngine.from_checkpoint(str(out)).version == report["model_version"]
