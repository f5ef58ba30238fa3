"""A naive-Bayes diagnostician over any knowledge base: posterior from yes/no answers, questions by
expected information gain.

Shared by the naive-Bayes doctor (`grpodx.baseline`, how solvable is the environment) and the expert
demonstrations (`grpodx.demonstrations`, what the warm start imitates). Two knowledge bases feed it:
DDXPlus's kb_en.json (priors and P(evidence | pathology) from the DDXPlus training split) and the
embedded knowledge base (uniform priors, as its case source draws conditions; finding frequencies).
"""

from __future__ import annotations

import random

import torch

from grpodx.cases import Finding
from grpodx.patients.matching import Candidate, FindingMatcher
from grpodx.patients.offline import shared_encoder

FLOOR = 1e-3  # P(finding | diagnosis) for findings the knowledge base never lists with the diagnosis


class NaiveBayesDoctor:
    """Posterior over diagnoses from yes/no answers; picks questions by expected information gain.

    Args:
        names: the diagnoses, in a fixed order.
        priors: P(diagnosis), same order.
        likelihoods: per diagnosis, P(finding present | diagnosis) for the findings it lists.
        vocabulary: the yes/no findings it may ask about (their ids are the question codes, kept
            sorted); also what an opening complaint is read against, in the order given.
        questions: one plain wording per code (the DDXPlus release's own question).
        informative: False asks random open questions (the floor the informative doctor is compared with).
    """

    def __init__(self, names: list[str], priors: list[float], likelihoods: dict[str, dict[str, float]],
                 vocabulary: list[Finding], questions: dict[str, str], informative: bool = True):
        self.names = list(names)
        self.codes = sorted(f.id for f in vocabulary)
        self.findings = {f.id: f for f in vocabulary}
        self.questions = dict(questions)
        self.log_prior = torch.tensor(priors, dtype=torch.float32).clamp(min=1e-6).log()
        p = torch.full((len(self.names), len(self.codes)), FLOOR)
        for i, name in enumerate(self.names):
            for j, code in enumerate(self.codes):
                if code in likelihoods.get(name, {}):
                    p[i, j] = likelihoods[name][code]
        self.p = p.clamp(FLOOR, 1 - FLOOR)
        self.index = {c: j for j, c in enumerate(self.codes)}
        self.informative = informative
        self._complaint_vocabulary = [Candidate(f, None) for f in vocabulary]
        self._matcher = FindingMatcher(shared_encoder(), max_per_question=1)

    @classmethod
    def from_ddxplus(cls, release, pathology_kb, informative: bool = True) -> NaiveBayesDoctor:
        """Pathologies of kb_en.json over the release's yes/no evidences, in the patient's vocabulary."""
        from grpodx.cases.ddxplus import CaseBuilder

        names = sorted(pathology_kb)
        binary = {c for c, e in release.evidences.items() if e.data_type == "B"}
        vocabulary = [f for f in CaseBuilder(release).vocabulary if f.id in binary]
        likelihoods = {n: {c: s.p_present for c, s in pathology_kb[n].evidences.items() if c in binary}
                       for n in names}
        questions = {c: release.evidences[c].question for c in binary}
        return cls(names, [pathology_kb[n].prior for n in names], likelihoods, vocabulary, questions, informative)

    @classmethod
    def from_knowledge_base(cls, kb, informative: bool = True) -> NaiveBayesDoctor:
        """The embedded knowledge base's conditions (uniform priors, as `kb` cases are drawn) over
        its findings; the first two key findings are always present in a drawn case."""
        names = [c.name for c in kb.conditions]
        likelihoods = {}
        for condition in kb.conditions:
            p = dict(condition.frequencies)
            p.update({key: 1.0 for key in condition.key_findings[:2]})
            likelihoods[condition.name] = p
        vocabulary = [Finding(e.id, e.label, e.cues, "") for e in kb.findings.values()]
        questions = {e.id: f"Have you noticed {e.label}?" for e in kb.findings.values()}
        return cls(names, [1.0] * len(names), likelihoods, vocabulary, questions, informative)

    def read_complaints(self, complaints: list[str]) -> list[dict[str, bool]]:
        """The yes/no finding each opening complaint states ("I have a cough." -> E_201 present),
        matched by meaning like a question; {} where none matches. The doctor sees only this text."""
        hits = self._matcher.match(complaints, [self._complaint_vocabulary] * len(complaints))
        return [{found[0].finding.id: True} if found else {} for found in hits]

    def posterior(self, answers: dict[str, bool]) -> torch.Tensor:
        log_post = self.log_prior.clone()
        for code, present in answers.items():
            j = self.index[code]
            log_post += (self.p[:, j] if present else 1 - self.p[:, j]).log()
        return torch.softmax(log_post, dim=0)

    def next_questions(self, answers: dict[str, bool], asked: set[str], rng: random.Random, k: int) -> list[str]:
        """The k open yes/no questions with the largest expected information gain (or k random ones)."""
        open_codes = [c for c in self.codes if c not in asked and c not in answers]
        if not self.informative:
            return rng.sample(open_codes, min(k, len(open_codes)))
        post = self.posterior(answers)
        cols = torch.tensor([self.index[c] for c in open_codes])
        p = self.p[:, cols]  # [D, Q]
        p_yes = post @ p
        post_yes = post[:, None] * p / p_yes
        post_no = post[:, None] * (1 - p) / (1 - p_yes)

        def entropy(d):
            return -(d * d.clamp(min=1e-12).log()).sum(0)

        expected = p_yes * entropy(post_yes) + (1 - p_yes) * entropy(post_no)
        return [open_codes[int(i)] for i in expected.argsort()[:k]]

    def ranked(self, answers: dict[str, bool]) -> list[str]:
        order = self.posterior(answers).argsort(descending=True)
        return [self.names[i] for i in order]

    def leading(self, answers: dict[str, bool], k: int = 3) -> list[tuple[str, float]]:
        """The k most probable diagnoses with their posterior probabilities."""
        post = self.posterior(answers)
        values, order = post.topk(min(k, len(self.names)))
        return [(self.names[int(i)], float(v)) for v, i in zip(values, order)]
