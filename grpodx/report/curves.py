"""Training curves read back from a run's TensorBoard event files."""

from __future__ import annotations

from pathlib import Path

CURVE_TAGS = ("train/reward", "train/accuracy", "val/reward", "val/accuracy")


def has_events(folder: Path) -> bool:
    return folder.is_dir() and any(folder.glob("events.out.tfevents.*"))


def read_curves(run_dirs: list[str], tags: tuple[str, ...] = CURVE_TAGS) -> dict[str, list[tuple[int, float]]]:
    """(step, value) points per tag, merged over run folders (a resumed run logs to a new
    version_N), sorted by step; tags a run never logged are left out."""
    from tensorboard.backend.event_processing.event_accumulator import SCALARS, EventAccumulator

    curves: dict[str, dict[int, float]] = {}
    for run_dir in run_dirs:
        events = EventAccumulator(str(run_dir), size_guidance={SCALARS: 0})  # 0: keep every point
        events.Reload()
        logged = set(events.Tags().get("scalars", []))
        for tag in tags:
            if tag in logged:
                curves.setdefault(tag, {}).update({e.step: e.value for e in events.Scalars(tag)})
    return {tag: sorted(points.items()) for tag, points in curves.items()}
