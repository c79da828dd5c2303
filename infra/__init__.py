"""Shared wiring for every service: settings, Kafka/Redis connections, the embedded dev services,
gRPC server plumbing, logging, snowflake ids and the one CLI. Product logic lives elsewhere."""
