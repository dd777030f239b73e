"""Packaging stays consistent: resources ship in the wheel, icons match their SVG, the
desktop entry and AppStream metadata agree with what the app sets.

Offline and fast. The slow checks that build things (the wheel installed in a fresh venv,
the PyInstaller bundle) are packaging/check_wheel.py and packaging/build.py; set
PROMPTSTUDIO_PACKAGING_TESTS=1 to run the wheel check here too (it needs PyPI).
"""

from __future__ import annotations

import ast
import configparser
import fnmatch
import importlib.metadata
import importlib.util
import inspect
import os
import re
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from promptstudio import APP_NAME, __version__
from promptstudio.ui import app

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
RESOURCES = ROOT / "resources"
METAINFO = PACKAGING / "io.github.promptstudio.PromptStudio.metainfo.xml"
DESKTOP = PACKAGING / "promptstudio.desktop"


def _pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _render_icons() -> ModuleType:
    spec = importlib.util.spec_from_file_location("render_icons", PACKAGING / "render_icons.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_resource_file_is_declared_for_the_wheel() -> None:
    setuptools = _pyproject()["tool"]["setuptools"]
    assert setuptools["package-dir"]["promptstudio.resources"] == "resources"
    packages, package_data = setuptools["packages"], setuptools["package-data"]
    files = [p for p in RESOURCES.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    assert files
    for path in files:
        relative = path.relative_to(RESOURCES)
        package = ".".join(["promptstudio.resources", *relative.parent.parts])
        assert package in packages, f"{relative}: add {package!r} to [tool.setuptools] packages"
        if path.suffix == ".py":
            continue
        patterns = package_data.get(package, [])
        assert any(fnmatch.fnmatch(path.name, p) for p in patterns), (
            f"{relative}: no [tool.setuptools.package-data] pattern of {package!r} matches it"
        )


def _imported_packages(folder: Path) -> set[str]:
    """The third-party top-level modules that the code under ``folder`` imports."""
    names: set[str] = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"promptstudio", "tests", "__future__"}


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _distributions(requirements: list[str]) -> set[str]:
    return {_normal(re.split(r"[ <>=!~;\[]", req, maxsplit=1)[0]) for req in requirements}


def _declaring(module: str) -> set[str]:
    return {_normal(d) for d in importlib.metadata.packages_distributions().get(module, [])}


def test_what_the_code_imports_is_declared_and_what_is_declared_is_imported() -> None:
    project = _pyproject()["project"]
    runtime = _distributions(project["dependencies"])
    dev = _distributions(project["optional-dependencies"]["dev"])
    used = _imported_packages(ROOT / "promptstudio")
    assert not {m for m in used if not _declaring(m) & runtime}, "undeclared imports"
    tests = _imported_packages(ROOT / "tests")
    assert not {m for m in tests if not _declaring(m) & (runtime | dev)}, "undeclared in dev"
    imported_dists = set().union(*(_declaring(m) for m in used))
    assert runtime - imported_dists == set(), "declared but never imported"


def test_the_icon_pngs_are_rendered_from_the_current_svg(qapp: object) -> None:
    from PySide6.QtGui import QImage

    render_icons = _render_icons()
    assert render_icons.SIZES == app.ICON_SIZES
    for size in render_icons.SIZES:
        shipped = QImage(str(render_icons.png_path(size)))
        assert (shipped.width(), shipped.height()) == (size, size)
        fresh = QImage.fromData(render_icons.render(size))
        a = bytes(shipped.convertToFormat(QImage.Format.Format_ARGB32).constBits())
        b = bytes(fresh.convertToFormat(QImage.Format.Format_ARGB32).constBits())
        # Not byte-equal: another Qt version may antialias a little differently.
        mean_difference = sum(abs(x - y) for x, y in zip(a, b, strict=True)) / len(a)
        assert mean_difference < 2, (
            f"promptstudio-{size}.png is stale: run packaging/render_icons.py"
        )


def test_the_app_icon_holds_every_size(qapp: object) -> None:
    icon = app.app_icon()
    sizes = sorted(s.width() for s in icon.availableSizes())
    assert sizes == [*app.ICON_SIZES, app.SVG_ICON_SIZE]
    assert not icon.pixmap(16).isNull()


def _desktop_entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(DESKTOP, encoding="utf-8")
    return parser["Desktop Entry"]


def test_the_desktop_entry_matches_what_the_app_sets() -> None:
    entry = _desktop_entry()
    # Qt on X11 sets WM_CLASS to (argv[0]'s name, applicationName): the class part is ours.
    assert entry["StartupWMClass"] == APP_NAME
    # On Wayland the app id is the desktop file name Qt is given; it must name this file.
    assert f'app.setDesktopFileName("{DESKTOP.stem}")' in inspect.getsource(app.run_app)
    assert entry["Icon"] == app.ICON_NAME
    command = entry["Exec"].split()[0]
    assert command in _pyproject()["project"]["gui-scripts"]
    assert entry["Type"] == "Application"


def test_the_appstream_metadata_has_the_required_tags() -> None:
    component = ET.parse(METAINFO).getroot()
    assert component.tag == "component"
    assert component.get("type") == "desktop-application"
    text = {tag: (component.findtext(tag) or "").strip() for tag in
            ("id", "metadata_license", "project_license", "name", "summary")}  # fmt: skip
    assert text["id"] == METAINFO.name.removesuffix(".metainfo.xml")
    assert text["metadata_license"] in {"CC0-1.0", "FSFAP", "MIT", "CC-BY-4.0"}
    assert text["project_license"] == _pyproject()["project"]["license"]
    assert text["name"] == APP_NAME
    assert 0 < len(text["summary"]) <= 80
    assert component.find("description/p") is not None
    launchable = component.find("launchable")
    assert launchable is not None and launchable.get("type") == "desktop-id"
    assert launchable.text == DESKTOP.name
    assert component.find("developer/name") is not None
    versions = [r.get("version") for r in component.iterfind("releases/release")]
    assert __version__ in versions, "add a <release> for the current version"


@pytest.mark.skipif(
    os.environ.get("PROMPTSTUDIO_PACKAGING_TESTS") != "1",
    reason="builds and installs the wheel from PyPI; set PROMPTSTUDIO_PACKAGING_TESTS=1",
)
def test_the_wheel_installs_and_runs_outside_the_tree() -> None:
    done = subprocess.run(
        [sys.executable, str(PACKAGING / "check_wheel.py")],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
