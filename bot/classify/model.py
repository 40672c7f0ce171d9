"""The learned classifier: a linear model over character n-grams and jieba words.

Trained with scikit-learn (TF-IDF weights, multinomial logistic regression) on labeled texts:
the starter set the project ships (starter.jsonl) and the tickets whose topic a person
confirmed. It is kept as plain numpy arrays — the vocabulary, the idf weights, one row of
coefficients per topic — so loading one runs no pickle, and classifying a text is a few
dictionary lookups and one small matrix product, without scikit-learn's per-call cost.

The rules decide when they are sure (engine.py); the model is asked only when they are not.
"""

from __future__ import annotations

import io
import json
import re
import time
import warnings
import zipfile
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from math import exp, log, sqrt
from operator import add
from pathlib import Path
from typing import Any

import jieba
import numpy as np

from words import fold

from .evaluate import Labeled

STARTER = Path(__file__).with_name("starter.jsonl")
FORMAT = 1  # bumped when the arrays change meaning; older models are refused, not misread

_SPLIT = re.compile(r"[\W_]+")
_DIGITS = re.compile(r"\d+")
WORD = "w:"  # the prefix of a jieba word among the character n-grams
MAX_FEATURES = 300_000


def tokenize(folded: str) -> list[str]:
    """jieba's words, as the rules see them (engine.Classifier.tokens)."""
    return list(jieba.lcut(folded, HMM=False))


def features(folded: str, tokens: Sequence[str]) -> list[str]:
    """A folded text's features: its characters and character pairs within runs of letters and
    digits, and its jieba words of two or more characters ("w:电梯"). Every number reads as 0,
    so "3号楼" and "12号楼" teach the same thing. (Triples as well measured a point worse on
    texts held out from training, with half again as many features.)"""
    found: list[str] = []
    for run in _SPLIT.split(_DIGITS.sub("0", folded)):
        found += run  # its characters
        found += map(add, run, run[1:])  # and its pairs
    found += [
        WORD + (token if token.isalpha() else _DIGITS.sub("0", token))
        for token in tokens
        if len(token) > 1 and token.isalnum()
    ]
    return found


def shown(term: str) -> str:
    """A feature as an admin reads it: the word without its prefix."""
    return term[len(WORD) :] if term.startswith(WORD) else term


@dataclass
class Model:
    labels: tuple[str, ...]
    terms: list[str]
    idf: np.ndarray  # (features,)
    coef: np.ndarray  # (labels, features)
    intercept: np.ndarray  # (labels,)
    info: dict[str, Any] = field(default_factory=dict)
    vocabulary: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.vocabulary = {term: i for i, term in enumerate(self.terms)}
        # For scoring one text at a time: each feature's coefficients times its idf weight as
        # one contiguous row, the squared idf weights (for the norm), the intercepts.
        idf = self.idf.astype(np.float64)
        self._rows = np.ascontiguousarray(self.coef.T * idf[:, None], dtype=np.float64)
        self._idf_squared: list[float] = (idf * idf).tolist()
        self._intercept = self.intercept.astype(np.float64)

    # -- predicting ------------------------------------------------------------------------

    def _weighted(
        self, text: str, tokens: Sequence[str] | None, folded: bool
    ) -> tuple[list[int], list[float] | None, float]:
        """The text's TF-IDF vector as training made it: the vocabulary's features it holds
        (each once), their tf weights (None when each was found once, the usual case: all 1;
        else 1 + log(count), as TfidfVectorizer(sublinear_tf=True)), and the vector's norm.
        `_rows` already carry the idf weights."""
        if not folded:
            text = fold(text)
        found = features(text, tokenize(text) if tokens is None else tokens)
        get = self.vocabulary.get
        index = [i for i in map(get, found) if i is not None]
        squares = self._idf_squared
        if len(set(index)) == len(index):
            return index, None, sqrt(sum([squares[i] for i in index]))
        counts = Counter(index)
        tf = [1.0 + log(c) for c in counts.values()]
        norm = sqrt(sum([t * t * squares[i] for t, i in zip(tf, counts, strict=True)]))
        return list(counts), tf, norm

    def scores(
        self, text: str, tokens: Sequence[str] | None = None, *, folded: bool = False
    ) -> list[float]:
        """Each label's score (its log-odds up to a constant), in `labels`' order, computed
        for one short text with as few calls as it takes (the model runs on about one
        message in five). `folded`: `text` is folded already (words.fold)."""
        index, tf, norm = self._weighted(text, tokens, folded)
        if not index:
            return self._intercept.tolist()
        rows = self._rows[index]
        summed = rows.sum(axis=0) if tf is None else np.dot(tf, rows)
        result: list[float] = (summed / norm + self._intercept).tolist()
        return result

    def rank(
        self,
        text: str,
        tokens: Sequence[str] | None = None,
        among: Collection[str] | None = None,
        *,
        folded: bool = False,
    ) -> list[tuple[str, float]]:
        """(topic, probability), likeliest first; `among`: only these topics (the ones a rule
        set has enabled), their probabilities summing to one."""
        pairs = zip(self.labels, self.scores(text, tokens, folded=folded), strict=True)
        kept = list(pairs) if among is None else [p for p in pairs if p[0] in among]
        if not kept:
            return []
        top = max(score for _, score in kept)
        odds = [(label, exp(score - top)) for label, score in kept]
        total = sum(o for _, o in odds)
        odds.sort(key=lambda pair: -pair[1])
        return [(label, o / total) for label, o in odds]

    def weigh(
        self, text: str, topic: str, tokens: Sequence[str] | None = None, n: int = 5
    ) -> list[tuple[str, float]]:
        """The features of `text` that weighed most for `topic` (as shown to an admin), with
        their weight in its score, heaviest first; only those that counted for it."""
        if topic not in self.labels:
            return []
        index, tf, norm = self._weighted(text, tokens, False)
        if not index:
            return []
        row = self._rows[index, self.labels.index(topic)] / norm
        if tf is not None:
            row *= tf
        best: dict[str, float] = {}
        for i in np.argsort(-row, kind="stable"):
            if row[i] <= 0 or len(best) == n:
                break
            term = shown(self.terms[int(index[i])])
            best.setdefault(term, round(float(row[i]), 3))
        return list(best.items())

    # -- storing ---------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            format=np.array([FORMAT]),
            labels=_text_array(self.labels),
            terms=_text_array(self.terms),
            idf=self.idf.astype(np.float32),
            coef=self.coef.astype(np.float32),
            intercept=self.intercept.astype(np.float32),
            info=_text_array([json.dumps(self.info, ensure_ascii=False)]),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Model:
        """A model `to_bytes` wrote; ValueError for anything else (no pickle is ever run)."""
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
                if int(arrays["format"][0]) != FORMAT:
                    raise ValueError("a model of another format: train it again")
                labels = tuple(_texts(arrays["labels"]))
                terms = _texts(arrays["terms"])
                idf, coef = arrays["idf"], arrays["coef"]
                intercept = arrays["intercept"]
                info = json.loads(_texts(arrays["info"])[0])
        except (OSError, KeyError, IndexError, EOFError, ValueError, zipfile.BadZipFile) as exc:
            raise ValueError(f"not a classifier model: {exc}") from None
        if coef.shape != (len(labels), len(terms)) or idf.shape != (len(terms),):
            raise ValueError("not a classifier model: its arrays do not fit together")
        return cls(labels, terms, idf, coef, intercept, info)

    def save(self, path: str | Path) -> None:
        Path(path).write_bytes(self.to_bytes())

    @classmethod
    def load(cls, path: str | Path) -> Model:
        return cls.from_bytes(Path(path).read_bytes())


