"""A tiny world with known truth, for ranker tests (the project's full world lives in ``events/``).

Users and posts each have one of ``topics`` topics; an impression of a matching post is favorited
with probability 0.6 (else 0.05) and replied to with 0.2 (else 0.01); ``not_interested`` has the
opposite preference. ``oracle`` returns exactly these probabilities.
"""

from __future__ import annotations

import numpy as np

from infra.snowflake import make_snowflake
from protos import events_pb2
from protos import recsys_pb2 as pb

T0_MS = 1_700_000_000_000
PROBS = {  # action: (p if topic matches, p otherwise)
    "favorite": (0.6, 0.05, pb.SERVER_TWEET_FAV),
    "reply": (0.2, 0.01, pb.SERVER_TWEET_REPLY),
    "not_interested": (0.02, 0.25, pb.CLIENT_TWEET_NOT_INTERESTED_IN),
}


class TinyWorld:
    def __init__(self, users: int = 40, posts: int = 200, topics: int = 4, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.rng = rng
        self.user_topic = {u: int(rng.integers(topics)) for u in range(1, users + 1)}
        self.post_ids = [make_snowflake(T0_MS - 3_600_000 + i * 1000, i) for i in range(posts)]
        self.post_topic = {p: int(rng.integers(topics)) for p in self.post_ids}
        # Authors write in one topic, so the author id is informative too.
        self.post_author = {p: 1000 + self.post_topic[p] * 10 + int(rng.integers(3)) for p in self.post_ids}

    def oracle(self, user_id: int, candidate, seen_ms: int = 0, position: int = -1) -> dict[str, float]:
        post_id = candidate if isinstance(candidate, int) else candidate.post_id
        match = self.user_topic[user_id] == self.post_topic[post_id]
        return {name: (hi if match else lo) for name, (hi, lo, _) in PROBS.items()}

    def posts(self) -> list[events_pb2.PostCreated]:
        return [
            events_pb2.PostCreated(
                post_id=p, author_id=self.post_author[p], created_at=(T0_MS - 3_600_000 + i * 1000) // 1000
            )
            for i, p in enumerate(self.post_ids)
        ]

    def engagements(self, impressions_per_user: int = 40) -> list[events_pb2.EngagementEvent]:
        events = []
        n = 0
        for u in self.user_topic:
            shown = self.rng.choice(len(self.post_ids), size=impressions_per_user, replace=False)
            for k, idx in enumerate(shown):
                p = self.post_ids[int(idx)]
                t = T0_MS + k * 60_000
                n += 1
                events.append(self._ev(n, u, p, pb.CLIENT_TWEET_IMPRESSION, t, 0))
                for name, prob in self.oracle(u, p, t).items():
                    if self.rng.random() < prob:
                        n += 1
                        dwell = 8000 if name == "favorite" else 0
                        events.append(self._ev(n, u, p, PROBS[name][2], t + 5000, dwell))
        return events

    def _ev(self, n: int, u: int, p: int, action: int, t: int, dwell: int) -> events_pb2.EngagementEvent:
        return events_pb2.EngagementEvent(
            event_id=f"e{n}", user_id=u, post_id=p, author_id=self.post_author[p], action=action,
            timestamp_ms=t, dwell_time_ms=dwell, product_surface=pb.HOME_TIMELINE_RANKING,
        )  # fmt: skip
