"""Users, authors and the initial follow graph of a synthetic world.

Every user is also a potential author. Interests are sparse (Dirichlet) over topics; posting
rates are log-normal, so a few authors write most posts (the heavy tail real feeds have); whom a
user follows is drawn by author popularity times topic similarity (homophily).
Users are addressed by index ``i`` internally and by ``user_id = i + 1`` in events.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from events.world.config import WorldConfig


@dataclass(frozen=True)
class Population:
    interests: np.ndarray         # (n_users, n_topics) float32, rows sum to 1
    affinity: np.ndarray          # (n_users, n_topics) float32, interests / row max, in [0, 1]
    home_topic: np.ndarray        # (n_users,) int: the topic a user mostly writes about
    posting_rate: np.ndarray      # (n_users,) posts per day
    quality: np.ndarray           # (n_users,) author quality, standard normal
    activity: np.ndarray          # (n_users,) sessions per day
    video_propensity: np.ndarray  # (n_users,) probability an original post carries a video
    popularity: np.ndarray        # (n_users,) follow attractiveness, sums to 1
    follows: list[np.ndarray]     # initial follow lists (author indices), one per user

    @property
    def n_users(self) -> int:
        return int(self.interests.shape[0])


def _lognormal_with_mean(rng: np.random.Generator, mean: float, sigma: float, n: int) -> np.ndarray:
    return rng.lognormal(np.log(max(mean, 1e-9)) - sigma * sigma / 2, sigma, n)


def _gumbel_top_k(rng: np.random.Generator, log_weights: np.ndarray, k: int) -> np.ndarray:
    """k distinct indices sampled without replacement proportionally to exp(log_weights)."""
    keys = log_weights + rng.gumbel(size=log_weights.shape)
    k = min(k, len(keys))
    return np.argpartition(-keys, k - 1)[:k] if k > 0 else np.empty(0, dtype=np.int64)


def build_population(config: WorldConfig, rng: np.random.Generator) -> Population:
    n, t = config.n_users, config.n_topics
    interests = rng.dirichlet(np.full(t, 0.3), n).astype(np.float32)
    affinity = interests / interests.max(axis=1, keepdims=True)
    cum = interests.cumsum(axis=1)
    home_topic = np.minimum((cum < rng.random((n, 1))).sum(axis=1), t - 1)
    posting_rate = _lognormal_with_mean(rng, config.posts_per_user_per_day, config.posting_rate_sigma, n)
    quality = rng.standard_normal(n)
    activity = _lognormal_with_mean(rng, config.sessions_per_user_per_day, 0.7, n)
    video_propensity = rng.beta(1.0, 6.0, n)
    pop = np.sqrt(posting_rate) * np.exp(0.5 * quality)
    popularity = pop / pop.sum()
    follows = build_follow_graph(config, rng, interests, popularity)
    return Population(interests, affinity, home_topic, posting_rate, quality, activity, video_propensity, popularity, follows)


def build_follow_graph(config: WorldConfig, rng: np.random.Generator, interests: np.ndarray,
                       popularity: np.ndarray) -> list[np.ndarray]:
    n = interests.shape[0]
    unit = interests / np.linalg.norm(interests, axis=1, keepdims=True)
    degrees = np.clip(_lognormal_with_mean(rng, config.mean_follows, 0.8, n).astype(int), 1, n - 1)
    follows: list[np.ndarray] = []
    for i in range(n):
        k = int(degrees[i])
        pool = np.unique(rng.choice(n, size=min(n, 6 * k + 10), p=popularity))
        pool = pool[pool != i]
        similarity = unit[pool] @ unit[i]
        chosen = pool[_gumbel_top_k(rng, config.homophily * similarity, k)]
        follows.append(np.sort(chosen))
    return follows


def pick_author_to_follow(rng: np.random.Generator, population: Population, user: int, homophily: float,
                          exclude: set[int]) -> int | None:
    """An author a user would plausibly follow next: popular and close to their interests."""
    pool = rng.choice(population.n_users, size=32, p=population.popularity)
    pool = np.array([a for a in pool if a != user and a not in exclude], dtype=np.int64)
    if len(pool) == 0:
        return None
    unit = population.interests[pool] / np.linalg.norm(population.interests[pool], axis=1, keepdims=True)
    me = population.interests[user] / np.linalg.norm(population.interests[user])
    return int(pool[_gumbel_top_k(rng, homophily * (unit @ me), 1)[0]])
