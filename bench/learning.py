"""Does the doctor get better? base -> warm start -> GRPO, on held-out DDXPlus patients.

    python -m bench.learning [--quick] [--ddxplus ../shared/data/ddxplus] [--out runs/learning]
    python -m bench.learning --warm-start W/last.ckpt --grpo G/last.ckpt   # evaluate trained stages only
    python -m bench.learning --trend G/version_0 G/version_1   # is train/reward rising? (a resumed run too)
    python -m bench.learning --warm-start W/last.ckpt --grpo AVG/checkpoints/last.ckpt   # runs averaged by
        # python -m grpodx.lora_average: their mean train/reward gives the trend
    python -m bench.learning --demonstrations 1200 --warm-steps 300 --no-grpo   # a larger warm start only
    python -m bench.learning --plan averaged   # the four-seed recipe of BENCHMARKS.md: ws400, 4 GRPO seeds,
        # their exact average scored (~5 h on 2 cores); with --warm-start W/last.ckpt the GRPO runs only

1. Demonstrations: the naive-Bayes doctor plays TRAINING patients sampled from kb_en.json
   (`python -m grpodx.demonstrations --cases ddxplus-sample:DIR`).
2. Warm start: `python train.py fit --config configs/warmstart.yaml` on them.
3. GRPO from the warm start's adapter: `python train.py fit --config configs/default.yaml
   --model.doctor.adapter ...` on sampled training patients, validating every few steps.
4. Every stage (base model, warm start, GRPO, and the naive-Bayes doctor) plays the same fixed held-out
   patients, greedy, with the same seeds: patients sampled from kb_en.json with held-out seeds (the
   first of them are also the GRPO run's validation cases, so its val/* curve is on the same
   patients) and real records of dev_patients.csv (no stage ever trains on a recorded patient).
Training runs as the user would run it (the same commands, in subprocesses); evaluation runs here.
One JSON line per stage as it finishes, then one summary line: each metric as [lo, mean, hi]
(95 % percentile bootstrap over patients), the GRPO - warm start difference by the paired bootstrap.
A PNG of the held-out curves goes beside the runs. Nothing here is tuned on the held-out patients:
the plans below were fixed before any held-out figure was seen.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import torch

from grpodx.report.intervals import interval, paired_difference, slope_interval

ROOT = Path(__file__).resolve().parents[1]
KEYS = ("top1", "top3", "reward", "questions", "turns", "format", "no_final")
SEED = 1234  # data.seed of both configs: the held-out draw and the GRPO run's validation cases
PLANS = {
    # demonstrations, warm-start steps (configs/warmstart.yaml: 4 demonstrations a step), GRPO steps,
    # cases a GRPO step (x G=4 episodes, configs/default.yaml) and its learning rate, held-out
    # patients (sampled, recorded), GRPO validation cases and interval. All chosen on development
    # patients (seed 77, BENCHMARKS.md), never these: one pass over 1,200 demonstrations at
    # diagnosis_weight 5 beat its own 150-step checkpoint; GRPO at 3e-4 x 4 cases was level with the
    # warm start after 10 steps and 0.125 top-1 below it after 20 (1e-3 broke the language in 10).
    # Times measured alone on 2 cores: a warm-start step 8.5 s (Intel VM) / 15.5 s (AMD VM), a GRPO
    # step of 16 episodes ~110 s (AMD), a held-out episode ~3.2 s at EVAL_BATCH: ~1 h 25 min on the
    # Intel VM, ~2 h 15 min on the AMD one. Earlier plans: 240/60/30 (2026-11-29), 600/150/20 x 2
    # cases at 1e-4 (2026-12-04).
    "full": dict(demonstrations=1200, warm_steps=300, grpo_steps=10, grpo_cases=4, grpo_learning_rate=3e-4,
                 sampled=100, recorded=100, val_size=32, val_every=5),
    "quick": dict(demonstrations=32, warm_steps=4, grpo_steps=2, grpo_cases=2, grpo_learning_rate=3e-4,
                  sampled=16, recorded=16, val_size=8, val_every=1),
    # the recipe behind the one GRPO reward gain with its interval above zero (BENCHMARKS.md, "Four
    # seeds ..."): ws400, then 4 seeds of 8 cases x G=4, lr 3e-4, beta 0.1 to the warm start, both runs
    # on data.seed 77 (their validation cases are development patients), averaged exactly
    # (grpodx.lora_average). ~5 h 10 min on the AMD VM: 1 h 36 min warm start, 4 x ~45 min GRPO.
    "averaged": dict(demonstrations=1600, warm_steps=400, grpo_steps=10, grpo_cases=8, grpo_learning_rate=3e-4,
                     sampled=100, recorded=100, val_size=32, val_every=10, grpo_beta=0.1, data_seed=77,
                     grpo_seeds=(1234, 4321, 2025, 5678)),
}
# float32 for both runs: on CPUs without bf16 units (this AMD EPYC: avx2 only) bfloat16 trains ~20x
# slower (configs/warmstart.yaml); the adapter carries over unchanged.
DTYPE = "--model.doctor.dtype=float32"
# held-out episodes played at once: 32 took 3.2 s an episode against 4.0 s at 16, and 64 no less than
# 32 (the base doctor, 64 sampled patients, 2 cores alone)
EVAL_BATCH = 32


def run(command: list[str], log: Path) -> float:
    """Run one training command as a user would; its output goes to `log`. Minutes taken."""
    started = time.perf_counter()
    print("$ " + " ".join(command), file=sys.stderr, flush=True)
    with open(log, "w") as out:
        code = subprocess.run(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=os.environ).returncode
    if code != 0:
        tail = log.read_text().splitlines()[-15:]
        raise SystemExit(f"error: `{' '.join(command)}` failed (exit {code}); last lines of {log}:\n" + "\n".join(tail))
    return (time.perf_counter() - started) / 60


def warm_start_command(python: str, demonstrations: Path, sample: str, plan: dict, runs: Path) -> list[str]:
    seed = [f"--data.init_args.seed={plan['data_seed']}"] if plan.get("data_seed") is not None else []
    return [
        python, "train.py", "fit", "--config", "configs/warmstart.yaml",
        f"--data.init_args.demonstrations={demonstrations}", f"--data.init_args.cases={sample}",
        "--data.init_args.val_size=8", *seed, f"--trainer.max_steps={plan['warm_steps']}",  # bench evaluates it below
        DTYPE.replace("model.", "model.init_args."),
        f"--trainer.val_check_interval={plan['warm_steps']}", f"--checkpoint.every_n_train_steps={plan['warm_steps']}",
        f"--trainer.logger.init_args.save_dir={runs}", "--trainer.logger.init_args.name=warm_start"]


def grpo_commands(python: str, warm: Path, sample: str, plan: dict, runs: Path) -> dict[str, list[str]]:
    """One GRPO run from the warm start's adapter per seed of the plan (run name -> command); a plan
    without `grpo_seeds` runs once, on the configs' seed_everything, named `grpo`."""
    optional = [f"--data.seed={plan['data_seed']}"] if plan.get("data_seed") is not None else []
    if plan.get("grpo_beta") is not None:
        optional.append(f"--model.grpo.beta={plan['grpo_beta']}")
    common = [
        python, "train.py", "fit", "--config", "configs/default.yaml",
        f"--model.doctor.adapter={warm.parent / 'last-adapter'}", f"--data.cases={sample}", DTYPE,
        f"--data.val_size={plan['val_size']}", *optional, f"--trainer.max_steps={plan['grpo_steps']}",
        f"--data.batch_size={plan['grpo_cases']}", f"--model.grpo.learning_rate={plan['grpo_learning_rate']}",
        f"--trainer.val_check_interval={plan['val_every']}", f"--checkpoint.every_n_train_steps={plan['val_every']}",
        f"--trainer.logger.init_args.save_dir={runs}"]
    seeds = plan.get("grpo_seeds")
    if not seeds:
        return {"grpo": [*common, "--trainer.logger.init_args.name=grpo"]}
    return {f"grpo-seed{seed}": [*common, f"--seed_everything={seed}", f"--trainer.logger.init_args.name=grpo-seed{seed}"]
            for seed in seeds}


