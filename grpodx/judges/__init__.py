"""Judges: score a finished episode in [0, 1] with a named breakdown."""

from grpodx.judges.base import Judge
from grpodx.judges.offline import OfflineJudge
from grpodx.judges.openai_judge import OpenAIJudge

__all__ = ["Judge", "OfflineJudge", "OpenAIJudge"]
