"""The spread of final answers: by hand, and gathered from every rank under a real gloo group."""

from __future__ import annotations

import json
import os
import socket

import torch.distributed as dist
import torch.multiprocessing as mp

from grpodx.answer_spread import AnswerSpread, answer_spread


def test_spread_counts_normalised_names_and_leaves_out_missing_finals():
    spread = answer_spread(["Anemia", "anemia.", "Possible anemia", "URTI", None, "GERD"])
    assert spread == AnswerSpread(top_share=3 / 5, distinct=3, top="anemia")


def test_spread_of_no_answers_is_zero():
    assert answer_spread([None, None, ""]) == AnswerSpread(0.0, 0, None)
    assert answer_spread([]) == AnswerSpread(0.0, 0, None)


RANK_FINALS = (["Anemia", "URTI"], ["Anemia", "Anemia", None])  # rank 0 alone: 1/2; both: 3/4


def _rank(rank: int, port: int, out: str) -> None:
    from callbacks.reward_metrics import _spread_values

    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2)
    try:
        values = _spread_values("train", RANK_FINALS[rank])
    finally:
        dist.destroy_process_group()
    with open(os.path.join(out, f"rank{rank}.json"), "w") as f:
        json.dump(values, f)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_spread_metrics_gather_every_ranks_answers(tmp_path):
    mp.spawn(_rank, args=(_free_port(), str(tmp_path)), nprocs=2, join=True)
    values = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert values[0] == values[1] == {"train/top_final_share": 3 / 4, "train/distinct_finals": 2.0}
