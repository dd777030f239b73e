"""Light, dark, or the system's colour scheme (the default).

An explicit choice also sets a matching palette, so it holds on platforms that ignore the
colour-scheme hint; "system" gives the platform back its own palette.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
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
    }  # fmt: skip
    for key, value in colours.items():
        palette.setColor(key, QColor(value))
    palette.setColor(QPalette.ColorGroup.Disabled, role.Text, QColor("#6f7378"))
    palette.setColor(QPalette.ColorGroup.Disabled, role.ButtonText, QColor("#6f7378"))
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
