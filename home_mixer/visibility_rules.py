"""The visibility rule set: ALLOW / INTERSTITIAL / DROP per (post, viewer), from labels.

A small stand-in for X's visibility-filtering service, kept separate from ranking (ranking
never sees these labels). Rules are evaluated in order and the first DROP ends evaluation;
otherwise the strictest non-drop verdict wins. Safety labels come from the post (``labels``)
and from the author account (``author_labels``):

==========================  ===================  =====================================
label                       in-network           out-of-network (recommendations)
==========================  ===================  =====================================
post ``spam``               DROP                 DROP
post ``illegal``            DROP                 DROP
author ``suspended``        DROP                 DROP
author ``spam``             DROP                 DROP
post ``nsfw``               INTERSTITIAL         DROP  (never recommend to strangers)
author ``nsfw``             INTERSTITIAL         DROP
post ``violent``            INTERSTITIAL         INTERSTITIAL
post ``sensitive``          INTERSTITIAL         INTERSTITIAL
==========================  ===================  =====================================

Labels are matched case-insensitively; unknown labels are ALLOW.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Action = Literal["allow", "interstitial", "drop"]

_ALWAYS_DROP_POST = frozenset({"spam", "illegal"})
_ALWAYS_DROP_AUTHOR = frozenset({"suspended", "spam"})
_OON_DROP_POST = frozenset({"nsfw"})
_OON_DROP_AUTHOR = frozenset({"nsfw"})
_INTERSTITIAL_POST = frozenset({"nsfw", "violent", "sensitive"})
_INTERSTITIAL_AUTHOR = frozenset({"nsfw"})


@dataclass(frozen=True)
class Verdict:
    action: Action
    reason: str | None = None


def evaluate(post_labels: list[str], author_labels: list[str], in_network: bool) -> Verdict:
    """The verdict for one post shown to one viewer."""
    post = {label.casefold() for label in post_labels}
    author = {label.casefold() for label in author_labels}
    for label in sorted(post & _ALWAYS_DROP_POST):
        return Verdict("drop", f"post label {label}")
    for label in sorted(author & _ALWAYS_DROP_AUTHOR):
        return Verdict("drop", f"author label {label}")
    if not in_network:
        for label in sorted(post & _OON_DROP_POST):
            return Verdict("drop", f"post label {label} (out-of-network)")
        for label in sorted(author & _OON_DROP_AUTHOR):
            return Verdict("drop", f"author label {label} (out-of-network)")
    for label in sorted(post & _INTERSTITIAL_POST):
        return Verdict("interstitial", f"post label {label}")
    for label in sorted(author & _INTERSTITIAL_AUTHOR):
        return Verdict("interstitial", f"author label {label}")
    return Verdict("allow")
