"""Checks every imported file passes before any parsing: size, binary content, encoding."""

from __future__ import annotations

from pathlib import Path

from promptstudio.exchange.errors import ExchangeError

MAX_IMPORT_BYTES = 10 * 1024 * 1024


def checked_text(data: str | bytes) -> str:
    """``data`` as text, or :class:`ExchangeError` for enormous, binary or non-UTF-8 input.

    Bytes are decoded as UTF-8 (a leading byte-order mark is dropped); the error names the
    line of the first undecodable byte.
    """
    if isinstance(data, bytes):
        if len(data) > MAX_IMPORT_BYTES:
            raise ExchangeError(too_big_message(len(data)))
        nul_byte = data.find(b"\0")
        _refuse_nul(nul_byte, data[: max(nul_byte, 0)].count(b"\n"))
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise ExchangeError(
                "The file is not UTF-8 text (save it as UTF-8 and import it again).", line=line
            ) from None
        return text
    size = len(data.encode("utf-8", "surrogatepass"))
    if size > MAX_IMPORT_BYTES:
        raise ExchangeError(too_big_message(size))
    nul = data.find("\0")
    _refuse_nul(nul, data[: max(nul, 0)].count("\n"))
    return data.removeprefix("\ufeff")


def read_referenced(path: Path, named: str) -> bytes:
    """The bytes of a file another file refers to (``named``, as the user wrote it), at most
    one byte over the import limit (which :func:`checked_text` then refuses)."""
    try:
        with path.open("rb") as file:
            return file.read(MAX_IMPORT_BYTES + 1)
    except FileNotFoundError:
        raise ExchangeError(f"{named} does not exist ({path}).") from None
    except OSError as exc:
        raise ExchangeError(f"{named} cannot be read ({exc.strerror or exc}).") from None


def _refuse_nul(index: int, newlines_before: int) -> None:
    if index >= 0:
        raise ExchangeError(
            "The file holds binary data (a NUL byte), not text.", line=newlines_before + 1
        )


def too_big_message(size: int) -> str:
    return (
        f"The file is {size / 1024 / 1024:.1f} MB; files over "
        f"{MAX_IMPORT_BYTES // 1024 // 1024} MB are not imported."
    )
