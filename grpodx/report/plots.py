"""The report's PNG figures (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
from matplotlib.ticker import MaxNLocator  # noqa: E402

COLOURS = {"base": "tab:gray", "trained": "tab:blue"}


def training_curves(curves: dict[str, list[tuple[int, float]]], path: Path) -> bool:
    """Reward and accuracy over training steps, train and val side by side; False when the run
    logged none of them."""
    if not curves:
        return False
    figure, axes = plt.subplots(1, 2, figsize=(11, 4))
    for axis, metric in zip(axes, ("reward", "accuracy")):
        for split, style in (("train", dict(alpha=0.6, linewidth=1)), ("val", dict(marker="o", linewidth=2))):
            points = curves.get(f"{split}/{metric}", [])
            if points:
                steps, values = zip(*points)
                axis.plot(steps, values, label=f"{split}/{metric}", **style)
        axis.set(title=metric, xlabel="step", ylim=(-0.02, 1.02))
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.grid(alpha=0.3)
        axis.legend()
    _save(figure, path)
    return True


def accuracy_by_condition(per_policy: dict[str, dict[str, float]], path: Path) -> None:
    """Horizontal grouped bars: top-1 accuracy per hidden diagnosis, one bar per policy."""
    conditions = sorted({c for accuracies in per_policy.values() for c in accuracies})
    height = 0.8 / max(len(per_policy), 1)
    figure, axis = plt.subplots(figsize=(8, 1.5 + 0.3 * len(conditions) * max(len(per_policy), 1)))
    for i, (name, accuracies) in enumerate(per_policy.items()):
        positions = [y + i * height for y in range(len(conditions))]
        bars = axis.barh(positions, [accuracies.get(c, 0.0) for c in conditions], height, label=name,
                         color=COLOURS.get(name))
        axis.bar_label(bars, fmt="%.2f", padding=2, fontsize=7)  # a 0.00 bar is otherwise invisible
    axis.set_yticks([y + height * (len(per_policy) - 1) / 2 for y in range(len(conditions))], conditions)
    axis.invert_yaxis()
    axis.set(xlim=(0, 1), xlabel="top-1 accuracy", title="Accuracy per condition (held-out cases)")
    axis.legend()
    _save(figure, path)


def turns_histogram(per_policy: dict[str, list[int]], max_turns: int, path: Path) -> None:
    """How many doctor turns episodes took, one bar per policy at each count."""
    width = 0.8 / max(len(per_policy), 1)
    figure, axis = plt.subplots(figsize=(6, 4))
    for i, (name, turns) in enumerate(per_policy.items()):
        counts = [turns.count(t) for t in range(1, max_turns + 1)]
        axis.bar([t + (i - (len(per_policy) - 1) / 2) * width for t in range(1, max_turns + 1)], counts, width,
                 label=name, color=COLOURS.get(name))
    axis.set(xticks=range(1, max_turns + 1), xlabel="doctor turns", ylabel="episodes",
             title="Turns per episode (the last turn must commit)")
    axis.yaxis.set_major_locator(MaxNLocator(integer=True))
    axis.legend()
    _save(figure, path)


def _save(figure, path: Path) -> None:
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
