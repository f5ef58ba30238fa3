"""Train a diagnostic-dialogue doctor with GRPO: `python train.py fit --config configs/default.yaml`."""

from grpodx.cli import main

if __name__ == "__main__":
    main()
