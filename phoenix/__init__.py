"""Phoenix: the learned models of the feed (ranker and two-tower retrieval).

Shared building blocks live at the package top level so both models use the same hashing,
embeddings, transformer, action taxonomy and checkpoint format:

* ``hashing``     - mmh3 id hashing into embedding-table rows (0 = padding)
* ``embeddings``  - ``HashedEmbedding``: one table per entity kind, project-then-sum
* ``transformer`` - RMSNorm, right-anchored RoPE, GQA attention, masks, KV cache
* ``actions``     - the discrete/continuous heads keyed by ``ActionName`` numbers
* ``checkpoint``  - safetensors + JSON config checkpoints with a content-derived version
"""
