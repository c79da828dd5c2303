"""Drop posts whose text contains a muted keyword (X's ViewerMutedKeywordFilter).

X's tokenizer is unpublished; here both sides are lower-cased (``casefold``) and split into
word tokens (Unicode ``\\w+``, so punctuation and ``#``/``@`` are ignored), and a keyword
matches when its token sequence occurs contiguously in the post's tokens: "new york" matches
"I love New York!" but not "new yorkers" or "york new". Only the post text is checked, as X.
"""

from __future__ import annotations

import re

from candidate_pipeline import BaseStage, FilterResult
from home_mixer.deps import Deps
from home_mixer.filters.base import split
from home_mixer.models import FeedQuery, PostCandidate

_TOKEN = re.compile(r"\w+", re.UNICODE)


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(text.casefold())


def contains_sequence(tokens: list[str], needle: list[str]) -> bool:
    n = len(needle)
    return n > 0 and any(tokens[i : i + n] == needle for i in range(len(tokens) - n + 1))


class MutedKeywordFilter(BaseStage):
    def enable(self, query: FeedQuery) -> bool:
        return bool(query.muted_keywords)

    def filter(self, query: FeedQuery, candidates: list[PostCandidate]) -> FilterResult:
        muted = [(kw, tokenize(kw)) for kw in query.muted_keywords]
        muted = [(kw, toks) for kw, toks in muted if toks]

        def rule(c: PostCandidate) -> str | None:
            if not c.text:
                return None
            tokens = tokenize(c.text)
            hit = next((kw for kw, toks in muted if contains_sequence(tokens, toks)), None)
            return None if hit is None else f"muted keyword {hit!r}"

        return split(candidates, rule)


def build(deps: Deps) -> MutedKeywordFilter:
    return MutedKeywordFilter()
