"""home-mixer's own knobs (env prefix ``HOME_MIXER_``); where the other services are lives in
``infra.settings.ConnectionSettings`` (``THUNDER_ADDR``, ``RANKER_ADDR``, ``REDIS_URL``, ...).

The request limits are part of the service contract: a request beyond them is refused with
INVALID_ARGUMENT rather than silently truncated, so a client bug shows up at once.
"""

from __future__ import annotations

import os

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class HomeMixerSettings(BaseSettings):
    """Override with ``HOME_MIXER_PORT=...`` etc. or the ``foryou serve home-mixer`` options."""

    # FORYOU_CONFIG names an env-style file with the same keys (read like infra.settings).
    model_config = SettingsConfigDict(env_prefix="HOME_MIXER_", env_file=os.environ.get("FORYOU_CONFIG"), extra="ignore")

    host: str = "0.0.0.0"
    port: int = Field(default=9093, ge=0, description="gRPC port (0 = pick a free one)")
    metrics_port: int = Field(default=9103, ge=0, description="Prometheus HTTP port (0 = off)")
    config_path: str | None = Field(default=None, description="pipeline YAML (default: configs/default.yaml)")
    request_deadline_s: float = Field(
        default=1.0, gt=0, description="deadline when the client sets none (a client's shorter one wins)"
    )
    deadline_margin_s: float = Field(
        default=0.03, ge=0, description="kept back from the deadline to build and send the response"
    )
    max_seen_ids: int = Field(default=10_000, gt=0)
    max_served_ids: int = Field(default=10_000, gt=0)
    max_results: int = Field(default=200, gt=0, description="largest max_results a request may ask for")
    max_concurrent_rpcs: int = Field(default=256, gt=0, description="in-flight requests before RESOURCE_EXHAUSTED")
    client_timeout_s: float = Field(
        default=0.5, gt=0,
        description="per-call timeout of Thunder/ranker/retrieval; below the deadline so a slow one degrades the feed",
    )
    feed_state_redis_url: str | None = Field(
        default=None,
        description="Redis for served history, impressions and the score cache (default: REDIS_URL)",
    )
    publish_served: bool = Field(default=True, description="publish the `served` event to Kafka")
    tune_gc: bool = Field(
        default=True, description="freeze start-up objects and raise GC thresholds when serving (gc_tuning.py)"
    )
