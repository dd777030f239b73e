"""Light, dark, or the system's colour scheme (the default).

An explicit choice also sets a matching palette, so it holds on platforms that ignore the
colour-scheme hint; "system" gives the platform back its own palette.
"""

from __future__ import annotations

from collections.abc import Sequence

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
from PySide6.QtWidgets import QApplication, QProxyStyle, QStyle, QWidget

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
    _use_controls_style(app)
    hints = QGuiApplication.styleHints()
    if theme == "dark":
        hints.setColorScheme(Qt.ColorScheme.Dark)
        app.setPalette(accessible_palette(_dark_palette()))
        _restyle_statuses()
        return True
    app.setPalette(accessible_palette(_DEFAULT_PALETTE))
    _restyle_statuses()
    if theme == "light":
        hints.setColorScheme(Qt.ColorScheme.Light)
        return False
    hints.unsetColorScheme()
    scheme = hints.colorScheme()
    if scheme == Qt.ColorScheme.Unknown:  # no opinion from the platform: look at the palette
        return app.palette().window().color().lightness() < 128
    return scheme == Qt.ColorScheme.Dark


# ---- contrast (WCAG 2.2 AA: text 4.5:1, controls and the focus indicator 3:1) ----------------

TEXT_CONTRAST = 4.5
CONTROL_CONTRAST = 3.0
_role = QPalette.ColorRole
TEXT_PAIRS = (  # text role, the backgrounds it is drawn on
    (_role.Text, (_role.Base, _role.AlternateBase)),
    (_role.WindowText, (_role.Window,)),
    (_role.ButtonText, (_role.Button,)),
    # Hints are drawn on the window, and on a tab's page (Fusion: about as light as Light).
    (_role.PlaceholderText, (_role.Base, _role.Window, _role.Light)),
    (_role.Link, (_role.Base, _role.Window, _role.Light)),
    (_role.ToolTipText, (_role.ToolTipBase,)),
)
STATUS = {"ok": ("#1e7b34", "#81c995"), "error": ("#b3261e", "#f28b82")}  # light, dark


def opaque(colour: QColor, background: QColor) -> QColor:
    """``colour`` as it shows over ``background`` (its alpha blended in)."""
    alpha = colour.alphaF()
    return QColor.fromRgbF(
        colour.redF() * alpha + background.redF() * (1 - alpha),
        colour.greenF() * alpha + background.greenF() * (1 - alpha),
        colour.blueF() * alpha + background.blueF() * (1 - alpha),
    )


def ensure_contrast(colour: QColor, backgrounds: Sequence[QColor], target: float) -> QColor:
    """``colour``, made darker or lighter (away from the backgrounds) just until it reaches
    ``target`` against every background; unchanged when it already does."""
    shown = opaque(colour, backgrounds[0])
    if all(contrast(shown, b) >= target for b in backgrounds):
        return colour
    darker = sum(b.lightnessF() for b in backgrounds) / len(backgrounds) >= 0.5
    end = QColor("#000000" if darker else "#ffffff")
    for step in range(1, 41):
        share = step / 40
        mixed = QColor.fromRgbF(
            shown.redF() + (end.redF() - shown.redF()) * share,
            shown.greenF() + (end.greenF() - shown.greenF()) * share,
            shown.blueF() + (end.blueF() - shown.blueF()) * share,
        )
        if all(contrast(mixed, b) >= target for b in backgrounds):
            return mixed
    return end


def accessible_palette(palette: QPalette) -> QPalette:
    """``palette`` with every text colour at ≥ 4.5:1 on what it is drawn on, and the
    selection dark (or light) enough for its text: only what falls short is changed."""
    fixed = QPalette(palette)
    for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
        for text, backgrounds in TEXT_PAIRS:
            behind = [fixed.color(group, b) for b in backgrounds]
            fixed.setColor(group, text, ensure_contrast(fixed.color(group, text), behind, 4.5))
        selected = fixed.color(group, _role.HighlightedText)
        highlight = ensure_contrast(fixed.color(group, _role.Highlight), [selected], 4.5)
        fixed.setColor(group, _role.Highlight, highlight)
    return fixed


