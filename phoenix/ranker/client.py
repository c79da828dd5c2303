"""Async client for the ranker, shaped for home-mixer's PhoenixScorer (reference §6.3)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from infra.grpc_server import make_channel
from phoenix.actions import DISCRETE_ACTIONS
from protos import recsys_pb2 as pb
from protos import recsys_pb2_grpc


class RankerClient:
    """``predict`` -> ({tweet_id: {action name: probability}}, {tweet_id: dwell seconds}, version)."""

    def __init__(self, address: str, timeout_s: float = 2.0) -> None:
        self.address = address
        self.timeout_s = timeout_s
        self._channel = make_channel(address)
        self._stub = recsys_pb2_grpc.RecsysPredictorStub(self._channel)

    async def predict(
        self,
        sequence: pb.UserActionSequence,
        candidates: Sequence[pb.TweetInfo],
        product_surface: int = pb.HOME_TIMELINE_RANKING,
    ) -> tuple[dict[int, dict[str, float]], dict[int, float], str]:
        request = pb.PredictNextActionsRequest(
            sequences=[sequence],
            candidate_sets=[
                pb.CandidateSet(
                    user_id=sequence.user_id, candidates=list(candidates), product_surface=product_surface
                )
            ],
            return_logprob=True,
        )
        response = await self._stub.PredictNextActions(request, timeout=self.timeout_s)
        probs: dict[int, dict[str, float]] = {}
        dwell: dict[int, float] = {}
        if response.distribution_sets:
            for dist in response.distribution_sets[0].candidate_distributions:
                tid = dist.candidate.tweet_id
                lp = dist.top_log_probs
                probs[tid] = {h.name: math.exp(lp[h.action]) for h in DISCRETE_ACTIONS if h.action < len(lp)}
                if len(dist.continuous_actions_values) > pb.DWELL_TIME:
                    dwell[tid] = float(dist.continuous_actions_values[pb.DWELL_TIME])
        return probs, dwell, response.model_version

    async def reload(self, checkpoint_path: str) -> pb.ReloadModelResponse:
        return await self._stub.ReloadModel(
            pb.ReloadModelRequest(checkpoint_path=checkpoint_path), timeout=60
        )

    async def close(self) -> None:
        await self._channel.close()

    async def __aenter__(self) -> RankerClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
