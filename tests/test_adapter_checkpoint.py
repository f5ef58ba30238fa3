"""Checkpoint writes are atomic: a save that dies half-way leaves the previous checkpoint whole."""

import pytest
import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO

from callbacks.adapter_checkpoint import AtomicCheckpointIO


def test_a_save_that_dies_mid_write_leaves_the_previous_checkpoint_whole(tmp_path, monkeypatch):
    path = tmp_path / "last.ckpt"
    saved = []
    io = AtomicCheckpointIO(after_save=saved.append)
    io.save_checkpoint({"global_step": 1, "state_dict": {"w": torch.ones(4)}}, path)
    assert saved == [str(path)] and torch.load(path)["global_step"] == 1

    def dies_half_way(self, checkpoint, target, storage_options=None):
        with open(target, "wb") as handle:  # a kill or a full disk after half the bytes
            handle.write(b"PK\x03\x04 half a checkpoint")
        raise OSError("No space left on device")

    monkeypatch.setattr(TorchCheckpointIO, "save_checkpoint", dies_half_way)
    with pytest.raises(OSError):
        io.save_checkpoint({"global_step": 2, "state_dict": {"w": torch.zeros(4)}}, path)
    assert torch.load(path)["global_step"] == 1  # still the last good one, and it loads
    assert saved == [str(path)]  # no adapter is exported for a checkpoint that was not written
