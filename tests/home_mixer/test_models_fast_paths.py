"""The hand-written fast paths of the models equal the generic dataclass operations they replace."""

from __future__ import annotations

import copy
import dataclasses
import json

import pytest

from home_mixer.models import ActionTerm, PostCandidate, ScoreExplanation


def _candidate() -> PostCandidate:
    exp = ScoreExplanation(terms=(ActionTerm("favorite", 0.5, 0.5, 0.25), ActionTerm("report", 0.01, -234.0, -2.34)),
                           weighted_score=0.2, scored=True, other_multipliers={"dpp": 1.0}, note="n")
    return PostCandidate(7, 9, ancestors=[1, 2], labels=["nsfw"], author_labels=["bot"], text="hi",
                         phoenix_scores={"favorite": 0.5, "report": 0.01}, explanation=exp, score=0.1)


def test_to_dict_is_json_ready_and_round_trips() -> None:
    c = _candidate()
    data = json.loads(json.dumps(c.to_dict()))
    assert data["explanation"]["terms"][1] == {"action": "report", "probability": 0.01, "weight": -234.0,
                                               "contribution": -2.34}
    assert PostCandidate.from_dict(data) == c
    generic = dataclasses.asdict(dataclasses.replace(c, explanation=ScoreExplanation()))
    assert c.to_dict() | {"explanation": None} == generic | {"explanation": None}


def test_to_dict_shares_no_mutable_state() -> None:
    c = _candidate()
    d = c.to_dict()
    d["ancestors"].append(3)
    d["labels"].clear()
    d["phoenix_scores"]["click"] = 1.0
    d["explanation"]["other_multipliers"]["x"] = 2.0
    assert c.ancestors == [1, 2] and c.labels == ["nsfw"] and "click" not in c.phoenix_scores
    assert c.explanation.other_multipliers == {"dpp": 1.0}


def test_evolve_equals_replace_and_checks_names() -> None:
    exp = _candidate().explanation
    assert exp.evolve(final_score=3.0, note="") == dataclasses.replace(exp, final_score=3.0, note="")
    assert exp.final_score is None  # the original is untouched
    with pytest.raises(TypeError, match="bogus"):
        exp.evolve(bogus=1)


def test_the_shared_blank_explanation_equals_the_default_and_cannot_be_changed() -> None:
    a, b = PostCandidate(1), PostCandidate(2)
    assert a.explanation == ScoreExplanation() and type(a.explanation) is ScoreExplanation
    assert a.explanation is b.explanation and a.explanation.other_multipliers == {}
    with pytest.raises(TypeError, match="with_multiplier"):
        a.explanation.other_multipliers["dpp"] = 0.5
    with pytest.raises(TypeError):
        a.explanation.other_multipliers.update(dpp=0.5)
    exp = a.explanation.with_multiplier("dpp", 0.5, 1.0)
    assert exp.other_multipliers == {"dpp": 0.5} and b.explanation.other_multipliers == {}
    assert copy.deepcopy(a) == a and json.dumps(a.to_dict())
