from typer.testing import CliRunner

from events.log import EventLogWriter
from infra.cli import app
from phoenix.retrieval.checkpoints import load_model
from phoenix.retrieval.datasets import histories_from_events
from protos import events_pb2, recsys_pb2

A = recsys_pb2.ActionName


def engagement(user, post, action, ts):
    return events_pb2.EngagementEvent(event_id=f"{user}-{post}-{action}", user_id=user, post_id=post,
                                      author_id=post % 5 + 1, action=action, timestamp_ms=ts)


def small_log(directory):
    with EventLogWriter(directory) as log:
        for p in range(1, 21):
            log.write_post(events_pb2.PostEvent(event_id=f"p{p}", created=events_pb2.PostCreated(
                post_id=p, author_id=p % 5 + 1, created_at=1_700_000_000)))
        for u in range(1, 9):
            for j in range(6):
                log.write_engagement(engagement(u, (u + j) % 20 + 1, A.SERVER_TWEET_FAV, 1_700_000_000_000 + j))


def test_histories_group_actions_per_post_in_first_engagement_order():
    events = [("engagements", engagement(1, 10, A.SERVER_TWEET_FAV, 5)),
              ("engagements", engagement(1, 11, A.CLIENT_TWEET_CLICK, 3)),
              ("engagements", engagement(1, 10, A.CLIENT_TWEET_NOT_INTERESTED_IN, 9)),
              ("engagements", engagement(2, 10, A.SERVER_TWEET_FAV, 1))]  # user 2 has one item: dropped
    (h,) = histories_from_events(events)
    assert h.user_id == 1 and h.post_ids.tolist() == [11, 10]
    assert h.actions[1, A.SERVER_TWEET_FAV] == 1 and h.actions[1, A.CLIENT_TWEET_NOT_INTERESTED_IN] == 1


def test_train_command_writes_a_loadable_checkpoint(tmp_path):
    small_log(tmp_path / "log")
    result = CliRunner().invoke(app, ["train", "retrieval", "--out", str(tmp_path / "ck"), "--event-log",
                                      str(tmp_path / "log"), "--epochs", "2", "--dim", "16", "--layers", "1"])
    assert result.exit_code == 0, result.output
    model, version = load_model(tmp_path / "ck")
    assert model.cfg.dim == 16 and version in result.output
    bad = CliRunner().invoke(app, ["train", "retrieval", "--out", str(tmp_path / "x"), "--positive", "NOPE"])
    assert bad.exit_code != 0
