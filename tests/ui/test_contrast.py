"""Issue 22: text ≥ 4.5:1, controls and the focus frame ≥ 3:1, in both themes (WCAG 2.2 AA,
relative luminance as WCAG defines it)."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QCheckBox, QLabel

from promptstudio.templating import TemplateError
from promptstudio.ui.main_window import MainWindow
from promptstudio.ui.theme import (
    CONTROL_CONTRAST,
    TEXT_CONTRAST,
    TEXT_PAIRS,
    apply_theme,
    contrast,
    control_border,
    focus_colour,
    opaque,
    status_colours,
    verdict_colours,
)

Role = QPalette.ColorRole


def test_wcag_contrast_is_computed_as_wcag_says() -> None:
    assert contrast(QColor("#000000"), QColor("#ffffff")) == pytest.approx(21.0)
    assert contrast(QColor("#767676"), QColor("#ffffff")) == pytest.approx(4.54, abs=0.01)
    half = QColor(0, 0, 0, 128)  # a translucent text is judged as it shows
    assert opaque(half, QColor("#ffffff")).name() == "#7f7f7f"


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_theme_pairs_meet_wcag_aa(qapp, theme: str) -> None:
    apply_theme(theme)
    palette = QApplication.palette()
    for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
        for text, backgrounds in TEXT_PAIRS:
            for background in backgrounds:
                behind = palette.color(group, background)
                shown = opaque(palette.color(group, text), behind)
                assert contrast(shown, behind) >= TEXT_CONTRAST, (theme, text, background)
        selected = contrast(
            palette.color(group, Role.HighlightedText), palette.color(group, Role.Highlight)
        )
        assert selected >= TEXT_CONTRAST, (theme, "selection")
    for surface in (palette.color(Role.Window), palette.color(Role.Base)):
        assert contrast(focus_colour(palette), surface) >= CONTROL_CONTRAST
        assert contrast(control_border(palette), surface) >= CONTROL_CONTRAST
        for kind, colour in status_colours(palette).items():
            assert contrast(QColor(colour), surface) >= TEXT_CONTRAST, (theme, kind)
    apply_theme("system")


def test_status_texts_follow_the_theme(window: MainWindow, qtbot) -> None:
    """Template OK / the error link and a run's error take the theme's status colours."""
    status = window.template_status
    for theme in ("dark", "light"):
        window.set_theme(theme)
        window.workspace.analysed.emit(None)
        assert status_colours()["ok"] in status.styleSheet()
    window.set_theme("dark")
    assert status_colours()["ok"] in status.styleSheet()  # recoloured with the theme
    column = window.run_board.columns[0]
    assert status_colours()["error"] in column.error.styleSheet()
    window.set_theme("light")
    assert status_colours()["error"] in column.error.styleSheet()
    window.set_theme("system")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_symbols_and_check_boxes_show(window: MainWindow, theme: str) -> None:
    """The run column's ▶ and an empty check box's border stand out ≥ 3:1."""
    window.set_theme(theme)
    QApplication.processEvents()
    background = QApplication.palette().color(Role.Window)
    column = window.run_board.columns[0]
    icon = column.run_button.icon().pixmap(16, 16).toImage()
    best = max(contrast(icon.pixelColor(x, 8), background) for x in range(16))
    assert best >= CONTROL_CONTRAST
    box = QCheckBox("Fresh answers")
    box.resize(150, 24)
    image = box.grab().toImage()
    best = max(
        contrast(image.pixelColor(x, y), background)
        for x in range(min(20, image.width()))
        for y in range(image.height())
    )
    assert best >= CONTROL_CONTRAST
    label = QLabel("hint")
    label.setForegroundRole(Role.PlaceholderText)  # how Settings shows its hints
    assert contrast(label.palette().color(Role.PlaceholderText), background) >= TEXT_CONTRAST
    window.set_theme("system")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_settings_hints_read_on_their_tab_page(window: MainWindow, theme: str) -> None:
    """The hints under each setting, as drawn on the tab's page (lighter than the window in
    the dark theme), reach 4.5:1."""
    window.set_theme(theme)
    dialog = window.open_settings()
    QApplication.processEvents()
    hint = next(
        label
        for label in dialog.findChildren(QLabel)
        if label.foregroundRole() == Role.PlaceholderText and label.isVisible()
    )
    image = dialog.grab().toImage()
    ratio = image.devicePixelRatio()
    top_left = hint.mapTo(dialog, hint.rect().topLeft())
    pixels = [
        image.pixelColor(round((top_left.x() + x) * ratio), round((top_left.y() + y) * ratio))
        for x in range(hint.width())
        for y in range(hint.height())
    ]
    counts: dict[str, int] = {}
    for pixel in pixels:
        counts[pixel.name()] = counts.get(pixel.name(), 0) + 1
    background = QColor(max(counts, key=lambda name: counts[name]))
    assert max(contrast(pixel, background) for pixel in pixels) >= TEXT_CONTRAST
    dialog.close()
    window.set_theme("system")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_library_star_shows_on_either_base(qapp, theme: str) -> None:
    from promptstudio.ui.library.library_look import STAR_COLOUR

    apply_theme(theme)
    base = QApplication.palette().color(Role.Base)
    assert contrast(STAR_COLOUR, base) >= CONTROL_CONTRAST
    apply_theme("system")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_evaluation_cells_read_in_either_theme(qapp, theme: str) -> None:
    """A pass, fail (a failed request too), flipped or flaky cell: its text ≥ 4.5:1 on its
    background, the background on the theme's side, both from the theme."""
    from promptstudio.ui.evaluate.eval_grid_model import verdict_colour

    apply_theme(theme)
    dark = theme == "dark"
    for kind in ("pass", "fail", "flip", "flaky"):
        text, background = verdict_colours(kind)
        assert contrast(text, background) >= TEXT_CONTRAST, (theme, kind)
        assert (background.lightness() < 128) is dark
        assert verdict_colour(kind) == text
        assert verdict_colour(kind, background=True) == background
    apply_theme("system")


def test_template_error_marks_follow_the_theme_at_once(window: MainWindow, qtbot) -> None:
    """The editor's underline and line number and the status bar's error link take the
    theme's error colour (≥ 3:1 on the base as marks, 4.5:1 as the link's text) and change
    with the theme at once, not at the next analysis."""
    editor = window.editor
    editor.setPlainText("user:\n{{ broken")
    window.set_theme("dark")
    editor.set_error(2, 4)
    window.workspace.analysed.emit(TemplateError("unclosed", 2, 4))
    for theme in ("light", "dark"):
        window.set_theme(theme)  # no new analysis
        error = status_colours()["error"]
        base = QApplication.palette().color(Role.Base)

        def underline() -> QColor:
            mark = editor.extraSelections()[-1]
            return QColor(mark.format.underlineColor())

        qtbot.waitUntil(lambda want=error: underline().name() == want)  # a posted palette change
        assert contrast(underline(), base) >= CONTROL_CONTRAST
        assert f"color: {error}" in window.template_status.text()
        assert contrast(QColor(error), base) >= TEXT_CONTRAST
    window.set_theme("system")


def test_local_setup_problem_text_takes_the_theme_error_colour(qapp, qtbot, tmp_path) -> None:
    """The local model set-up's "what is missing" line: the theme's error colour (the
    hard-coded red was 3.3:1 on the dark window)."""
    from promptstudio.ui.local_setup_dialog import LocalSetupDialog

    apply_theme("dark")
    dialog = LocalSetupDialog(tmp_path)
    qtbot.addWidget(dialog)
    assert status_colours()["error"] in dialog.missing.styleSheet()
    apply_theme("system")