def train_grpo(python: str, warm: Path, sample: str, plan: dict, runs: Path, out: Path) -> tuple[float, Path]:
    """Minutes and the checkpoint to score: the run's last.ckpt, or with several seeds their exact
    average (python -m grpodx.lora_average), whose curves are the runs' mean."""
    minutes, checkpoints = 0.0, []
    for name, command in grpo_commands(python, warm, sample, plan, runs).items():
        minutes += run(command, out / f"{name}.log")
        checkpoints.append(newest_checkpoint(runs, name))
    if len(checkpoints) == 1:
        return minutes, checkpoints[0]
    done = versions(runs / "grpo-average")
    average = runs / "grpo-average" / f"version_{version(done[-1]) + 1 if done else 0}"  # lora_average never overwrites
    run([python, "-m", "grpodx.lora_average", "--out", str(average), *map(str, checkpoints)], out / "grpo-average.log")
    return minutes, average / "checkpoints" / "last.ckpt"


def training_minutes(run_dir: Path) -> float:
    """Wall minutes of a finished run, from its TensorBoard events (first to last write)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run_dir))
    events.Reload()
    times = [e.wall_time for tag in events.Tags()["scalars"] for e in events.Scalars(tag)]
    return (max(times) - min(times)) / 60 if times else 0.0


def version(folder: Path) -> int:
    """N of a Lightning run folder version_N."""
    return int(folder.name.split("_")[1])


def versions(run: Path) -> list[Path]:
    """A run name's version_N folders, oldest first (by N: version_10 after version_9)."""
    return sorted(run.glob("version_*"), key=version)


