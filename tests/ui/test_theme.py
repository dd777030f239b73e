"""The dark palette is dark in every role a style draws with."""

from __future__ import annotations

from PySide6.QtGui import QPalette

from promptstudio.ui.theme import _dark_palette


def test_dark_bevels_and_disabled_text() -> None:
    palette = _dark_palette()
    role = QPalette.ColorRole
    window = palette.color(role.Window).lightness()
    # Frames and the tab bar's base line are drawn with these: none may be a light line.
    for bevel in (role.Light, role.Midlight, role.Dark, role.Shadow):
        assert palette.color(bevel).lightness() < 96, bevel
    assert palette.color(role.Light).lightness() > window  # still lighter than the window
    disabled = palette.color(QPalette.ColorGroup.Disabled, role.WindowText).lightness()
    enabled = palette.color(QPalette.ColorGroup.Active, role.WindowText).lightness()
    assert disabled < enabled - 60  # a disabled label or check box looks disabled
