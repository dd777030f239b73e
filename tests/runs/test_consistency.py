from __future__ import annotations

from promptstudio.runs.consistency import consistency, normalise_answer


def test_one_sample_has_no_consistency() -> None:
    assert consistency(["yes"]) is None
    assert consistency([]) is None


def test_normalisation_ignores_case_spacing_and_a_final_stop() -> None:
    assert normalise_answer("  Positive.\n") == normalise_answer("positive") == "positive"
    assert normalise_answer("a  b\tc") == "a b c"
    assert normalise_answer("3.5") == "3.5"


def test_distinct_answers_and_agreement() -> None:
    result = consistency(["Positive.", "positive", "negative", "Positive", "neutral"])
    assert result is not None
    assert (result.samples, result.distinct) == (5, 3)
    assert result.agreement == 0.6
    assert result.majority == "Positive."
    assert result.describe() == "3 distinct answers of 5 · 60% agree"


def test_full_agreement() -> None:
    result = consistency(["4", "4 ", "4"])
    assert result is not None and result.distinct == 1 and result.agreement == 1.0
    assert result.describe() == "1 distinct answer of 3 · 100% agree"
