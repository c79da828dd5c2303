"""Caps and retention of user state (environment variables ``USER_STATE_*``)."""

from __future__ import annotations

import os

from pydantic_settings import BaseSettings, SettingsConfigDict

DAY_S = 86_400


class UserStateSettings(BaseSettings):
    # FORYOU_CONFIG names an env-style file with the same keys (read like infra.settings).
    model_config = SettingsConfigDict(env_prefix="USER_STATE_", env_file=os.environ.get("FORYOU_CONFIG"), extra="ignore")

    events_cap: int = 4096            # newest engagement events kept per user
    events_ttl_s: int = 30 * DAY_S    # an inactive user's event list expires
    post_ttl_s: int = 3 * DAY_S       # Thunder retention (2 days) + 1 day margin
    dedup_ttl_s: int = 7 * DAY_S      # replays older than this would be re-applied
    metrics_port: int = 9104
    host: str = "0.0.0.0"              # health gRPC bind address
    port: int = 9094                  # health gRPC port (0 = pick a free one)
