"""A small async client of ``GetForYouFeed`` (the demo, the benches and the tests use it)."""

from __future__ import annotations

from collections.abc import Iterable

from infra.grpc_server import make_channel
from protos import home_mixer_pb2 as hm
from protos import home_mixer_pb2_grpc as hm_grpc


class FeedClient:
    """``async with FeedClient("127.0.0.1:9093") as feeds: await feeds.get_feed(42)``."""

    def __init__(self, address: str, timeout_s: float = 2.0) -> None:
        self.address = address
        self.timeout_s = timeout_s
        self._channel = make_channel(address)
        self._stub = hm_grpc.ForYouFeedServiceStub(self._channel)

    async def get_feed(
        self,
        viewer_id: int,
        *,
        seen_ids: Iterable[int] = (),
        served_ids: Iterable[int] = (),
        in_network_only: bool = False,
        exclude_videos: bool = False,
        max_results: int = 0,
        debug: bool = False,
        request_id: str = "",
        timeout_s: float | None = None,
    ) -> hm.ForYouFeedResponse:
        """The viewer's feed; raises ``grpc.aio.AioRpcError`` (INVALID_ARGUMENT, DEADLINE_EXCEEDED, ...)."""
        request = hm.ForYouFeedRequest(
            viewer_id=viewer_id, seen_ids=list(seen_ids), served_ids=list(served_ids),
            in_network_only=in_network_only, exclude_videos=exclude_videos, max_results=max_results,
            debug=debug, request_id=request_id,
        )
        return await self._stub.GetForYouFeed(request, timeout=timeout_s or self.timeout_s)

    async def close(self) -> None:
        await self._channel.close()

    async def __aenter__(self) -> FeedClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