def newest_checkpoint(runs: Path, name: str) -> Path:
    return versions(runs / name)[-1] / "checkpoints" / "last.ckpt"


def held_out_patients(ddxplus: Path, sampled: int, recorded: int) -> dict[str, list]:
    """The fixed held-out patients: sampled with held-out seeds, and dev_patients.csv records in a
    fixed shuffled order."""
    from grpodx.cases.sources import SampledDDXPlusCases, ddxplus_cases

    records = ddxplus_cases(str(ddxplus))
    rows = list(range(records.count))
    random.Random("bench-learning-records").shuffle(rows)
    return {"sampled": SampledDDXPlusCases(str(ddxplus)).held_out(sampled, SEED),
            "recorded": [records.build(row) for row in rows[:recorded]]}


def per_patient(episodes) -> dict[str, list[float]]:
    """Each metric per held-out patient, in patient order (episodes that failed count as misses)."""
    from grpodx.episode_metrics import episode_values

    values = [episode_values(e) if e.score is not None and not e.failed else None for e in episodes]
    fallback = {"top1": 0.0, "top3": 0.0, "reward": 0.0, "questions": 0.0, "turns": 0.0, "format": 0.0,
                "no_final": 1.0}
    rename = {"top1": "accuracy"}
    return {k: [v[rename.get(k, k)] if v is not None else fallback[k] for v in values] for k in KEYS}


def intervals(values: dict[str, list[float]]) -> dict[str, list[float]]:
    return {k: [round(x, 4) for x in interval(v)] for k, v in values.items()}


def joined(by_set: dict[str, dict[str, list[float]]]) -> dict[str, list[float]]:
    return {k: [x for values in by_set.values() for x in values[k]] for k in KEYS}


def held_out_episodes(checkpoint: Path | None, patients: dict[str, list], doctor_from: Path, base: bool) -> dict:
    """Greedy held-out episodes of the doctor in `checkpoint` (or the base model: adapter off), per set."""
    from grpodx.doctor.restore import load_lora_weights, read_checkpoint
    from grpodx.module import DiagnosisGRPO
    from grpodx.report.held_out import run_held_out

    config = read_checkpoint(str(doctor_from)).doctor
    config.adapter = None  # weights come from the checkpoint below
    saved = read_checkpoint(str(checkpoint)) if checkpoint is not None else None
    if saved is not None:  # an average of k runs (grpodx.lora_average) has k times the rank and alpha
        config.lora_rank, config.lora_alpha = saved.doctor.lora_rank, saved.doctor.lora_alpha
    module = DiagnosisGRPO(doctor=config, max_turns=5)
    module.configure_model()
    if saved is not None:
        load_lora_weights(module, saved)
    module.eval()
    with torch.no_grad():
        return {name: run_held_out(module, cases, EVAL_BATCH, SEED, name, base).episodes
                for name, cases in patients.items()}


