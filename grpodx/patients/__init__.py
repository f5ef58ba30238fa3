"""Patient simulators: answer a doctor's visible text from the hidden case, never naming it."""

from grpodx.patients.base import Patient
from grpodx.patients.offline import OfflinePatient
from grpodx.patients.openai_patient import OpenAIPatient

__all__ = ["Patient", "OfflinePatient", "OpenAIPatient"]
