"""Event data: the synthetic world, the MovieLens-100K adapter, the on-disk event log and the Kafka producer."""
