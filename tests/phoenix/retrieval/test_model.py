import numpy as np
import pytest
import torch

from phoenix.checkpoint import CheckpointError
from phoenix.retrieval.checkpoints import load_model, save_model
from phoenix.retrieval.features import histories_from_protos
from phoenix.retrieval.model import RetrievalConfig, pad_histories
from protos import recsys_pb2
from tests.phoenix.retrieval.helpers import A, history, tiny_model


def batch_of(hs, max_len=12):
    return pad_histories([h.user_id for h in hs], [h.post_ids for h in hs], [h.author_ids for h in hs],
                         [h.actions for h in hs], max_len)


def test_vectors_are_unit_length():
    m = tiny_model()
    with torch.no_grad():
        c = m.candidate_vectors([1, 2, 3], [9, 9, 8])
        u = m.user_vectors(batch_of([history(5, [1, 2, 3]), history(6, [])]))
    assert torch.allclose(c.norm(dim=-1), torch.ones(3), atol=1e-5)
    assert torch.allclose(u.norm(dim=-1), torch.ones(2), atol=1e-5)


@pytest.mark.parametrize("pooling", ["mean", "last"])
def test_prefix_vectors_equal_separate_runs_on_each_prefix(pooling):
    m = tiny_model(pooling=pooling)
    h = history(5, [11, 12, 13, 14, 15])
    with torch.no_grad():
        prefix = m.prefix_user_vectors(batch_of([h]))[0]
        for n in range(1, 6):
            alone = m.user_vectors(batch_of([history(5, [11, 12, 13, 14, 15][:n])]))[0]
            assert torch.allclose(prefix[-6 + n], alone, atol=1e-5), n


def test_padding_does_not_change_the_user_vector():
    m = tiny_model(mask="bidirectional")
    short, long = history(5, [11, 12]), history(6, list(range(20, 30)))
    with torch.no_grad():
        together = m.user_vectors(batch_of([short, long]))[0]
        alone = m.user_vectors(batch_of([short]))[0]
    assert torch.allclose(together, alone, atol=1e-5)
    with pytest.raises(ValueError, match="causal"):
        m.prefix_user_vectors(batch_of([short]))


def test_proto_histories_use_newest_items_and_actions():
    seq = recsys_pb2.UserActionSequence(user_id=3)
    for pid in range(1, 20):
        a = seq.user_actions.add()
        a.tweet_info.tweet_id, a.tweet_info.author_id = pid, 100 + pid
        a.actions.add(action_name=A.SERVER_TWEET_FAV)
    batch = histories_from_protos([3], [seq], max_len=12)
    assert batch.lengths.tolist() == [12]
    assert batch.post_ids[0].tolist() == list(range(8, 20))
    assert batch.actions[0, :, A.SERVER_TWEET_FAV].all()


def test_checkpoint_round_trip(tmp_path):
    m = tiny_model(seed=3)
    version = save_model(tmp_path / "ck", m)
    loaded, v2 = load_model(tmp_path / "ck")
    assert v2 == version
    with torch.no_grad():
        assert torch.equal(loaded.candidate_vectors([5], [6]), m.candidate_vectors([5], [6]))
    assert RetrievalConfig.from_dict(m.cfg.to_dict()) == m.cfg
    with pytest.raises(CheckpointError):
        load_model(tmp_path / "missing")


def test_config_validation():
    with pytest.raises(ValueError, match="mask"):
        RetrievalConfig(mask="sideways")
    with pytest.raises(ValueError, match="pooling"):
        RetrievalConfig(pooling="max")
    with pytest.raises(ValueError, match="post ids"):
        tiny_model().candidate_vectors(np.array([1, 2]), np.array([1]))
