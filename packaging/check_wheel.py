#!/usr/bin/env python3
"""Build the wheel, check it carries the resources, and run it from outside the source tree.

    python3 packaging/check_wheel.py           # build, install into a fresh venv, run it
    python3 packaging/check_wheel.py --quick   # build, unpack, run with this Python's deps

What `pip install .` and `pipx install .` get is the wheel, so this is the check that they
work: every file under resources/ must be in it as promptstudio/resources/..., and the
installed `promptstudio` must render a template and open its window (offscreen) with the
working directory and PROMPTSTUDIO_HOME in a temporary folder, far from this checkout.

The full check installs the wheel's dependencies from PyPI into a throwaway venv (a minute
or so with a warm pip cache). --quick installs nothing: it unpacks the wheel and runs it
with PYTHONPATH pointing there, on the dependencies of the Python running this script
(use the dev venv's: .venv/bin/python packaging/check_wheel.py --quick). Building the wheel
itself fetches setuptools into pip's isolated build environment unless this Python already
has setuptools >= 77.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import venv
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESOURCES = ROOT / "resources"
TIMEOUT_S = 600
TEMPLATE = "system:\nYou are {{ role }}.\nuser:\nHello, {{ name }}!\n"
EXPECTED = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Hello, Ada!"},
]
# Run by --quick inside the unpacked wheel: where everything is imported and read from.
PROBE = """
import json, promptstudio, promptstudio.resources
from promptstudio.providers.pricing import PriceTable
from promptstudio.samples import load_samples
from promptstudio.ui.app import icons_dir
print(json.dumps({"package": promptstudio.__file__, "prices": len(PriceTable.load().models),
                  "samples": len(load_samples()), "icons": str(icons_dir())}))
