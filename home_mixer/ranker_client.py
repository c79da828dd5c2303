"""gRPC client of the Phoenix ranker (``RecsysPredictor.PredictNextActions``) in the shape the
PhoenixScorer wants: probabilities by action NAME per tweet id, dwell seconds, model version.

The wire carries X's layout: ``top_log_probs`` indexed by ``ActionName`` number (log-sigmoid)
and ``continuous_actions_values`` indexed by ``ContinuousActionName``. Decoding is done once
per response with numpy (one exp over a [candidates, heads] matrix) rather than per
candidate and action in Python, because a feed request scores ~2,000 candidates.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from home_mixer.actions import CONTINUOUS_ACTIONS, DISCRETE_ACTIONS
from infra.grpc_server import make_channel
from protos import recsys_pb2, recsys_pb2_grpc

_DISCRETE_NAMES = list(DISCRETE_ACTIONS)
_DISCRETE_SLOTS = np.array([DISCRETE_ACTIONS[n] for n in _DISCRETE_NAMES])
_DWELL = recsys_pb2.ContinuousActionName.DWELL_TIME
_OTHER_CONTINUOUS = {n: i for n, i in CONTINUOUS_ACTIONS.items() if i != _DWELL}


def decode_predictions(
    response: recsys_pb2.PredictNextActionsResponse,
) -> tuple[dict[int, dict[str, float]], dict[int, float]]:
    """(tweet id -> action name -> probability, tweet id -> predicted dwell seconds)."""
    dists = [d for s in response.distribution_sets for d in s.candidate_distributions]
    if not dists:
        return {}, {}
    width = max(len(d.top_log_probs) for d in dists)
    log_probs = np.full((len(dists), max(width, int(_DISCRETE_SLOTS.max()) + 1)), -np.inf, dtype=np.float32)
    for row, d in enumerate(dists):
        log_probs[row, : len(d.top_log_probs)] = d.top_log_probs
    probs = np.exp(log_probs[:, _DISCRETE_SLOTS]).tolist()
    out: dict[int, dict[str, float]] = {}
    dwell: dict[int, float] = {}
    for d, row in zip(dists, probs, strict=True):
        scores = dict(zip(_DISCRETE_NAMES, row, strict=True))
        values = d.continuous_actions_values
        for name, index in _OTHER_CONTINUOUS.items():
            if index < len(values):
                scores[name] = float(values[index])
        out[d.candidate.tweet_id] = scores
        if _DWELL < len(values):
            dwell[d.candidate.tweet_id] = float(values[_DWELL])
    return out, dwell


class GrpcRankerClient:
    """Implements :class:`home_mixer.deps.RankerClient` over one ranker address."""

    def __init__(self, address: str, timeout_s: float = 1.0) -> None:
        self.address = address
        self.timeout_s = timeout_s
        self._channel = make_channel(address)
        self._stub = recsys_pb2_grpc.RecsysPredictorStub(self._channel)

    async def predict(
        self,
        sequence: recsys_pb2.UserActionSequence,
        candidates: list[recsys_pb2.TweetInfo],
        product_surface: int,
    ) -> tuple[Mapping[int, Mapping[str, float]], Mapping[int, float], str]:
        request = recsys_pb2.PredictNextActionsRequest(
            sequences=[sequence],
            candidate_sets=[recsys_pb2.CandidateSet(
                user_id=sequence.user_id, candidates=candidates, product_surface=product_surface)],
        )
        response = await self._stub.PredictNextActions(request, timeout=self.timeout_s)
        probs, dwell = decode_predictions(response)
        return probs, dwell, response.model_version

    async def close(self) -> None:
        await self._channel.close()