def _text_array(texts: Sequence[str]) -> np.ndarray:
    """Strings as one UTF-8 byte array, newline-separated (features never hold a newline)."""
    return np.frombuffer("\n".join(texts).encode("utf-8"), dtype=np.uint8)


def _texts(array: np.ndarray) -> list[str]:
    return bytes(array.astype(np.uint8)).decode("utf-8").split("\n")


def train(items: Sequence[Labeled], *, c: float = 30.0) -> Model:
    """Learn a model from labeled texts (at least two labels). `c`: the inverse of the
    regularisation (larger fits the examples more closely)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    labels = sorted({item.label for item in items})
    if len(labels) < 2:
        raise ValueError("needs labeled texts of at least two topics")
    started = time.perf_counter()
    docs = []
    for item in items:
        folded = fold(item.text)
        docs.append(features(folded, tokenize(folded)))
    vectorizer = TfidfVectorizer(
        analyzer=_identity, sublinear_tf=True, max_features=MAX_FEATURES, dtype=np.float32
    )
    matrix = vectorizer.fit_transform(docs)
    target = [labels.index(item.label) for item in items]
    # saga: a second for thousands of texts where lbfgs takes ten; a fit that stops at
    # max_iter before the tolerance is as good on held-out texts (measured), so its
    # ConvergenceWarning is not news.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fitted = LogisticRegression(C=c, solver="saga", max_iter=300, tol=1e-4, random_state=0)
        fitted.fit(matrix, target)
    terms = [str(t) for t in vectorizer.get_feature_names_out()]
    coef, intercept = fitted.coef_, fitted.intercept_
    if len(labels) == 2:  # one row for the second label's odds: as two rows of a softmax
        coef = np.vstack([np.zeros_like(coef), coef])
        intercept = np.concatenate([[0.0], intercept])
    counts = Counter(item.label for item in items)
    info = {
        "examples": len(items),
        "labels": {label: counts[label] for label in labels},
        "features": len(terms),
        "seconds": round(time.perf_counter() - started, 2),
    }
    return Model(
        tuple(labels),
        terms,
        np.asarray(vectorizer.idf_, dtype=np.float32),
        np.asarray(coef, dtype=np.float32),
        np.asarray(intercept, dtype=np.float32),
        info,
    )


def _identity(doc: list[str]) -> list[str]:
    return doc


__all__ = ["STARTER", "Model", "features", "shown", "tokenize", "train"]
