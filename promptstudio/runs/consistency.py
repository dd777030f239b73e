"""How consistent are n samples of the same prompt? Distinct answers and agreement.

Answers are compared after light normalisation (case, surrounding whitespace and runs of
whitespace, a trailing full stop), so "Positive." and "positive" count as one answer.
Agreement is the share of samples that gave the most common answer.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

_SPACE = re.compile(r"\s+")


def normalise_answer(text: str) -> str:
    return _SPACE.sub(" ", text).strip().rstrip(".").strip().casefold()


@dataclass(frozen=True, slots=True)
class Consistency:
    samples: int
    distinct: int
    agreement: float  # 0..1: the most common answer's share
    majority: str  # the most common answer, as first written

    def describe(self) -> str:
        answers = "answer" if self.distinct == 1 else "answers"
        return f"{self.distinct} distinct {answers} of {self.samples} · {self.agreement:.0%} agree"


def consistency(texts: Sequence[str]) -> Consistency | None:
    """None for fewer than two samples, where consistency means nothing."""
    if len(texts) < 2:
        return None
    keys = [normalise_answer(text) for text in texts]
    counts = Counter(keys)
    top, count = counts.most_common(1)[0]
    first = texts[keys.index(top)]
    return Consistency(len(texts), len(counts), count / len(texts), first)
