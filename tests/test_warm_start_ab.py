"""bench.warm_start_ab compares doctors on development patients only."""

import pytest

from bench.warm_start_ab import main


def test_the_held_out_seed_of_bench_learning_is_refused_before_anything_loads():
    with pytest.raises(SystemExit, match="--seed: 1234 draws bench.learning's held-out patients"):
        main(["missing-a.ckpt", "missing-b.ckpt", "--seed", "1234"])
