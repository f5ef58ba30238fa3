"""The evaluation report: held-out episodes of the base and the trained doctor, turned into
metrics, an organ-system confusion table, plots and a summary (entry: `python -m grpodx.evaluate`)."""
