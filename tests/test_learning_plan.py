"""bench.learning's plan overrides are checked before anything runs."""

import pytest

from bench.learning import main


@pytest.mark.parametrize("flag", ["--demonstrations", "--warm-steps", "--grpo-steps"])
def test_a_count_below_one_is_refused_before_anything_runs(flag, tmp_path):
    with pytest.raises(SystemExit, match=f"{flag}: 0; give a positive count"):
        main([flag, "0", "--out", str(tmp_path / "never")])
    assert not (tmp_path / "never").exists()


def test_the_development_comparison_needs_a_baseline():
    from bench.warm_start_ab import main as compare

    with pytest.raises(SystemExit, match="at least two"):
        compare(["only-one.ckpt"])
