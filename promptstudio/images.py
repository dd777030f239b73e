"""Images in prompts: reading a source (file, http(s) URL, data URL) into a checked Image.

The type comes from the bytes, never from a file name or a declared type: PNG, JPEG, GIF
and WebP are the formats all three APIs accept. Other files, and images larger than the
largest any API takes, are refused here with a message a person understands; each API's
own, smaller limit is checked by its provider before a request is sent (:func:`check_size`).
"""

from __future__ import annotations

import base64
import binascii
import math
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from promptstudio.chat import Image
from promptstudio.errors import PromptStudioError

MB = 1024 * 1024
#: Per-image limits of each API (bytes of the image itself), from their documentation.
LIMITS = {"chat": 20 * MB, "responses": 20 * MB, "messages": 5 * MB}
API_NAMES = {"chat": "OpenAI Chat", "responses": "OpenAI Responses", "messages": "Anthropic"}
#: The most any API takes: larger images are refused when they are read.
MAX_BYTES = max(LIMITS.values())

MEDIA_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")


class ImageError(PromptStudioError):
    """An image source that cannot be sent: missing, unreadable, not an image, too big."""


def sniff(data: bytes) -> str | None:
    """The media type the bytes are, among PNG, JPEG, GIF and WebP; None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def is_remote(source: str) -> bool:
    return source.lower().startswith(("http://", "https://"))


def is_data_url(source: str) -> bool:
    return source[:5].lower() == "data:"


def looks_like_image_source(text: str, base_dir: Path | None = None) -> bool:
    """Whether a variable's value names an image (data URL, or an existing image file)."""
    text = text.strip()
    if not text or "\n" in text or (len(text) > 4096 and not is_data_url(text)):
        return False
    if is_data_url(text):
        return text[5:11].lower() == "image/"
    if is_remote(text):
        return False
    path = resolve_path(text, base_dir)
    try:
        with path.open("rb") as file:
            return sniff(file.read(16)) is not None
    except (OSError, ValueError):
        return False


def resolve_path(source: str, base_dir: Path | None) -> Path:
    path = Path(source.removeprefix("file://")).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return path


def load_image(source: str, alt: str = "", base_dir: Path | None = None) -> Image:
    """Read ``source`` into an :class:`Image`; relative paths are taken from ``base_dir``
    (None: the current directory). Remote URLs are not fetched: the API reads them."""
    source = source.strip()
    if is_remote(source):
        return Image(alt, source, url=source)
    if is_data_url(source):
        return image_from_bytes(_data_url_bytes(source), alt, source, what="the data URL")
    path = resolve_path(source, base_dir)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise ImageError(_too_big(f"the image file {path}", size, MAX_BYTES, "any API"))
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImageError(f"The image file {path} does not exist.") from None
    except IsADirectoryError:
        raise ImageError(f"The image {path} is a folder, not a file.") from None
    except (OSError, ValueError) as exc:
        detail = getattr(exc, "strerror", None) or exc
        raise ImageError(f"The image file {path} cannot be read: {detail}.") from None
    return image_from_bytes(data, alt, source, what=f"the image file {path}")


@dataclass
class ImageReader:
    """Where a prompt's image sources are read from: relative paths from ``base_dir`` (None:
    the current directory), and a file that is gone from the bytes a stored version kept of
    it (``stored``, by the source as written), so a restored or re-run version sends what it
    sent then. The sources served that way are listed in ``from_store``, to be said."""

    base_dir: Path | None = None
    stored: Mapping[str, Image] = field(default_factory=dict)
    from_store: list[str] = field(default_factory=list)

    def load(self, source: str, alt: str = "") -> Image:
        source = source.strip()
        kept = self.stored.get(source)
        if kept is not None and self._gone(source):
            self.from_store.append(source)
            return replace(kept, alt=alt, source=source)
        return load_image(source, alt, self.base_dir)

    def _gone(self, source: str) -> bool:
        if is_remote(source) or is_data_url(source):
            return False
        return not resolve_path(source, self.base_dir).exists()

    def gone_note(self) -> str:
        """What to tell the user when a file was gone ("" when none was)."""
        if not self.from_store:
            return ""
        names = ", ".join(dict.fromkeys(self.from_store))
        noun = "file is" if len(set(self.from_store)) == 1 else "files are"
        return f"The image {noun} gone ({names}): sent the copy stored with the version."


