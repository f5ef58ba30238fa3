"""Lightning callbacks for the side concerns: checkpoints, metrics, transcripts, final validation."""

from callbacks.adapter_checkpoint import AdapterCheckpoint
from callbacks.api_usage import ApiUsage
from callbacks.final_validation import ValidateAtEnd
from callbacks.preemption import Preemption
from callbacks.reward_metrics import RewardMetrics
from callbacks.rollout_progress import RolloutProgress
from callbacks.run_summary import RunSummary
from callbacks.transcripts import TranscriptLogger

__all__ = ["AdapterCheckpoint", "ApiUsage", "Preemption", "RewardMetrics", "RolloutProgress", "RunSummary", "TranscriptLogger", "ValidateAtEnd"]
