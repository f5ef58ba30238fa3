"""Doctor turns become rows whose scored tokens are exactly the sampled ids."""

from grpodx.cases import Case
from grpodx.episode import DoctorTurn, Episode
from grpodx.sequences import collate, episode_rows, pack

CASE = Case("c", "X", "A00", "infectious", 30, "female", "ill", (), (), ())


def _episode(turns):
    e = Episode(CASE, 0)
    e.doctor_turns = [DoctorTurn(p, c, "", "", "", False) for p, c in turns]
    return e


def test_rows_only_score_completion_tokens():
    episodes = [_episode([([1, 2, 3], [7, 8]), ([1, 2, 3, 9, 4], [5])]), _episode([([1], [6])])]
    rows = episode_rows(episodes, [True, False])
    assert [(r.episode, r.ids, r.completion_start) for r in rows] == [(0, [1, 2, 3, 7, 8], 3), (0, [1, 2, 3, 9, 4, 5], 5)]
    mb = collate(rows, pad_id=0)
    assert mb.input_ids.tolist() == [[1, 2, 3, 7, 8, 0], [1, 2, 3, 9, 4, 5]]
    assert mb.attention_mask.tolist() == [[1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 1, 1]]
    # position p-1 predicts token p: the targets are the sampled ids, nothing else
    assert mb.targets.tolist() == [7, 8, 5]
    assert mb.positions.tolist() == [2, 3, 4]
    assert mb.rows.tolist() == [0, 0, 1]
    for r, p, t in zip(mb.rows.tolist(), mb.positions.tolist(), mb.targets.tolist()):
        assert mb.input_ids[r, p + 1] == t


def test_pack_respects_token_budget():
    episodes = [_episode([([1] * n, [2]) for n in (3, 9, 4, 30)])]
    batches = pack(episode_rows(episodes, [True]), max_tokens=12)
    assert sorted(len(r.ids) for b in batches for r in b) == [4, 5, 10, 31]
    for batch in batches:
        assert len(batch) == 1 or max(len(r.ids) for r in batch) * len(batch) <= 12