def evaluate_llm(checkpoint: Path | None, patients: dict[str, list], doctor_from: Path, base: bool) -> dict:
    """Each metric per held-out patient of the doctor in `checkpoint` (see held_out_episodes)."""
    return {name: per_patient(e) for name, e in held_out_episodes(checkpoint, patients, doctor_from, base).items()}


def evaluate_naive_bayes(ddxplus: Path, patients: dict[str, list]) -> dict:
    """The naive-Bayes doctor on the same patients, same patient simulator and judge."""
    from grpodx.baseline import play
    from grpodx.cases.ddxplus import load_pathology_kb, load_release, locate
    from grpodx.judges import OfflineJudge
    from grpodx.naive_bayes import NaiveBayesDoctor
    from grpodx.patients import OfflinePatient

    files = locate(str(ddxplus), need_patients=False, need_kb=True)
    release = load_release(files.folder)
    doctor = NaiveBayesDoctor.from_ddxplus(release, load_pathology_kb(files.kb, release))
    return {name: per_patient(play(doctor, OfflinePatient(), OfflineJudge(), cases, 5, SEED, 3))
            for name, cases in patients.items()}


def grpo_runs(checkpoint: Path) -> list[list[Path]]:
    """The runs behind a GRPO checkpoint, each as its version folders: its own run, or for an average
    written by `python -m grpodx.lora_average` the runs it averages (their mean curve is the recipe's)."""
    raw = torch.load(checkpoint, map_location="cpu", weights_only=True)
    return [[Path(source).resolve().parent.parent] for source in raw.get("averaged_from") or [checkpoint]]


def mean_curves(runs: list[list[Path]], tags: tuple[str, ...]) -> dict[str, list[tuple[int, float]]]:
    """Each tag's (step, value) averaged over runs (each run: its version folders, a resume included)
    at the steps every run logged: runs of one recipe see the same cases at each step (data.seed)."""
    from grpodx.report.curves import read_curves

    per_run = [read_curves([str(d) for d in dirs], tags) for dirs in runs]
    curves = {}
    for tag in tags:
        points = [dict(run.get(tag, [])) for run in per_run]
        steps = sorted(set.intersection(*(set(p) for p in points)))
        if steps:
            curves[tag] = [(step, sum(p[step] for p in points) / len(points)) for step in steps]
    return curves


def reward_trend(runs: list[list[Path]]) -> dict:
    """train/reward over the GRPO run (its version folders in order, a resume included; several runs:
    their mean at each step): the least-squares slope per step with its bootstrap interval, and the
    mean of each half."""
    values = [v for _, v in mean_curves(runs, ("train/reward",)).get("train/reward", [])]
    half = len(values) // 2
    return {"runs": len(runs), "steps": len(values),
            "slope_per_step": [round(x, 5) for x in slope_interval(values)] if len(values) >= 3 else None,
            "first_half_mean": round(sum(values[:half]) / max(half, 1), 4),
            "second_half_mean": round(sum(values[half:]) / max(len(values) - half, 1), 4),
            "values": [round(v, 4) for v in values]}


def validates_on_held_out(runs: list[list[Path]]) -> bool:
    """Whether the GRPO runs' val/* cases are the first held-out patients: their data.seed is SEED
    (config.yaml of each run's first version folder; the `averaged` plan's 77 validates on development
    patients)."""
    import yaml

    for dirs in runs:
        config = dirs[0] / "config.yaml"  # a run without one is not known to: its curve is labelled so
        data = (yaml.safe_load(config.read_text()) or {}).get("data") or {} if config.is_file() else {}
        if (data.get("init_args") or data).get("seed") != SEED:
            return False
    return True


