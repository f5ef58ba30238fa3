"""Sample transcripts: every N steps, K episodes to TensorBoard text, a JSONL file and the console."""

from __future__ import annotations

import json
from pathlib import Path

import lightning as L
from rich.console import Console
from rich.panel import Panel

from grpodx.transcript import transcript_markdown, transcript_record, transcript_text


class TranscriptLogger(L.Callback):
    """Writes `num_episodes` transcripts every `every_n_steps` training steps (and from every
    validation run's first batch) to `<log_dir>/transcripts.jsonl`, TensorBoard (markdown) and the
    console (a panel on a terminal, plain text when the output goes to a file).

    Args:
        every_n_steps: how often (in training steps) to sample transcripts.
        num_episodes: episodes per sample (the first episodes of different cases first).
        console: print each transcript to the console (stderr).
    """

    def __init__(self, every_n_steps: int = 5, num_episodes: int = 2, console: bool = True):
        self.every_n_steps, self.num_episodes, self.console = every_n_steps, num_episodes, console

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if batch_idx % self.every_n_steps == 0:
            self._write(trainer, outputs["episodes"], "train")

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0):
        if batch_idx == 0 and not trainer.sanity_checking:
            self._write(trainer, outputs["episodes"], "val")

    def _write(self, trainer, episodes, split: str) -> None:
        log_dir = Path(trainer.log_dir or trainer.default_root_dir)  # a collective under DDP: every rank asks
        if not trainer.is_global_zero:
            return
        rank_in_group: dict[int, int] = {}
        order = []
        for i, episode in enumerate(episodes):  # first episode of each case, then the second ...
            rank_in_group[episode.group] = rank_in_group.get(episode.group, -1) + 1
            order.append((rank_in_group[episode.group], episode.group, i))
        chosen = [episodes[i] for _, _, i in sorted(order)[: self.num_episodes]]
        records = [{"split": split, **transcript_record(e, trainer.global_step)} for e in chosen]
        log_dir.mkdir(parents=True, exist_ok=True)
        with open(log_dir / "transcripts.jsonl", "a") as handle:
            for record in records:
                handle.write(json.dumps(record) + "\n")
        experiment = getattr(trainer.logger, "experiment", None)
        console = Console(stderr=True)
        for i, record in enumerate(records):
            if hasattr(experiment, "add_text"):
                experiment.add_text(f"transcripts/{split}_{i}", transcript_markdown(record), trainer.global_step)
            if self.console:
                title = (f"{split} transcript, step {trainer.global_step}, hidden diagnosis: "
                         f"{record['hidden_diagnosis']} ({record['icd10']})")
                if console.is_terminal:
                    console.print(Panel(transcript_text(record), title=title))
                else:
                    console.print(f"--- {title} ---\n{transcript_text(record).plain}", markup=False,
                                  highlight=False, soft_wrap=True)
