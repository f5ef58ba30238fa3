"""Evaluate a trained doctor on the held-out cases and write a report folder.

    python -m grpodx.evaluate --config configs/default.yaml \\
        --ckpt_path runs/default/version_0/checkpoints/last.ckpt --out reports/NAME --compare-base

The config is parsed by the training CLI (same validation, same overrides, e.g.
`--data.val_size 32`); the held-out cases are the DataModule's, played as validation plays them
(one greedy episode each). `--compare-base` also plays them with the adapter switched off, so the
base and the trained doctor meet the same patients with the same seeds. Without --config, the
run's own config.yaml beside the checkpoint is used.
"""

from __future__ import annotations

import sys
from pathlib import Path

from jsonargparse import Namespace

from grpodx.entry import entry_parser
from grpodx.errors import ConfigError, one_line_errors
from grpodx.threads import configure_threads

HELP = "python -m grpodx.evaluate --help"
FIT_ONLY = {"ckpt_path", "weights_only"}


OWN = {"--config": True, "--ckpt_path": True, "--out": True, "--compare-base": False, "--run-dir": True,
       "-h": False, "--help": False}  # this command's options: do they take a value?


def parse_args(argv: list[str]) -> tuple[Namespace, list[str]]:
    """This command's own options; everything else goes to the training CLI as config overrides."""
    parser = entry_parser("python -m grpodx.evaluate", __doc__ + "\nAny other --key value (e.g. --data.val_size 32) "
                          "overrides the config.", config_file=False)
    parser.add_argument("--config", help="training config (default: the run's config.yaml beside the checkpoint)")
    parser.add_argument("--ckpt_path", help="a checkpoint from train.py fit (default: evaluate the base model)")
    parser.add_argument("--out", required=True, help="report folder to write (e.g. reports/NAME)")
    parser.add_argument("--compare-base", action="store_true", help="also evaluate the base model (adapter off)")
    parser.add_argument("--run-dir", action="append", default=[],
                        help="TensorBoard run folder(s) for the training curves (default: the checkpoint's run)")
    own, overrides, i = [], [], 0
    while i < len(argv):
        name = argv[i].split("=", 1)[0]
        if name not in OWN:
            overrides.append(argv[i])
        else:
            own.append(argv[i])
            if OWN[name] and "=" not in argv[i] and i + 1 < len(argv):
                own.append(argv[i + 1])
                i += 1
        i += 1
    return parser.parse_args(own), overrides


def run_folder(ckpt_path: str | None) -> Path | None:
    """runs/<name>/version_N for a checkpoint in its usual place, else None."""
    if not ckpt_path:
        return None
    folder = Path(ckpt_path).resolve().parent.parent
    return folder if (folder / "config.yaml").is_file() or any(folder.glob("events.out.tfevents.*")) else None


def config_args(config: str | None) -> list[str]:
    """`--config` for the training CLI; a run's saved config.yaml carries keys only the `fit`
    subcommand accepts (`ckpt_path`, `weights_only`), dropped here: the checkpoint is --ckpt_path."""
    if config is None:
        return []
    import yaml

    if not Path(config).is_file():
        raise ConfigError("--config", f"{config!r} does not exist", "give configs/default.yaml or a run's config.yaml")
    content = yaml.safe_load(Path(config).read_text()) or {}
    if isinstance(content, dict) and FIT_ONLY & content.keys():
        return ["--config", yaml.safe_dump({k: v for k, v in content.items() if k not in FIT_ONLY})]
    return ["--config", config]


def evaluate(args: Namespace, overrides: list[str]) -> Path:
    """Build model and data through the training CLI, play the held-out cases, write the report."""
    from rich.console import Console
    from rich.progress import Progress

    from grpodx.chatter import quiet_libraries
    from grpodx.cli import GRPODxCLI
    from grpodx.data import CaseDataModule
    from grpodx.doctor.restore import load_lora_weights, read_checkpoint
    from grpodx.cases.knowledge import embedded_knowledge_base
    from grpodx.module import DiagnosisGRPO
    from grpodx.report.curves import has_events, read_curves
    from grpodx.report.folder import write_report
    from grpodx.report.held_out import run_held_out
    from grpodx.report.metrics import policy_metrics
    from grpodx.report.summary import ReportContext, coverage, metrics_table

    quiet_libraries()
    console = Console(stderr=True)
    saved = read_checkpoint(args.ckpt_path, "--ckpt_path") if args.ckpt_path else None
    run = run_folder(args.ckpt_path)
    config = args.config or (str(run / "config.yaml") if run and (run / "config.yaml").is_file() else None)
    run_dirs = args.run_dir or ([str(run)] if run and has_events(run) else [])
    for folder in run_dirs:
        if not has_events(Path(folder)):
            raise ConfigError("--run-dir", f"{folder!r} holds no TensorBoard events",
                              "give runs/<name>/version_N (the folder with events.out.tfevents.*)")
    cli = GRPODxCLI(DiagnosisGRPO, CaseDataModule, run=False, parser_kwargs={"exit_on_error": False},
                    args=[*config_args(config), *overrides, "--trainer.logger=false", "--transcripts.console=false"])
    module, data = cli.model, cli.datamodule
    with console.status("Loading the doctor..."):
        module.configure_model()
    if saved is not None:
        load_lora_weights(module, saved, flag="--ckpt_path")
        if saved.doctor.model != module.doctor_config.model:
            console.print(f"[yellow]warning:[/yellow] the checkpoint was trained on {saved.doctor.model!r}, "
                          f"evaluating on {module.doctor_config.model!r}")
    module.to(cli.trainer.strategy.root_device)
    cases = data.source.held_out(data.val_size, data.seed)
    policies = ([("base", True)] if args.compare_base or saved is None else []) + ([("trained", False)] if saved else [])
    results = []
    with Progress(console=console, transient=True) as progress:
        for name, base in policies:
            task = progress.add_task(f"{name}: held-out episodes", total=len(cases))
            results.append(run_held_out(module, cases, data.val_batch_size, data.seed, name, base,
                                        on_batch=lambda n, task=task: progress.advance(task, n)))
    context = ReportContext(Path(args.out).name, module.doctor_config.model, args.ckpt_path,
                            saved.global_step if saved else 0, str(getattr(data, "cases", "?")), len(cases), data.seed,
                            module.environment.max_turns, run_dirs, coverage(cases))
    summary = write_report(Path(args.out), results, embedded_knowledge_base(), read_curves(run_dirs), context)
    console.print(metrics_table({r.name: policy_metrics(r.episodes) for r in results}))
    console.print(f"Report: {summary}")
    return summary


def main(argv: list[str] | None = None) -> None:
    sys_args, sys.argv = sys.argv[1:], sys.argv[:1]  # LightningCLI gets its arguments from `args=`, never from sys.argv
    with one_line_errors(HELP):
        args, overrides = parse_args(sys_args if argv is None else argv)
        configure_threads()
        evaluate(args, overrides)


if __name__ == "__main__":
    main()
