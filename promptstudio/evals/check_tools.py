"""The tools of the checks beyond text, made from the user's settings (app and CLI alike).

Code checks run only when the caller says so: the app passes the user's "Run code checks"
setting, the CLI its ``--allow-code-checks`` flag. Nothing read from a prompt, a case or an
imported config reaches this switch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from promptstudio.evals.cache import AnswerCache
from promptstudio.evals.checks_model import CheckTools
from promptstudio.evals.embeddings import Embedder, EmbeddingsEndpoint
from promptstudio.runs.columns import ColumnConfig, RunDefaults, column_endpoint

if TYPE_CHECKING:
    from promptstudio.credentials import KeyStore
    from promptstudio.providers.profiles import ProviderProfile


def check_tools(
    get: Callable[[str], object],
    *,
    profiles: Sequence[ProviderProfile],
    keys: KeyStore,
    cache: AnswerCache | None,
    run_code: bool,
) -> CheckTools:
    """Embeddings from ``checks.embeddings_*`` (none when no model or place is set), and
    code checks as ``run_code`` says. Raises ``ColumnError`` for an unknown profile."""
    model = str(get("checks.embeddings_model") or "")
    profile = str(get("checks.embeddings_profile") or "")
    url = str(get("checks.embeddings_url") or "")
    embed = None
    if model and (profile or url):
        config = ColumnConfig(base_url=url, model=model, profile=profile)
        endpoint = column_endpoint(config, profiles, keys, RunDefaults.from_settings(get))
        embed = Embedder(EmbeddingsEndpoint(endpoint, model), cache)
    return CheckTools(embed=embed, run_code=run_code)
