"""Patient simulators: answer a doctor's visible text from the hidden case, never naming it."""

from grpodx.patients.base import Patient
from grpodx.patients.offline import OfflinePatient

__all__ = ["Patient", "OfflinePatient"]
