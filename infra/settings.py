"""Connection settings shared by every service.

One typed object read from environment variables (and an optional ``.env``-style file named by
``FORYOU_CONFIG``). Service-specific knobs live in each package's own settings class so a package
never needs to edit this file; they use the same loading rules.
"""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from infra.topics import Topics


def _env_file() -> str | None:
    return os.environ.get("FORYOU_CONFIG")


class ConnectionSettings(BaseSettings):
    """Where the broker, Redis and the services are, and how to authenticate to them.

    Unset ``kafka_bootstrap_servers`` / ``redis_url`` mean "use the embedded dev services"
    (the launcher in ``infra.embedded`` starts them on free loopback ports).
    """

    model_config = SettingsConfigDict(env_file=_env_file(), extra="ignore")

    kafka_bootstrap_servers: str | None = Field(default=None, description="host:port[,host:port]")
    kafka_security_protocol: str = Field(default="PLAINTEXT", description="PLAINTEXT|SSL|SASL_PLAINTEXT|SASL_SSL")
    kafka_sasl_mechanism: str | None = Field(default=None, description="PLAIN|SCRAM-SHA-256|SCRAM-SHA-512")
    kafka_sasl_username: str | None = None
    kafka_sasl_password: str | None = None
    kafka_ssl_cafile: str | None = None
    redis_url: str | None = Field(default=None, description="redis:// or rediss:// (TLS) URL, password allowed")
    topic_posts: str = "posts"
    topic_engagements: str = "engagements"
    topic_social_graph: str = "social_graph"
    topic_served: str = "served"
    topic_dead_letter: str = "dead_letter"
    thunder_addr: str = "127.0.0.1:9090"
    ranker_addr: str = "127.0.0.1:9091"
    retrieval_addr: str = "127.0.0.1:9092"
    home_mixer_addr: str = "127.0.0.1:9093"
    grpc_tls_cert: str | None = Field(default=None, description="PEM cert: serve gRPC over TLS when set")
    grpc_tls_key: str | None = None
    grpc_tls_ca: str | None = Field(default=None, description="CA for clients to verify servers")
    log_json: bool = False
    log_level: str = "INFO"

    def topics(self) -> Topics:
        return Topics(
            posts=self.topic_posts,
            engagements=self.topic_engagements,
            social_graph=self.topic_social_graph,
            served=self.topic_served,
            dead_letter=self.topic_dead_letter,
        )

    def kafka_client_kwargs(self) -> dict[str, object]:
        """kafka-python security keyword arguments for every producer/consumer/admin client."""
        kwargs: dict[str, object] = {"security_protocol": self.kafka_security_protocol}
        if self.kafka_sasl_mechanism:
            kwargs["sasl_mechanism"] = self.kafka_sasl_mechanism
            kwargs["sasl_plain_username"] = self.kafka_sasl_username
            kwargs["sasl_plain_password"] = self.kafka_sasl_password
        if self.kafka_ssl_cafile:
            kwargs["ssl_cafile"] = self.kafka_ssl_cafile
        return kwargs


@lru_cache(maxsize=1)
def connection_settings() -> ConnectionSettings:
    """Process-wide settings (read once)."""
    return ConnectionSettings()
