"""The knobs of the synthetic world, with presets from test-sized to benchmark-sized."""

from __future__ import annotations

from dataclasses import dataclass, replace

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
PRESET_NAMES = ("tiny", "small", "small_long", "large")
"""The names ``WorldConfig.preset`` knows (CLI help texts list them from here)."""


@dataclass(frozen=True)
class WorldConfig:
    """Everything that shapes a world; two worlds with equal configs are identical event for event."""

    seed: int = 0
    n_users: int = 200
    n_topics: int = 12
    words_per_topic: int = 60
    days: float = 3.0
    start_ms: int = 1_735_689_600_000  # 2025-01-01T00:00:00Z
    # Authors: mean posts per user per day; individual rates are log-normal (heavy tailed).
    posts_per_user_per_day: float = 4.0
    posting_rate_sigma: float = 1.5
    reply_fraction: float = 0.15
    repost_fraction: float = 0.10
    quote_fraction: float = 0.05
    photo_fraction: float = 0.20
    label_fraction: float = 0.01  # posts carrying a safety label ("nsfw" / "spam")
    # Follow graph: mean out-degree; popularity and topic homophily shape whom users follow.
    mean_follows: float = 25.0
    homophily: float = 4.0
    # Sessions: users come back (log-normal activity) and are shown a mixed feed.
    sessions_per_user_per_day: float = 2.0
    posts_per_session: int = 12
    in_network_fraction: float = 0.5
    candidate_window_hours: float = 48.0
    latest_surface_fraction: float = 0.15  # sessions on the chronological "Following" surface
    # Social-graph churn over time (follow / unfollow / keyword mutes) per user per day.
    churn_per_user_per_day: float = 0.3
    initial_keyword_mute_fraction: float = 0.05

    def __post_init__(self) -> None:
        if self.n_users < 2:
            raise ValueError("a world needs at least 2 users")
        if self.n_topics < 1 or self.words_per_topic < 2:
            raise ValueError("a world needs topics with at least 2 words each")
        if self.days <= 0:
            raise ValueError("days must be positive")
        if not 0 <= self.reply_fraction + self.repost_fraction + self.quote_fraction <= 1:
            raise ValueError("reply + repost + quote fractions must be within [0, 1]")
        if self.n_topics * self.words_per_topic >= 65535:
            raise ValueError("vocabulary too large (word ids are uint16)")

    @property
    def end_ms(self) -> int:
        return self.start_ms + int(self.days * DAY_MS)

    @classmethod
    def preset(cls, name: str, **overrides: object) -> WorldConfig:
        """``tiny`` (tests: ~200 users, a few thousand posts, seconds), ``small`` (demos),
        ``small_long`` (the ranker quality benchmark: ``small`` over 8 days, so twice the labelled
        impressions; the ranker trained on ``small`` is data-limited), ``large`` (benchmarks:
        about 1M posts)."""
        small = cls(n_users=2_000, days=4.0, posts_per_user_per_day=4.0, sessions_per_user_per_day=1.5)
        presets = {
            "tiny": cls(),
            "small": small,
            "small_long": replace(small, days=8.0),
            "large": cls(n_users=50_000, n_topics=40, days=4.0, posts_per_user_per_day=5.0,
                         sessions_per_user_per_day=0.5, mean_follows=40.0),
        }
        if name not in presets:
            raise ValueError(f"unknown world preset {name!r}; choose one of {sorted(presets)}")
        return replace(presets[name], **overrides)  # type: ignore[arg-type]