def image_from_bytes(data: bytes, alt: str, source: str, *, what: str) -> Image:
    """A checked image of ``data``; ``what`` names it in messages."""
    media_type = sniff(data)
    if media_type is None:
        raise ImageError(
            f"{what[:1].upper()}{what[1:]} is not a PNG, JPEG, GIF or WebP image "
            "(the formats the APIs accept)."
        )
    if len(data) > MAX_BYTES:
        raise ImageError(_too_big(what, len(data), MAX_BYTES, "any API"))
    return Image(alt, source, media_type, data)


def _data_url_bytes(source: str) -> bytes:
    header, sep, payload = source.partition(",")
    if not sep or not header.lower().endswith(";base64"):
        raise ImageError("A data URL image must be base64: data:image/png;base64,....")
    if len(payload) > MAX_BYTES * 4 // 3 + 4:
        raise ImageError(_too_big("the data URL", len(payload) * 3 // 4, MAX_BYTES, "any API"))
    try:
        return base64.b64decode(payload.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ImageError("The data URL's base64 data is damaged.") from None


def _too_big(what: str, size: int, limit: int, who: str) -> str:
    return (
        f"The image {what} is {size / MB:.1f} MB; {who} takes at most {limit // MB} MB per image."
    )


def check_size(image: Image, api: str) -> str | None:
    """A message when ``image`` is over ``api``'s per-image limit, else None."""
    limit = LIMITS.get(api, MAX_BYTES)
    if image.size <= limit:
        return None
    return _too_big(
        f"the image {image.label()}", image.size, limit, f"the {API_NAMES.get(api, api)} API"
    )


def dimensions(data: bytes) -> tuple[int, int] | None:
    """(width, height) read from the header, or None when it cannot tell."""
    try:
        kind = sniff(data)
        if kind == "image/png" and len(data) >= 24:
            width, height = struct.unpack(">II", data[16:24])
            return width, height
        if kind == "image/gif" and len(data) >= 10:
            width, height = struct.unpack("<HH", data[6:10])
            return width, height
        if kind == "image/webp":
            return _webp_dimensions(data)
        if kind == "image/jpeg":
            return _jpeg_dimensions(data)
    except struct.error:
        return None
    return None


def _webp_dimensions(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8X" and len(data) >= 30:
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    if chunk == b"VP8L" and len(data) >= 25:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 " and len(data) >= 30:
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    return None


def _jpeg_dimensions(data: bytes) -> tuple[int, int] | None:
    index = 2
    while index + 9 < len(data):
        if data[index] != 0xFF:
            return None
        marker = data[index + 1]
        length = struct.unpack(">H", data[index + 2 : index + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[index + 5 : index + 9])
            return width, height
        index += 2 + length
    return None


#: Tokens assumed for an image whose size cannot be read (a remote URL).
UNKNOWN_IMAGE_TOKENS = 1000


def estimate_image_tokens(image: Image, api: str = "messages") -> int:
    """A local estimate of an image's input tokens as ``api`` counts them: OpenAI's tiles
    for ``"chat"`` and ``"responses"`` (any OpenAI-compatible server), Anthropic's
    width × height / 750 for ``"messages"``. Servers report the real count."""
    size = dimensions(image.data) if image.data else None
    if size is None:
        return UNKNOWN_IMAGE_TOKENS
    width, height = size
    if api in ("chat", "responses"):
        return openai_image_tokens(width, height)
    # Anthropic: about width × height / 750, capped at 1,600 as it scales large images down.
    return max(1, min(1600, math.ceil(width * height / 750)))


#: OpenAI's image costs, from "Calculating costs" in its Images and vision guide
#: (platform.openai.com/docs/guides/vision#calculating-costs, GPT-4o and o-series): a
#: ``detail: low`` image costs 85 tokens; ``high`` (and ``auto``, which we send and count as
#: high, an upper bound) is scaled to fit in 2048 × 2048, then its shortest side to 768,
#: and costs 170 per 512-px tile covering it plus 85.
OPENAI_LOW_DETAIL_TOKENS = 85
OPENAI_TILE_TOKENS = 170
OPENAI_TILE = 512


def openai_image_tokens(width: int, height: int, detail: str = "high") -> int:
    """What OpenAI counts for a ``width`` × ``height`` image at ``detail``."""
    if detail == "low" or width <= 0 or height <= 0:
        return OPENAI_LOW_DETAIL_TOKENS
    scale = min(1.0, 2048 / max(width, height))  # fit in 2048 x 2048
    scale *= min(1.0, 768 / (min(width, height) * scale))  # the shortest side down to 768
    tiles = math.ceil(width * scale / OPENAI_TILE) * math.ceil(height * scale / OPENAI_TILE)
    return OPENAI_TILE_TOKENS * tiles + OPENAI_LOW_DETAIL_TOKENS
