#!/usr/bin/env python3
"""Build a standalone PromptStudio with PyInstaller, then smoke-test the bundle headless.

    python3 packaging/build.py              # build dist/promptstudio/, then test it
    python3 packaging/build.py --test-only  # test the bundle already in dist/
    python3 packaging/build.py --archive    # also pack it: dist/promptstudio-VERSION-OS-ARCH.*

The build runs in its own venv (build/standalone-venv/, next to PyInstaller's work files
in build/pyinstaller/), so the dev .venv stays exactly as pyproject.toml says. The
project goes into that venv as a wheel (not editable), so the bundle gets the same files
as `pip install .` does: the code and promptstudio.resources (prices, samples, icons).

The checks, all with a throwaway PROMPTSTUDIO_HOME and QT_QPA_PLATFORM=offscreen:
  1. `promptstudio --smoke` opens the main window, loads the library and exits 0; run
     twice (first launch installs the samples from the bundled resources, then a warm one);
  2. `promptstudio export --all` finds the sample prompts that launch installed;
  3. `promptstudio render` prints the messages of a small template;
  4. `promptstudio run --json` streams from a fake OpenAI-compatible server on 127.0.0.1
     (the openai SDK works frozen) and prices the answer from the bundled prices.json.
Exits non-zero if the build or any check fails. Needs Python >= 3.11 and pip access to
PyPI for the build venv (nothing else is downloaded).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build"
VENV = BUILD / "standalone-venv"
WORK = BUILD / "pyinstaller"
DIST = ROOT / "dist"
NAME = "promptstudio"  # the executable; Qt derives the X11 WM_CLASS instance from it
BUNDLE = DIST / NAME
PYINSTALLER = "pyinstaller>=6.10"
SMOKE_TIMEOUT_S = 180
ENTRY_SCRIPT = '''"""PyInstaller's entry point: the same main() as the `promptstudio` command."""
import sys

from promptstudio.cli import main

