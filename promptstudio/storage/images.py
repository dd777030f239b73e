"""A version's images, stored once each by SHA-256 and listed per version in order."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from promptstudio.chat import Image
from promptstudio.storage.sql import rows, scalar


@dataclass(frozen=True, slots=True)
class VersionImage:
    """One image of a version: what the template called it and which bytes it was."""

    name: str
    source: str
    sha256: str | None  # None: a remote URL, not stored
    media_type: str
    size: int

    def describe(self) -> str:
        """One line for diffs: name, source, type, size and hash."""
        if self.sha256 is None:
            return f"image {self.name or '(no alt text)'}: {self.source}"
        kind = self.media_type.removeprefix("image/").upper()
        return (
            f"image {self.name or '(no alt text)'}: {self.source} "
            f"({kind}, {self.size:,} bytes, sha256 {self.sha256[:12]})"
        )


def shown_source(source: str) -> str:
    """The source as stored: a data URL is not copied into the listing (its bytes are)."""
    if source[:5].lower() == "data:":
        return source.partition(",")[0] + ",…"
    return source


def same_images(conn: sqlite3.Connection, version_id: int, images: Sequence[Image]) -> bool:
    """Whether ``version_id`` holds these images (by alt text and hash, in order)."""
    stored = rows(
        conn,
        "SELECT name, sha256 FROM version_images WHERE version_id = ? ORDER BY position",
        (version_id,),
    )
    wanted = [(image.alt, image.sha256 if image.data else None) for image in images]
    return [(r["name"], r["sha256"]) for r in stored] == wanted


def store_images(conn: sqlite3.Connection, version_id: int, images: Sequence[Image]) -> None:
    """Record ``images`` for a new version; bytes already stored are not stored again.

    The caller holds the transaction."""
    for position, image in enumerate(images):
        sha = image.sha256 if image.data else None
        if sha is not None:
            conn.execute(
                "INSERT OR IGNORE INTO images (sha256, media_type, size, data) VALUES (?, ?, ?, ?)",
                (sha, image.media_type, image.size, image.data),
            )
        conn.execute(
            "INSERT INTO version_images (version_id, position, name, source, sha256) "
            "VALUES (?, ?, ?, ?, ?)",
            (version_id, position, image.alt, shown_source(image.source), sha),
        )


def copy_images(conn: sqlite3.Connection, from_version: int, to_version: int) -> None:
    """Give a restored version the images of the one it restores."""
    conn.execute(
        "INSERT INTO version_images (version_id, position, name, source, sha256) "
        "SELECT ?, position, name, source, sha256 FROM version_images WHERE version_id = ?",
        (to_version, from_version),
    )


def version_images(conn: sqlite3.Connection, version_id: int) -> list[VersionImage]:
    """The images ``version_id`` sent, in order (without their bytes)."""
    found = rows(
        conn,
        """
        SELECT v.name, v.source, v.sha256, coalesce(i.media_type, '') AS media_type,
               coalesce(i.size, 0) AS size
        FROM version_images v LEFT JOIN images i ON i.sha256 = v.sha256
        WHERE v.version_id = ? ORDER BY v.position
        """,
        (version_id,),
    )
    return [
        VersionImage(r["name"], r["source"], r["sha256"], r["media_type"], r["size"]) for r in found
    ]


def image_bytes(conn: sqlite3.Connection, sha256: str) -> bytes | None:
    """The stored bytes of an image, or None."""
    data = scalar(conn, "SELECT data FROM images WHERE sha256 = ?", (sha256,))
    return None if data is None else bytes(data)


def stored_images(conn: sqlite3.Connection, version_id: int) -> dict[str, Image]:
    """The images ``version_id`` sent that the library keeps the bytes of, by the source as
    written (a path, as its template or values named it): what ``images.ImageReader`` sends
    when such a file is gone since."""
    found = rows(
        conn,
        """
        SELECT v.name, v.source, i.media_type, i.data
        FROM version_images v JOIN images i ON i.sha256 = v.sha256
        WHERE v.version_id = ? ORDER BY v.position
        """,
        (version_id,),
    )
    return {
        r["source"]: Image(r["name"], r["source"], r["media_type"], bytes(r["data"])) for r in found
    }


def count_images(conn: sqlite3.Connection) -> int:
    return int(scalar(conn, "SELECT count(*) FROM images"))


#: The line that starts a version's image list in diffs.
IMAGES_HEADING = "── images sent ──"


def diff_text(template: str, images: Sequence[VersionImage], other: Sequence[VersionImage]) -> str:
    """``template`` with its images listed below it, when either side of a diff has any, so
    a diff says which image changed by name, source, size and hash (never their bytes)."""
    if not images and not other:
        return template
    listing = "\n".join(image.describe() for image in images) or "(none)"
    return f"{template}\n\n{IMAGES_HEADING}\n{listing}"
