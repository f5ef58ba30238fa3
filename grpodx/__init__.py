"""GRPODx: train a diagnostic-dialogue doctor LLM with GRPO."""

__version__ = "0.1.0"