def curves_png(runs: list[list[Path]], lines: dict[str, dict[str, float]], same: bool, path: Path) -> None:
    """Held-out top-1 and reward vs GRPO step (the run's val/*; several runs: their mean), warm start
    and the naive-Bayes doctor as lines (on the same patients as val/* only when `same`: validates_on_held_out)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves = mean_curves(runs, ("val/accuracy", "val/reward", "train/reward"))
    of = f", mean of {len(runs)} runs" if len(runs) > 1 else ""
    where = "held-out" if same else f"GRPO val/* not on held-out patients (data.seed != {SEED}); lines: all held-out"
    figure, axes = plt.subplots(1, 2, figsize=(11, 4))
    for axis, (tag, key, title) in zip(axes, (("val/accuracy", "top1", f"top-1 ({where})"),
                                             ("val/reward", "reward", f"reward ({where})"))):
        if curves.get(tag):
            steps, values = zip(*curves[tag])
            axis.plot(steps, values, marker="o", linewidth=2, label=f"GRPO (val{of})")
        if key == "reward" and curves.get("train/reward"):
            steps, values = zip(*curves["train/reward"])
            axis.plot(steps, values, alpha=0.4, linewidth=1, label=f"GRPO (train{of})")
        for name, style in (("warm_start", dict(color="tab:orange", linestyle="--")),
                            ("reference", dict(color="tab:green", linestyle=":"))):
            axis.axhline(lines[name][key], label={"reference": "naive-Bayes doctor"}.get(name, name.replace("_", " ")),
                         **style)
        axis.set(title=title, xlabel="GRPO step", ylim=(-0.02, 1.02))
        axis.grid(alpha=0.3)
        axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="the small version (same output shape): --plan quick")
    parser.add_argument("--plan", choices=sorted(PLANS), default=None,
                        help="full (default), quick, or averaged: the 4-seed recipe of BENCHMARKS.md (~5 h on 2 cores)")
    parser.add_argument("--ddxplus", default=str(ROOT.parent / "shared" / "data" / "ddxplus"),
                        help="DDXPlus folder (release files, kb_en.json, dev_patients.csv)")
    parser.add_argument("--out", default=None, help="where runs, logs and the PNG go (default runs/learning[-quick])")
    parser.add_argument("--warm-start", help="evaluate this warm-start last.ckpt (of an earlier run of this "
                        "command) instead of writing demonstrations and training one")
    parser.add_argument("--grpo", help="evaluate this GRPO checkpoint (its run folder gives the curves; for an "
                        "average of runs from grpodx.lora_average, their mean) instead of training GRPO")
    parser.add_argument("--demonstrations", type=int, help="demonstrations to write (default: the plan's)")
    parser.add_argument("--warm-steps", type=int, help="warm-start steps, 4 demonstrations each (default: the plan's)")
    parser.add_argument("--grpo-steps", type=int, help="GRPO steps (default: the plan's)")
    parser.add_argument("--no-grpo", action="store_true", help="stop after the warm start: the reference and "
                        "warm-start stages only (no base, no GRPO)")
    parser.add_argument("--trend", nargs="+", metavar="RUN_DIR", help="only print train/reward's trend over these "
                        "GRPO run folders (version_N, in order) and exit")
    args = parser.parse_args(argv)
    if args.trend:
        print(json.dumps(reward_trend([[Path(d) for d in args.trend]])))
        return
    if args.quick and args.plan not in (None, "quick"):
        raise SystemExit(f"error: --quick with --plan {args.plan}; give one of them")
    name = "quick" if args.quick else args.plan or "full"
    plan = dict(PLANS[name])
    for key in ("demonstrations", "warm_steps", "grpo_steps"):
        value = getattr(args, key)
        if value is not None and value < 1:
            raise SystemExit(f"error: --{key.replace('_', '-')}: {value}; give a positive count")
        if value is not None:
            plan[key] = value
    # sizes of stages given as checkpoints were not this run's: the summary's plan says so
    if args.warm_start:
        plan["demonstrations"] = plan["warm_steps"] = None
    if args.grpo:
        plan["grpo_steps"] = None
    ddxplus = Path(args.ddxplus).resolve()
    if not (ddxplus / "kb_en.json").is_file() or not (ddxplus / "dev_patients.csv").is_file():
        raise SystemExit(f"error: --ddxplus: {ddxplus} lacks kb_en.json or dev_patients.csv; "
                         "give the DDXPlus folder (../shared/data/ddxplus)")
    out = Path(args.out or ROOT / "runs" / ("learning" if name == "full" else f"learning-{name}")).resolve()
    runs = out / "runs"
    out.mkdir(parents=True, exist_ok=True)
    minutes: dict[str, float] = {}
    results: dict[str, dict] = {}
    started = time.perf_counter()

    def report(stage: str, by_set: dict) -> None:
        results[stage] = by_set
        line = {"stage": stage, **intervals(joined(by_set)),
                "by_set": {name: intervals(values) for name, values in by_set.items()},
                "minutes": round(minutes.get(stage, 0.0), 1)}
        print(json.dumps(line), flush=True)

    def score(stage: str, checkpoint: Path | None, base: bool) -> None:
        """Play the held-out episodes of one stage and print its line (minutes: evaluation only;
        training is under *_training)."""
        clock = time.perf_counter()
        by_set = evaluate_llm(checkpoint, patients, warm, base)
        minutes[stage] = (time.perf_counter() - clock) / 60
        report(stage, by_set)

    def summarize(**fields) -> None:
        minutes["total"] = (time.perf_counter() - started) / 60
        print(json.dumps({**fields, "plan": plan,
                          "held_out": {"sampled": plan["sampled"], "recorded": plan["recorded"], "seed": SEED},
                          "minutes": {k: round(v, 1) for k, v in minutes.items()}}), flush=True)

    clock = time.perf_counter()
    patients = held_out_patients(ddxplus, plan["sampled"], plan["recorded"])
    # stage key "reference" (issue 12's output format): the naive-Bayes doctor, not the KL reference
    naive_bayes = evaluate_naive_bayes(ddxplus, patients)
    minutes["reference"] = (time.perf_counter() - clock) / 60
    report("reference", naive_bayes)

    python, sample = sys.executable, f"ddxplus-sample:{ddxplus}"
    demonstrations = out / "demonstrations.jsonl"
    if args.warm_start:
        warm = Path(args.warm_start).resolve()
        minutes["warm_start_training"] = training_minutes(warm.parent.parent)
    else:
        minutes["demonstrations"] = run([python, "-m", "grpodx.demonstrations", "--cases", sample,
                                         "--n", str(plan["demonstrations"]), "--out", str(demonstrations),
                                         "--seed", "0"], out / "demonstrations.log")
        minutes["warm_start_training"] = run(warm_start_command(python, demonstrations, sample, plan, runs),
                                             out / "warm_start.log")
        warm = newest_checkpoint(runs, "warm_start")
    if args.no_grpo:
        score("warm_start", warm, False)
        summarize(stages={stage: intervals(joined(by_set)) for stage, by_set in results.items()},
                  checkpoints={"warm_start": str(warm)})
        return
    if args.grpo:
        grpo = Path(args.grpo).resolve()
        behind_grpo = grpo_runs(grpo)  # read once: it loads the whole checkpoint
        minutes["grpo_training"] = sum(training_minutes(dirs[0]) for dirs in behind_grpo)
    else:
        minutes["grpo_training"], grpo = train_grpo(python, warm, sample, plan, runs, out)
        behind_grpo = grpo_runs(grpo)

    for stage, checkpoint, base in (("base", None, True), ("warm_start", warm, False), ("grpo", grpo, False)):
        score(stage, checkpoint, base)

    everyone = {stage: joined(by_set) for stage, by_set in results.items()}
    same = validates_on_held_out(behind_grpo)  # read once, for the lines and the PNG's titles
    if same:  # the lines on the GRPO runs' own validation patients
        lines = {stage: {k: sum(v[:plan["val_size"]]) / plan["val_size"]
                         for k, v in results[stage]["sampled"].items()} for stage in ("warm_start", "reference")}
    else:
        lines = {stage: {k: sum(v) / len(v) for k, v in everyone[stage].items()} for stage in ("warm_start", "reference")}
    png = out / "learning_curves.png"
    curves_png(behind_grpo, lines, same, png)
    summarize(
        stages={stage: intervals(values) for stage, values in everyone.items()},
        grpo_minus_warm_start={k: [round(x, 4) for x in paired_difference(everyone["grpo"][k],
                                                                            everyone["warm_start"][k])]
                               for k in ("reward", "top1")},
        train_reward_trend={k: v for k, v in reward_trend(behind_grpo).items() if k != "values"},
        checkpoints={"warm_start": str(warm), "grpo": str(grpo)}, png=str(png))


if __name__ == "__main__":
    main()