def focus_colour(palette: QPalette | None = None) -> QColor:
    """The focus frame's colour: the selection colour, at ≥ 3:1 on the window and the base."""
    palette = palette or QGuiApplication.palette()
    backgrounds = [palette.color(_role.Window), palette.color(_role.Base)]
    return ensure_contrast(palette.color(_role.Highlight), backgrounds, CONTROL_CONTRAST)


def status_colours(palette: QPalette | None = None) -> dict[str, str]:
    """The colours of ``ok`` and ``error`` texts in the palette's theme (≥ 4.5:1)."""
    palette = palette or QGuiApplication.palette()
    dark = palette_is_dark(palette)
    backgrounds = [palette.color(_role.Window), palette.color(_role.Base)]
    return {
        kind: ensure_contrast(QColor(pair[dark]), backgrounds, TEXT_CONTRAST).name()
        for kind, pair in STATUS.items()
    }


# A verdict's cell in the evaluation grid: (background, text) in the light and the dark
# theme; the backgrounds are soft and opaque, the text is raised to 4.5:1 on them if need be.
VERDICTS = {
    "pass": (("#dcf5e3", "#116329"), ("#1c3d27", "#7ee2a0")),
    "fail": (("#fde2e1", "#a40e26"), ("#4a2123", "#ffa198")),
    "flip": (("#ffe08a", "#4d3800"), ("#5c4500", "#ffe08a")),
    "flaky": (("#ece2fd", "#5b2a9e"), ("#3b2a5c", "#d2b8ff")),
}


def verdict_colours(kind: str, palette: QPalette | None = None) -> tuple[QColor, QColor]:
    """The (text, background) colours of a ``pass``, ``fail``, ``flip`` or ``flaky`` cell in
    the palette's theme: the text ≥ 4.5:1 on the background."""
    background, text = VERDICTS[kind][palette_is_dark(palette)]
    behind = QColor(background)
    return ensure_contrast(QColor(text), [behind], TEXT_CONTRAST), behind


def error_mark_colour(palette: QPalette | None = None) -> QColor:
    """An error's underline and line number in an editor: the theme's error colour (≥ 4.5:1
    on the base, so ≥ 3:1 as a mark)."""
    return QColor(status_colours(palette)["error"])


def set_status(widget: QWidget, kind: str | None) -> None:
    """Colour ``widget``'s text as an ``ok`` or ``error`` status (None: plain), in the
    theme's colour, and again whenever the theme changes."""
    widget.setProperty("status", kind)
    widget.setStyleSheet(f"color: {status_colours()[kind]};" if kind else "")


def _restyle_statuses() -> None:
    for widget in QApplication.allWidgets():
        kind = widget.property("status")
        if isinstance(kind, str) and kind in STATUS:
            set_status(widget, kind)


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


def control_border(palette: QPalette) -> QColor:
    """The border of a check box or radio button: ≥ 3:1 on the window and the base."""
    backgrounds = [palette.color(_role.Window), palette.color(_role.Base)]
    return ensure_contrast(palette.color(_role.Mid), backgrounds, CONTROL_CONTRAST)


class ControlsStyle(QProxyStyle):
    """The platform's style, with check boxes and radio buttons given a border that shows
    (Fusion draws it a shade off the window colour: 1.1:1 in the dark theme)."""

    BORDERED = (
        QStyle.PrimitiveElement.PE_IndicatorCheckBox,
        QStyle.PrimitiveElement.PE_IndicatorItemViewItemCheck,
    )

    def drawPrimitive(self, element, option, painter, widget=None) -> None:  # type: ignore[no-untyped-def]
        super().drawPrimitive(element, option, painter, widget)
        if element in self.BORDERED or element == QStyle.PrimitiveElement.PE_IndicatorRadioButton:
            painter.save()
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(QPen(control_border(option.palette), 1))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            rect = QRectF(option.rect).adjusted(0.5, 0.5, -1.5, -1.5)
            if element in self.BORDERED:
                painter.drawRoundedRect(rect, 2, 2)
            else:
                painter.drawEllipse(rect)
            painter.restore()


_CONTROLS_STYLE: ControlsStyle | None = None


def _use_controls_style(app: QApplication) -> None:
    global _CONTROLS_STYLE
    if not isinstance(app.style(), ControlsStyle):
        _CONTROLS_STYLE = ControlsStyle(app.style().name())
        app.setStyle(_CONTROLS_STYLE)
