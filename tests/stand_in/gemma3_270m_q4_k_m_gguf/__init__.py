"""A stand-in for the Gemma 3 270M package: ``assemble`` writes a small placeholder file."""

from __future__ import annotations

from pathlib import Path

MODEL_NAME = "gemma-3-270m-q4_k_m.gguf"


def assemble(output_path: str | Path | None = None, overwrite: bool = False) -> Path:
    target = Path(output_path or Path.home() / MODEL_NAME)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(b"GGUF stand-in")
    return target