sys.exit(main())
'''


def step(message: str) -> None:
    print(f"\n== {message}", flush=True)


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def app_bundle() -> Path:
    """macOS: the .app PyInstaller makes beside the plain folder when building windowed."""
    return DIST / f"{NAME}.app"


def executable() -> Path:
    if sys.platform == "darwin" and app_bundle().exists():
        return app_bundle() / "Contents" / "MacOS" / NAME
    return BUNDLE / (f"{NAME}.exe" if os.name == "nt" else NAME)


def run(command: list[str | Path], cwd: Path = ROOT) -> None:
    subprocess.run([str(part) for part in command], check=True, cwd=cwd)


def prepare_venv() -> Path:
    """The build venv with PyInstaller and this checkout installed as a wheel."""
    python = venv_python()
    if not python.exists():
        step(f"creating the build venv {VENV.relative_to(ROOT)}")
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    pip: list[str | Path] = [python, "-m", "pip", "--disable-pip-version-check", "-q"]
    step("installing PyInstaller and PromptStudio (a wheel of this checkout) into it")
    extra = ["pillow"] if sys.platform in ("win32", "darwin") else []  # PNG -> .ico / .icns
    run([*pip, "install", "--upgrade", "pip"])
    run([*pip, "install", PYINSTALLER, *extra, ROOT])
    # The same version number would count as "already satisfied": take this tree's files.
    # setuptools copies into build/lib and never deletes: clear it, or a module removed
    # from the tree would still be in the wheel.
    for scratch in [BUILD / "lib", *BUILD.glob("bdist.*")]:
        shutil.rmtree(scratch, ignore_errors=True)
    run([*pip, "install", "--no-deps", "--force-reinstall", ROOT])
    return python


def build(python: Path, *, windowed: bool) -> float:
    """Run PyInstaller (one folder, not one file: starts faster, nothing unpacked to /tmp)."""
    WORK.mkdir(parents=True, exist_ok=True)
    entry = WORK / "promptstudio_main.py"
    entry.write_text(ENTRY_SCRIPT, encoding="utf-8")
    icons = ROOT / "resources" / "icons"
    command: list[str | Path] = [
        python, "-m", "PyInstaller", entry,
        "--noconfirm", "--log-level", "WARN",
        "--name", NAME,
        "--distpath", DIST, "--workpath", WORK, "--specpath", WORK,
        # promptstudio.resources is data read through importlib.resources: nothing imports
        # it, so name it, and take every non-Python file of the package (prices, samples,
        # icons) into the bundle.
        "--collect-submodules", "promptstudio",
        "--hidden-import", "promptstudio.resources",
        "--collect-data", "promptstudio",
        # Not used by the app; saves space.
        "--exclude-module", "tkinter",
    ]  # fmt: skip
    if sys.platform == "win32":
        # By default a console program, so the command-line commands print; --windowed
        # hides the console (and their output): see packaging/README.md.
        command += ["--icon", icons / "promptstudio-256.png"]
        if windowed:
            command.append("--windowed")
    elif sys.platform == "darwin":
        # Always windowed here: that is what makes the .app.
        command += ["--windowed", "--icon", icons / "promptstudio-512.png",
                    "--osx-bundle-identifier", "io.github.promptstudio.PromptStudio"]  # fmt: skip
    step("running PyInstaller")
    started = time.perf_counter()
    # Not from ROOT: `python -m` puts the working directory first on sys.path, and the
    # source tree's promptstudio/ (which has no resources/ inside) would shadow the wheel.
    run(command, cwd=WORK)
    return time.perf_counter() - started


def folder_size(path: Path) -> tuple[int, int]:
    files = [p for p in path.rglob("*") if p.is_file() and not p.is_symlink()]
    return sum(p.stat().st_size for p in files), len(files)


def check_bundled_resources() -> None:
    """The data files are in the bundle where importlib.resources will look for them."""
    found = {p.relative_to(DIST).as_posix() for p in DIST.rglob("*") if p.is_file()}
    wanted = ["prices.json", "samples/samples.json", "icons/promptstudio.svg",
              "icons/promptstudio-16.png", "icons/promptstudio-512.png"]  # fmt: skip
    for name in wanted:
        suffix = f"promptstudio/resources/{name}"
        if not any(path.endswith(suffix) for path in found):
            raise SystemExit(f"build: {suffix} is missing from the bundle")
    print(f"bundled resources: {', '.join(wanted)}")


class Smoke:
    """Runs the bundled executable with a throwaway home, headless, and times each call."""

    def __init__(self, exe: Path, home: Path) -> None:
        self.exe = exe
        self.home = home
        self.env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PROMPTSTUDIO_HOME": str(home)}
        self.env.pop("PYTHONPATH", None)
        self.timings: list[tuple[str, float, int]] = []

    def __call__(self, label: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        started = time.perf_counter()
        try:
            done = subprocess.run(
                [str(self.exe), *args], env=self.env, cwd=cwd, capture_output=True, text=True,
                timeout=SMOKE_TIMEOUT_S, stdin=subprocess.DEVNULL,
            )  # fmt: skip
        except subprocess.TimeoutExpired as exc:
            raise SystemExit(f"smoke: {label} did not finish in {SMOKE_TIMEOUT_S} s") from exc
        elapsed = time.perf_counter() - started
        self.timings.append((label, elapsed, done.returncode))
        print(f"{label:<28} {elapsed:7.2f} s  exit {done.returncode}", flush=True)
        if done.returncode != 0:
            raise SystemExit(f"smoke: {label} failed\n{done.stdout}\n{done.stderr}")
        return done


def smoke_test(exe: Path) -> list[tuple[str, float, int]]:
    sys.path.insert(0, str(ROOT))
    from tests.fake_llm import FakeLLM, Reply  # stdlib only: runs with any Python

    with tempfile.TemporaryDirectory(prefix="promptstudio-smoke-") as scratch:
        tmp = Path(scratch)
        home = tmp / "home"
        smoke = Smoke(exe, home)

        smoke("gui --smoke (first launch)", "--smoke", cwd=tmp)
        smoke("gui --smoke (warm)", "--smoke", cwd=tmp)
        log_text = (home / "logs" / "promptstudio.log").read_text(encoding="utf-8")
        if "installed" not in log_text or "sample prompts" not in log_text:
            raise SystemExit(f"smoke: the first launch installed no samples\n{log_text}")
        if "no app icon found" in log_text:
            raise SystemExit(f"smoke: the app found no icon in the bundle\n{log_text}")

        smoke("export --all (the samples)", "export", "--all", "-o", str(tmp / "out"), cwd=tmp)
        manifest = json.loads((ROOT / "resources" / "samples" / "samples.json").read_text("utf-8"))
        entries = manifest["samples"]
        exported = [p for p in (tmp / "out").rglob("*") if p.is_file()]
        if len(exported) < len(entries):
            raise SystemExit(f"smoke: {len(entries)} samples expected, {len(exported)} exported")

        template = tmp / "greet.prompt"
        template.write_text("system:\nYou are {{ role }}.\nuser:\nHello, {{ name }}!\n", "utf-8")
        done = smoke("render", "render", str(template), "--var", "role=terse",
                     "--var", "name=Ada", cwd=tmp)  # fmt: skip
        messages = json.loads(done.stdout)["messages"]
        if messages != [{"role": "system", "content": "You are terse."},
                        {"role": "user", "content": "Hello, Ada!"}]:  # fmt: skip
            raise SystemExit(f"smoke: render printed {done.stdout}")

        with FakeLLM() as server:
            server.script(Reply(text="Four."))
            done = smoke("run --json (fake server)", "run", str(template), "--var", "role=x",
                         "--var", "name=y", "--base-url", server.base_url,
                         "--model", "gpt-4o-mini", "--json", cwd=tmp)  # fmt: skip
        summary = json.loads(done.stdout)
        if summary["text"] != "Four." or not summary.get("cost"):
            raise SystemExit(f"smoke: run printed {done.stdout}")
        return smoke.timings


def archive() -> Path:
    system = {"win32": "windows", "darwin": "macos"}.get(sys.platform, sys.platform)
    from promptstudio import __version__  # the checkout's, the same as the bundle's

    base = DIST / f"{NAME}-{__version__}-{system}-{platform.machine().lower()}"
    fmt = "zip" if os.name == "nt" else "gztar"
    source = app_bundle() if sys.platform == "darwin" else BUNDLE
    return Path(shutil.make_archive(str(base), fmt, root_dir=source.parent, base_dir=source.name))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--test-only", action="store_true", help="test the existing bundle")
    parser.add_argument("--archive", action="store_true", help="also pack the bundle")
    parser.add_argument("--windowed", action="store_true", help="Windows: no console window")
    args = parser.parse_args(argv)
    if sys.version_info < (3, 11):  # noqa: UP036 (may be started by an older python3)
        sys.exit("build: needs Python >= 3.11")

    build_s = None
    if not args.test_only:
        python = prepare_venv()
        build_s = build(python, windowed=args.windowed)
    exe = executable()
    if not exe.exists():
        sys.exit(f"build: no bundle at {exe}; run without --test-only first")
    check_bundled_resources()
    size, count = folder_size(app_bundle() if sys.platform == "darwin" else BUNDLE)

    step(f"smoke-testing {exe.relative_to(ROOT)} (offscreen, throwaway home)")
    timings = smoke_test(exe)

    step("summary")
    if build_s is not None:
        print(f"{'PyInstaller build':<28} {build_s:7.1f} s")
    print(f"{'bundle':<28} {size / 2**20:7.1f} MiB in {count} files ({exe.parent})")
    if args.archive:
        packed = archive()
        print(f"{'archive':<28} {packed.stat().st_size / 2**20:7.1f} MiB ({packed.name})")
    for label, seconds, code in timings:
        print(f"{label:<28} {seconds:7.2f} s  exit {code}")
    print("all smoke checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
