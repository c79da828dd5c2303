"""home-mixer: the For You product pipeline (stages, pipeline definition, gRPC feed service, replay)."""
