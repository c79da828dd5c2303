"""Phoenix retrieval: a two-tower model and a live FAISS index of recent posts (reference §5).

* ``towers``/``model``: user tower (shared transformer over ``[user | history]``, masked mean-pool,
  L2-normalised) and candidate tower (post + author hashed embeddings -> MLP, L2-normalised);
* ``loss``/``training``: sampled softmax with in-batch + global negatives and log-Q correction;
* ``index``: the FAISS index (exact by default, HNSW / IVF options), ``live_index``: kept live
  from the ``posts`` topic; ``server``/``client``: the gRPC service and its client.
"""
