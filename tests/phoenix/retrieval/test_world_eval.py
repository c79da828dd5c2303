import pytest

from events.world.config import WorldConfig
from phoenix.retrieval.training import TrainConfig
from phoenix.retrieval.world_eval import world_recall
from tests.phoenix.retrieval.helpers import tiny_config


@pytest.mark.slow
def test_world_recall_reports_model_oracle_and_popularity():
    out = world_recall(WorldConfig(seed=2, n_users=60, days=2.0), tiny_config(),
                       TrainConfig(epochs=1, batch_size=32, progress=False), ks=(10, 100000))
    assert out["world_users"] > 0 and out["world_candidates"] > 0
    for name in ("world_recall", "world_oracle_recall", "world_pop_recall"):
        assert 0.0 <= out[f"{name}@10"] <= out[f"{name}@100000"] == 1.0  # every candidate is retrieved at k=all
