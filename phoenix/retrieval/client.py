"""Async client of the retrieval service, as home-mixer's Phoenix source uses it.

It asks for packed hits (``packed_hits.py``) and still reads X's one-message-per-hit layout
from a server that answers that way."""

from __future__ import annotations

from collections.abc import Iterable

from infra.grpc_server import make_channel
from phoenix.retrieval.packed_hits import Hit, unpack_hits
from protos import recsys_pb2, recsys_pb2_grpc

__all__ = ["Hit", "RetrievalClient"]


class RetrievalClient:
    def __init__(self, address: str, timeout_s: float = 1.0) -> None:
        self.address = address
        self.timeout_s = timeout_s
        self._channel = make_channel(address)
        self._stub = recsys_pb2_grpc.RecsysRetrievalPredictorStub(self._channel)

    async def retrieve(
        self,
        user_id: int,
        sequence: recsys_pb2.UserActionSequence | None = None,
        top_k: int = 1000,
        exclude_ids: Iterable[int] = (),
    ) -> tuple[list[Hit], str]:
        """Top-k (post id, author id, score) for one user and the model version that served them.

        ``sequence=None`` lets the server fetch the user's history from the user-state store.
        """
        request = recsys_pb2.RetrieveTopKCandidatesRequest(
            user_ids=[user_id], top_k=top_k, exclude_post_ids=list(exclude_ids),
            sequences=[sequence] if sequence is not None else [], packed=True)
        response = await self._stub.RetrieveTopKCandidates(request, timeout=self.timeout_s)
        hits: list[Hit] = []
        for scored in response.top_k_candidates:
            if scored.HasField("packed"):
                hits += unpack_hits(scored.packed)
                continue
            hits += [(c.candidate.tweet_id, c.candidate.author_id, c.score) for c in scored.candidates]
        return hits, response.model_version

    async def reload(self, checkpoint_path: str, timeout_s: float = 600.0) -> recsys_pb2.ReloadModelResponse:
        return await self._stub.ReloadModel(recsys_pb2.ReloadModelRequest(checkpoint_path=checkpoint_path),
                                            timeout=timeout_s)

    async def close(self) -> None:
        await self._channel.close()

    async def __aenter__(self) -> RetrievalClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
