"""Which environment variable holds the key for a provider's endpoint."""

from __future__ import annotations

from urllib.parse import urlsplit

ENV_KEY_VARS: tuple[str, ...] = (
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "OPENROUTER_API_KEY",
    "GROQ_API_KEY",
    "TOGETHER_API_KEY",
    "MISTRAL_API_KEY",
    "DEEPSEEK_API_KEY",
    "GEMINI_API_KEY",
)

# Exact hosts only: a look-alike such as "api.openai.com.example.net" must not receive
# the user's OpenAI key.
_HOST_VARS: dict[str, str] = {
    "api.openai.com": "OPENAI_API_KEY",
    "api.anthropic.com": "ANTHROPIC_API_KEY",
    "openrouter.ai": "OPENROUTER_API_KEY",
    "api.groq.com": "GROQ_API_KEY",
    "api.together.xyz": "TOGETHER_API_KEY",
    "api.mistral.ai": "MISTRAL_API_KEY",
    "api.deepseek.com": "DEEPSEEK_API_KEY",
    "generativelanguage.googleapis.com": "GEMINI_API_KEY",
}


def env_var_for(base_url: str) -> str | None:
    """The conventional key variable for a hosted provider; None for local or unknown hosts.

    Only ``https`` (or a URL without a scheme) qualifies: a key from the environment is
    never offered to a plain-``http`` URL, where it would cross the network in clear text.
    """
    text = base_url.strip()
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    if parts.scheme.lower() != "https":
        return None
    host = (parts.hostname or "").rstrip(".")
    return _HOST_VARS.get(host)
