"""Topic vocabularies: every topic owns its own pronounceable pseudo-words.

Post text is drawn from the author's topic vocabulary, so a muted keyword removes (mostly) one
topic's posts and text-based filters have something real to bite on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_ONSETS = ["b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "kr", "st", "tr", "sh", "ch"]
_VOWELS = ["a", "e", "i", "o", "u", "ai", "ou"]


@dataclass(frozen=True)
class Vocabulary:
    words: tuple[str, ...]  # word id -> word; topic t owns ids [t * words_per_topic, (t+1) * ...)
    words_per_topic: int

    @classmethod
    def build(cls, n_topics: int, words_per_topic: int, rng: np.random.Generator) -> Vocabulary:
        seen: set[str] = set()
        words: list[str] = []
        while len(words) < n_topics * words_per_topic:
            syllables = int(rng.integers(2, 4))
            word = "".join(_ONSETS[int(rng.integers(len(_ONSETS)))] + _VOWELS[int(rng.integers(len(_VOWELS)))]
                           for _ in range(syllables))
            if word not in seen:
                seen.add(word)
                words.append(word)
        return cls(tuple(words), words_per_topic)

    def topic_of(self, word_id: int) -> int:
        return word_id // self.words_per_topic

    def topic_words(self, topic: int) -> tuple[str, ...]:
        return self.words[topic * self.words_per_topic:(topic + 1) * self.words_per_topic]

    def text(self, word_ids: np.ndarray) -> str:
        return " ".join(self.words[int(w)] for w in word_ids)
