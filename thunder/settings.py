"""Thunder's own knobs (env prefix ``THUNDER_``); connection settings stay in ``infra.settings``."""

from __future__ import annotations

import os

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from thunder import constants as c


class ThunderSettings(BaseSettings):
    """X's defaults; override with ``THUNDER_PORT=...`` etc. or the CLI options."""

    # FORYOU_CONFIG names an env-style file with the same keys (read like infra.settings).
    model_config = SettingsConfigDict(env_prefix="THUNDER_", env_file=os.environ.get("FORYOU_CONFIG"), extra="ignore")

    port: int = Field(default=c.GRPC_PORT, description="gRPC port (0 = pick a free one)")
    host: str = "0.0.0.0"
    metrics_port: int = Field(default=c.METRICS_PORT, description="Prometheus HTTP port (0 = off)")
    retention_s: int = Field(default=c.POST_RETENTION_SECONDS, gt=0)
    max_concurrent: int = Field(default=256, gt=0, description="in-flight requests before RESOURCE_EXHAUSTED")
    qps_limit: float = Field(default=c.QPS_LIMIT, gt=0, description="token-bucket rate before RESOURCE_EXHAUSTED")
    partitions: list[int] | None = Field(default=None, description="sharded mode: serve only the authors of these partitions")
    trim_interval_s: float = Field(default=c.AUTO_TRIM_INTERVAL_SECONDS, gt=0)
    dead_letter: bool = Field(default=False, description="copy malformed events to the dead-letter topic")
    # Thunder decodes and inserts a poll's events at once, so bigger polls cost less per event
    # (catching up; live polls hold what arrived since the last one). Inserting 10,000 posts takes
    # ~10-20 ms under the store lock.
    poll_max_records: int = Field(default=10_000, gt=0, description="events per Kafka poll at most")
