"""The Phoenix ranker: a candidate-isolated multi-action transformer over a user's history.

* ``config``   - model/feature sizes (``RankerConfig``), serialisable into checkpoints
* ``features`` - plain-Python user context / candidates -> padded ``RankerBatch`` tensors
* ``model``    - ``PhoenixRanker``: token construction, full masked path and KV-cached path
* ``examples`` - training examples from protobuf events (post creations, engagements)
* ``train``    - masked multi-action BCE + dwell loss, AdamW, optional torch.distributed DDP
* ``evaluate`` - per-action ROC-AUC, log loss, RCE, calibration, and the oracle comparison
* ``world_eval`` - quality against a synthetic world's oracle probabilities
* ``engine``   - the inference runtime (prefix once, candidates in chunks, multi-user batches)
* ``request``  - gRPC request validation and conversion to/from the engine
* ``batcher``  - micro-batching of concurrent requests, overload refusal
* ``server`` / ``client`` - gRPC ``RecsysPredictor`` and the async client home-mixer uses
* ``cli``      - ``foryou serve ranker`` / ``foryou train ranker``
"""
