"""Improve, generate and optimise prompts with a model, measured on the user's own cases.

Qt-free. The prompts that ask the model are ordinary library prompts in the
"PromptStudio" folder (:mod:`feature_prompts`), seeded on first use; each feature renders
the newest version of its prompt. A model's rewrite is taken only when it keeps every
variable, renders and has valid roles (:mod:`rewrite`); generated prompts and test cases
are read from the reply (:mod:`generate`); :mod:`optimise` runs rounds of rewrites, each
evaluated through :class:`~promptstudio.evals.runner.Evaluation`.
"""

from __future__ import annotations

from promptstudio.improve.asking import ModelReply, ask
from promptstudio.improve.errors import FeatureError, RewriteRejected
from promptstudio.improve.feature_prompts import (
    CASE_GENERATOR,
    FOLDER,
    IMPROVER,
    OPTIMISER,
    PROMPT_GENERATOR,
    feature_messages,
    feature_template,
    seed_feature_prompts,
)
from promptstudio.improve.rewrite import Proposal, check_rewrite, parse_proposal

__all__ = [
    "CASE_GENERATOR",
    "FOLDER",
    "IMPROVER",
    "OPTIMISER",
    "PROMPT_GENERATOR",
    "FeatureError",
    "ModelReply",
    "Proposal",
    "RewriteRejected",
    "ask",
    "check_rewrite",
    "feature_messages",
    "feature_template",
    "parse_proposal",
    "seed_feature_prompts",
]
