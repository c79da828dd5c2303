"""MovieLens-100K as feed events (a real dataset, mapped to our event schema synthetically).

The data is read at run time from the ``recbole==1.2.1`` wheel (``dataset_example/ml-100k``),
which ships the real GroupLens files; they are never copied into this repository (GroupLens terms:
research use, no redistribution). ``load_movielens_100k()`` parses them once per process (and
keeps a small ``.npz`` cache keyed by the source file's size and mtime), so leave-one-out
evaluations can call it freely.

THE MAPPING (synthetic, stated here and in reports; MovieLens has ratings only):
* every rating is an impression (``CLIENT_TWEET_IMPRESSION``) of the movie by the user, on
  ``HOME_TIMELINE_RANKING`` with unknown position (-1);
* rating >= 4 also emits ``favorite`` (``SERVER_TWEET_FAV``); rating == 5 also emits ``repost``
  (``SERVER_TWEET_RETWEET``); rating <= 2 emits ``not_interested``
  (``CLIENT_TWEET_NOT_INTERESTED_IN``); all at the rating's time;
* items are posts: created at the item's first rating time, text = the movie title,
  ``topic_id`` = first genre index + 1;
* authors are synthetic, one per genre: ``author_id = GENRE_AUTHOR_BASE + index of the item's
  first genre`` (so 19 authors; ``GENRE_AUTHOR_BASE`` keeps them apart from user ids 1..943);
* times are shifted by ``TIME_SHIFT_S`` (exactly 1997-09-20 -> 2024-09-20, 27 calendar years)
  because snowflake ids cannot encode times before 2010; order and gaps are unchanged;
* post ids are snowflakes of the (shifted) creation time whose 22-bit sequence field is the
  item id, so the map is reversible without a table: ``item_id_for_post(post_id_for_item(i)) == i``.
* there are no social-graph events (MovieLens has no follow graph).
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from google.protobuf.message import Message

from events.world.actions import ACTION_NUMBERS
from infra.snowflake import make_snowflake
from protos import events_pb2, recsys_pb2

GENRES: tuple[str, ...] = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama",
    "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western",
)
GENRE_AUTHOR_BASE = 1_000_000
TIME_SHIFT_S = (27 * 365 + 7) * 86_400
_ITEM_MASK = (1 << 22) - 1


class MovieLensUnavailable(RuntimeError):
    """The recbole wheel that ships MovieLens-100K is not installed."""


@dataclass(frozen=True)
class MovieLensItem:
    item_id: int
    title: str
    year: int | None
    genres: tuple[str, ...]

    @property
    def first_genre(self) -> str:
        return self.genres[0] if self.genres else "unknown"


@dataclass(frozen=True)
class MovieLensData:
    """Ratings as columns sorted by (timestamp, user, item); raw epoch-second timestamps."""

    user_id: np.ndarray    # int64
    item_id: np.ndarray    # int64
    rating: np.ndarray     # int8, 1..5
    timestamp: np.ndarray  # int64 epoch seconds (unshifted)
    items: dict[int, MovieLensItem]

    def __len__(self) -> int:
        return int(self.user_id.shape[0])

    @property
    def n_users(self) -> int:
        return int(np.unique(self.user_id).shape[0])

    @property
    def n_items(self) -> int:
        return len(self.items)

    @property
    def interactions(self) -> np.ndarray:
        """A structured array of (user_id, item_id, rating, timestamp) rows in time order."""
        out = np.empty(len(self), dtype=[("user_id", "i8"), ("item_id", "i8"), ("rating", "i1"), ("timestamp", "i8")])
        out["user_id"], out["item_id"], out["rating"], out["timestamp"] = self.user_id, self.item_id, self.rating, self.timestamp
        return out

    def first_rating_time(self) -> dict[int, int]:
        """Item id -> the epoch second of its first rating (its post's creation time)."""
        items, first = np.unique(self.item_id, return_index=True)  # sorted by time: first index = earliest
        return dict(zip(items.tolist(), self.timestamp[first].tolist(), strict=True))


def dataset_dir() -> Path:
    spec = importlib.util.find_spec("recbole")
    if spec is None or not spec.submodule_search_locations:
        raise MovieLensUnavailable("MovieLens-100K needs the recbole wheel: pip install --no-deps recbole==1.2.1")
    path = Path(next(iter(spec.submodule_search_locations))) / "dataset_example" / "ml-100k"
    if not (path / "ml-100k.inter").exists():
        raise MovieLensUnavailable(f"{path}/ml-100k.inter not found: reinstall recbole==1.2.1")
    return path


def _cache_path(inter: Path) -> Path:
    stat = inter.stat()
    root = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "foryou"
    return root / f"ml-100k-{stat.st_size}-{int(stat.st_mtime)}.npz"


def _parse_items(path: Path) -> dict[int, MovieLensItem]:
    items: dict[int, MovieLensItem] = {}
    with open(path, encoding="latin-1") as f:
        next(f)
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 4:
                continue
            year = int(parts[2]) if parts[2].isdigit() else None
            items[int(parts[0])] = MovieLensItem(int(parts[0]), parts[1], year, tuple(parts[3].split()))
    return items


def _parse_ratings(inter: Path) -> np.ndarray:
    cache = _cache_path(inter)
    if cache.exists():
        try:
            with np.load(cache) as z:
                return z["ratings"]
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache is rebuilt below
    raw = np.loadtxt(inter, skiprows=1, dtype=np.int64, delimiter="\t")
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(".tmp.npz")
        np.savez(tmp, ratings=raw)
        tmp.replace(cache)
    except OSError:
        pass  # a read-only home only costs speed
    return raw


@lru_cache(maxsize=1)
def load_movielens_100k() -> MovieLensData:
    """The 100,000 ratings of MovieLens-100K sorted by time, with item titles, years and genres."""
    path = dataset_dir()
    raw = _parse_ratings(path / "ml-100k.inter")
    order = np.lexsort((raw[:, 1], raw[:, 0], raw[:, 3]))
    raw = raw[order]
    return MovieLensData(
        user_id=np.ascontiguousarray(raw[:, 0]),
        item_id=np.ascontiguousarray(raw[:, 1]),
        rating=np.ascontiguousarray(raw[:, 2]).astype(np.int8),
        timestamp=np.ascontiguousarray(raw[:, 3]),
        items=_parse_items(path / "ml-100k.item"),
    )


def author_for_item(item: MovieLensItem) -> int:
    genre = item.first_genre
    return GENRE_AUTHOR_BASE + (GENRES.index(genre) if genre in GENRES else 0)


def post_id_for_item(item_id: int, first_rating_s: int) -> int:
    if not 0 < item_id <= _ITEM_MASK:
        raise ValueError(f"item id {item_id} does not fit the snowflake sequence field")
    return make_snowflake((first_rating_s + TIME_SHIFT_S) * 1000, item_id)


def item_id_for_post(post_id: int) -> int:
    return post_id & _ITEM_MASK


def movielens_events(data: MovieLensData) -> Iterator[tuple[str, Message]]:
    """The mapped events as ``(topic, message)`` in time order (see the module docstring)."""
    first = data.first_rating_time()
    created: set[int] = set()
    surface = recsys_pb2.HOME_TIMELINE_RANKING
    fav, repost, neg, imp = (ACTION_NUMBERS[a] for a in ("favorite", "repost", "not_interested", "impression"))
    for row, (user, item, rating, ts) in enumerate(zip(data.user_id.tolist(), data.item_id.tolist(),
                                                       data.rating.tolist(), data.timestamp.tolist(), strict=True)):
        meta = data.items.get(item) or MovieLensItem(item, f"item {item}", None, ())
        post_id = post_id_for_item(item, first[item])
        author = author_for_item(meta)
        if item not in created:
            created.add(item)
            genre = meta.first_genre
            yield "posts", events_pb2.PostEvent(event_id=f"ml-post-{item}", created=events_pb2.PostCreated(
                post_id=post_id, author_id=author, created_at=first[item] + TIME_SHIFT_S,
                conversation_id=post_id, text=meta.title, language_code="en",
                topic_id=(GENRES.index(genre) if genre in GENRES else 0) + 1))
        ms = (ts + TIME_SHIFT_S) * 1000
        actions = [("i", imp)]
        if rating >= 4:
            actions.append(("f", fav))
        if rating == 5:
            actions.append(("r", repost))
        if rating <= 2:
            actions.append(("n", neg))
        for tag, action in actions:
            yield "engagements", events_pb2.EngagementEvent(
                event_id=f"ml-{row}-{tag}", user_id=user, post_id=post_id, author_id=author, action=action,
                timestamp_ms=ms, product_surface=surface, position=-1)
