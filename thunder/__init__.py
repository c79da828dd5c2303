"""Thunder: the in-memory store of recent in-network posts (X's InNetworkPostsService).

Kafka ``posts`` events -> :class:`thunder.post_store.PostStore` (columnar, numpy) ->
:func:`thunder.retrieval.in_network_posts` (X's per-author rules) -> gRPC.
"""
