"""Image sources: type from the bytes, size limits, data URLs, files and URLs."""

from __future__ import annotations

from pathlib import Path

import pytest

from promptstudio import images
from promptstudio.images import ImageError, check_size, load_image, sniff
from tests.images import GIF, WEBP, data_url, jpeg, png


@pytest.mark.parametrize(
    ("data", "media_type", "size"),
    [
        (png(4, 3), "image/png", (4, 3)),
        (GIF, "image/gif", (1, 1)),
        (WEBP, "image/webp", (1, 1)),
        (jpeg(3, 2), "image/jpeg", (3, 2)),
    ],
)
def test_type_and_size_come_from_the_bytes(
    tmp_path: Path, data: bytes, media_type: str, size: tuple[int, int]
) -> None:
    path = tmp_path / "picture.txt"  # the name says nothing
    path.write_bytes(data)
    image = load_image(str(path), "alt")
    assert (image.media_type, image.data, image.alt) == (media_type, data, "alt")
    assert images.dimensions(data) == size


def test_other_files_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.png"
    path.write_text("not an image at all")
    with pytest.raises(ImageError, match="not a PNG, JPEG, GIF or WebP image"):
        load_image(str(path))
    assert sniff(b"%PDF-1.7") is None


def test_missing_files_say_so(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="does not exist"):
        load_image("gone.png", base_dir=tmp_path)


def test_relative_paths_are_read_from_the_base_dir(tmp_path: Path) -> None:
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "a.gif").write_bytes(GIF)
    assert load_image("img/a.gif", base_dir=tmp_path).media_type == "image/gif"


def test_oversized_images_are_refused_with_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.png"
    path.write_bytes(png() + b"\0" * (20 * images.MB))
    with pytest.raises(ImageError, match="at most 20 MB per image"):
        load_image(str(path))
    medium = images.image_from_bytes(png() + b"\0" * (6 * images.MB), "", "m.png", what="m")
    assert check_size(medium, "chat") is None
    assert "the Anthropic API takes at most 5 MB per image" in (
        check_size(medium, "messages") or ""
    )


def test_data_urls_are_decoded_and_checked() -> None:
    image = load_image(data_url(GIF, "image/png"))  # the declared type is not trusted
    assert image.media_type == "image/gif" and image.data == GIF
    assert image.data_url() == data_url(GIF, "image/gif")
    with pytest.raises(ImageError, match="damaged"):
        load_image("data:image/png;base64,@@@@")
    with pytest.raises(ImageError, match="not a PNG"):
        load_image(data_url(b"hello world"))


def test_remote_urls_are_sent_as_urls() -> None:
    image = load_image("https://example.com/cat.jpg", "cat")
    assert image.url == "https://example.com/cat.jpg" and not image.data
    assert image.data_url() == image.url