"""


def _setuptools_is_new_enough() -> bool:
    try:
        from importlib.metadata import version

        return int(version("setuptools").split(".")[0]) >= 77
    except Exception:
        return False


def clear_setuptools_scratch() -> None:
    """Remove build/lib and build/bdist.*: setuptools copies into them and never deletes,
    so a module removed from the tree would otherwise ride along in the next wheel."""
    build = ROOT / "build"
    for scratch in [build / "lib", *build.glob("bdist.*")]:
        shutil.rmtree(scratch, ignore_errors=True)


def build_wheel(out: Path) -> Path:
    clear_setuptools_scratch()
    command = [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q",
               "--disable-pip-version-check", "-w", str(out)]  # fmt: skip
    if _setuptools_is_new_enough():
        command.append("--no-build-isolation")  # nothing to download
    subprocess.run(command, check=True, cwd=out, timeout=TIMEOUT_S)
    (wheel,) = out.glob("promptstudio-*.whl")
    return wheel


def _in_tree(name: str) -> bool:
    """Whether a wheel path has its source in the checkout (resources/ is mapped)."""
    parts = name.split("/")
    if parts[1] == "resources":
        return RESOURCES.joinpath(*parts[2:]).is_file()
    return ROOT.joinpath(*parts).is_file()


def check_contents(wheel: Path) -> None:
    """Every resource file of the checkout is in the wheel; so is the GUI entry point."""
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        scripts = archive.read(entry_points).decode()
    wanted = sorted(
        "promptstudio/resources/" + path.relative_to(RESOURCES).as_posix()
        for path in RESOURCES.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    )
    missing = [name for name in wanted if name not in names]
    if missing:
        raise SystemExit("check_wheel: missing from the wheel:\n  " + "\n  ".join(missing))
    stale = [name for name in names if name.startswith("promptstudio/")
             and name.endswith(".py") and not _in_tree(name)]  # fmt: skip
    if stale:
        raise SystemExit("check_wheel: not in the source tree:\n  " + "\n  ".join(stale))
    if "[gui_scripts]" not in scripts or "promptstudio = promptstudio.cli:main" not in scripts:
        raise SystemExit(f"check_wheel: no promptstudio gui script in the wheel:\n{scripts}")
    kinds = {name.split("/")[2] for name in wanted if name.count("/") > 2}
    print(f"wheel {wheel.name}: all {len(wanted)} resource files "
          f"(top level and {', '.join(sorted(kinds))}) and the entry point")  # fmt: skip


def run(label: str, command: list[str], *, cwd: Path, env: dict[str, str]) -> str:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=TIMEOUT_S, stdin=subprocess.DEVNULL)  # fmt: skip
    print(f"{label:<28} exit {done.returncode}  {time.perf_counter() - started:6.2f} s")
    if done.returncode != 0:
        raise SystemExit(f"check_wheel: {label} failed\n{done.stdout}\n{done.stderr}")
    return done.stdout


def check_render(output: str) -> None:
    if json.loads(output)["messages"] != EXPECTED:
        raise SystemExit(f"check_wheel: render printed {output}")


def check_installed(wheel: Path, tmp: Path, env: dict[str, str]) -> None:
    """Install the wheel with its dependencies into a new venv; run the command and the app."""
    target = tmp / "venv"
    venv.EnvBuilder(with_pip=True).create(target)
    bindir = target / ("Scripts" if os.name == "nt" else "bin")
    python = str(bindir / ("python.exe" if os.name == "nt" else "python"))
    run("pip install (with deps)", [python, "-m", "pip", "install", "-q",
        "--disable-pip-version-check", str(wheel)], cwd=tmp, env=env)  # fmt: skip
    exe = str(bindir / ("promptstudio.exe" if os.name == "nt" else "promptstudio"))
    check_render(run("promptstudio render", [exe, "render", "t.prompt", "--var", "role=terse",
                     "--var", "name=Ada"], cwd=tmp, env=env))  # fmt: skip
    run("promptstudio --smoke", [exe, "--smoke"], cwd=tmp, env=env)
    log = (Path(env["PROMPTSTUDIO_HOME"]) / "logs" / "promptstudio.log").read_text("utf-8")
    if "sample prompts" not in log or "no app icon found" in log:
        raise SystemExit(f"check_wheel: samples or icon not found by the app\n{log}")


def check_unpacked(wheel: Path, tmp: Path, env: dict[str, str]) -> None:
    """Unpack the wheel and run it on this Python's dependencies (nothing installed)."""
    unpacked = tmp / "unpacked"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(unpacked)
    env = {**env, "PYTHONPATH": str(unpacked)}
    probe = json.loads(run("import from the wheel", [sys.executable, "-c", PROBE], cwd=tmp,
                           env=env))  # fmt: skip
    for key in ("package", "icons"):
        if not Path(probe[key]).is_relative_to(unpacked):
            raise SystemExit(f"check_wheel: {key} came from {probe[key]}, not the wheel")
    if not (probe["prices"] and probe["samples"]):
        raise SystemExit(f"check_wheel: no prices or samples in the wheel: {probe}")
    print(f"  from the wheel: {probe['prices']} prices, {probe['samples']} samples, icons")
    check_render(run("python -m promptstudio render", [sys.executable, "-m", "promptstudio",
                     "render", "t.prompt", "--var", "role=terse", "--var", "name=Ada"],
                     cwd=tmp, env=env))  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="unpack instead of installing")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="promptstudio-wheel-") as scratch:
        tmp = Path(scratch)
        started = time.perf_counter()
        wheel = build_wheel(tmp)
        print(f"pip wheel                    {time.perf_counter() - started:6.2f} s")
        check_contents(wheel)
        (tmp / "t.prompt").write_text(TEMPLATE, encoding="utf-8")
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen",
               "PROMPTSTUDIO_HOME": str(tmp / "home")}  # fmt: skip
        env.pop("PYTHONPATH", None)
        if args.quick:
            check_unpacked(wheel, tmp, env)
        else:
            check_installed(wheel, tmp, env)
    print("the wheel works outside the source tree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
