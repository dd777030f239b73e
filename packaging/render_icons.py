"""Render resources/icons/promptstudio.svg to the PNG sizes desktops and installers ask for.

    .venv/bin/python packaging/render_icons.py          # rewrite the PNGs
    .venv/bin/python packaging/render_icons.py --check  # exit 1 if any PNG is out of date

Run it after editing the SVG and commit the PNGs with it. Rendering uses Qt's own SVG
renderer offscreen, so it needs no display and nothing beyond the dev venv.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"
SVG = ICONS / "promptstudio.svg"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def png_path(size: int) -> Path:
    return ICONS / f"promptstudio-{size}.png"


def render(size: int) -> bytes:
    """The icon at ``size`` × ``size`` pixels as PNG bytes (transparent background)."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(SVG))
    if not renderer.isValid():
        raise SystemExit(f"render_icons: {SVG} is not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(0)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    straight = image.convertToFormat(QImage.Format.Format_ARGB32)
    straight.save(buffer, "PNG")  # type: ignore[call-overload]  # stubs: bytes; runtime: str
    buffer.close()
    return bytes(data.data())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale PNGs")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 (kept alive)
    stale = []
    for size in SIZES:
        png = render(size)
        target = png_path(size)
        if target.exists() and target.read_bytes() == png:
            continue
        stale.append(target.name)
        if not args.check:
            target.write_bytes(png)
    if args.check:
        if stale:
            print("render_icons: out of date: " + ", ".join(stale), file=sys.stderr)
            return 1
        return 0
    print(f"render_icons: wrote {len(stale)} of {len(SIZES)} PNGs in {ICONS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
