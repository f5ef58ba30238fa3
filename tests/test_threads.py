"""Threads at start-up: OMP_NUM_THREADS when set, else the cores this process may use; said once."""

import torch

from grpodx.threads import available_cores, configure_threads


def test_threads_follow_omp_num_threads_else_the_available_cores(monkeypatch, capsys):
    before = torch.get_num_threads()
    try:
        monkeypatch.setenv("OMP_NUM_THREADS", "1")
        assert configure_threads() == 1 and torch.get_num_threads() == 1
        assert "threads: 1 (OMP_NUM_THREADS" in capsys.readouterr().err
        monkeypatch.delenv("OMP_NUM_THREADS")
        assert configure_threads() == available_cores() == torch.get_num_threads()
        assert "the cores available" in capsys.readouterr().err
    finally:
        torch.set_num_threads(before)
