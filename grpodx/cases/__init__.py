"""The case domain in one wing: what a case is (case.py), how names of a disease are read (names.py),
where cases come from (sources.py: the `data.cases` spec), and the sources themselves (knowledge/:
the embedded knowledge base; ddxplus/: the DDXPlus release; vignettes.py: JSONL vignettes).

Nothing here imports the doctor, the patients, the judges or training: they all read cases.
"""

from grpodx.cases.case import Case, CaseBatch, Finding

__all__ = ["Case", "CaseBatch", "Finding"]
