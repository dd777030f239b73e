"""Light, dark, or the system's colour scheme (the default).

An explicit choice also sets a matching palette, so it holds on platforms that ignore the
colour-scheme hint; "system" gives the platform back its own palette.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QGuiApplication,
    QIcon,
    QPainter,
    QPalette,
    QPen,
    QPixmap,
    QPolygonF,
)
from PySide6.QtWidgets import QApplication

_DEFAULT_PALETTE: QPalette | None = None


def _dark_palette() -> QPalette:
    palette = QPalette()
    role = QPalette.ColorRole
    colours = {
        role.Window: "#202124", role.WindowText: "#e8eaed", role.Base: "#17181a",
        role.AlternateBase: "#26282b", role.Text: "#e8eaed", role.Button: "#2b2d31",
        role.ButtonText: "#e8eaed", role.Highlight: "#3d6fb6", role.HighlightedText: "#ffffff",
        role.ToolTipBase: "#2b2d31", role.ToolTipText: "#e8eaed", role.PlaceholderText: "#80868b",
        role.Link: "#8ab4f8", role.Mid: "#5f6368",
        # The bevel roles: left at QPalette()'s light defaults, frames and the tab bar's
        # base line were drawn white on the dark window.
        role.Light: "#3c4043", role.Midlight: "#303134", role.Dark: "#121314",
        role.Shadow: "#000000",
    }  # fmt: skip
    for key, value in colours.items():
        palette.setColor(key, QColor(value))
    palette.setColor(QPalette.ColorGroup.Disabled, role.Text, QColor("#6f7378"))
    palette.setColor(QPalette.ColorGroup.Disabled, role.ButtonText, QColor("#6f7378"))
    palette.setColor(QPalette.ColorGroup.Disabled, role.WindowText, QColor("#6f7378"))
    return palette


def palette_is_dark(palette: QPalette | None = None) -> bool:
    """Whether ``palette`` (the application's by default) is dark: light text on a dark base."""
    return (palette or QGuiApplication.palette()).base().color().lightness() < 128


def apply_theme(theme: str) -> bool:
    """Apply ``system``, ``light`` or ``dark``; returns True when the result is dark."""
    global _DEFAULT_PALETTE
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    if _DEFAULT_PALETTE is None:
        _DEFAULT_PALETTE = QPalette(app.palette())
    hints = QGuiApplication.styleHints()
    if theme == "dark":
        hints.setColorScheme(Qt.ColorScheme.Dark)
        app.setPalette(_dark_palette())
        return True
    app.setPalette(_DEFAULT_PALETTE)
    if theme == "light":
        hints.setColorScheme(Qt.ColorScheme.Light)
        return False
    hints.unsetColorScheme()
    scheme = hints.colorScheme()
    if scheme == Qt.ColorScheme.Unknown:  # no opinion from the platform: look at the palette
        return app.palette().window().color().lightness() < 128
    return scheme == Qt.ColorScheme.Dark


SYMBOLS = ("run", "stop", "close")
SYMBOL_SIZE = 16


def symbol_icon(kind: str, palette: QPalette, size: int = SYMBOL_SIZE) -> QIcon:
    """A run (triangle), stop (square) or close (cross) symbol in the palette's button text
    colour, and greyed for the disabled state, so it reads in light and dark themes alike
    (the style's standard icons are dark whatever the palette)."""
    icon = QIcon()
    screen = QGuiApplication.primaryScreen()
    ratio = max(2.0, screen.devicePixelRatio() if screen is not None else 1.0)
    for mode, group in ((QIcon.Mode.Normal, QPalette.ColorGroup.Active),
                        (QIcon.Mode.Disabled, QPalette.ColorGroup.Disabled)):  # fmt: skip
        colour = palette.color(group, QPalette.ColorRole.ButtonText)
        icon.addPixmap(_symbol_pixmap(kind, colour, size, ratio), mode)
    return icon


def _symbol_pixmap(kind: str, colour: QColor, size: int, ratio: float) -> QPixmap:
    pixmap = QPixmap(round(size * ratio), round(size * ratio))
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        unit = size / 16
        if kind == "run":
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            points = [QPointF(4.5, 3), QPointF(13, 8), QPointF(4.5, 13)]
            painter.drawPolygon(QPolygonF([QPointF(p.x() * unit, p.y() * unit) for p in points]))
        elif kind == "stop":
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            painter.drawRoundedRect(QRectF(4 * unit, 4 * unit, 8 * unit, 8 * unit), unit, unit)
        elif kind == "close":
            pen = QPen(colour, 1.8 * unit)
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            painter.setPen(pen)
            painter.drawLine(QPointF(4.5 * unit, 4.5 * unit), QPointF(11.5 * unit, 11.5 * unit))
            painter.drawLine(QPointF(11.5 * unit, 4.5 * unit), QPointF(4.5 * unit, 11.5 * unit))
        else:
            raise ValueError(f"no symbol {kind!r}; known: {', '.join(SYMBOLS)}")
    finally:
        painter.end()
    return pixmap


def contrast(first: QColor, second: QColor) -> float:
    """The WCAG contrast ratio of two colours (1 to 21)."""

    def luminance(colour: QColor) -> float:
        def channel(value: float) -> float:
            return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

        return (0.2126 * channel(colour.redF()) + 0.7152 * channel(colour.greenF())
                + 0.0722 * channel(colour.blueF()))  # fmt: skip

    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)
