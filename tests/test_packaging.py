"""The package is whole: every module and data file is in the wheel, and the wheel, installed into a
fresh virtual environment outside the checkout, holds a consultation (issue 13).

`scripts/dev` installs in editable mode, which finds any folder on disk; only an installed wheel
shows what a clinician's team would get.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import subprocess
import sys
import time
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
SETUPTOOLS = CONFIG["tool"]["setuptools"]
CONSULT = "gabapentin 300 mg tid x 4 months, no help\n/summary\n"


def source_files() -> dict[str, Path]:
    """Every file the wheel must hold, by its path inside the wheel (neuroladder/rules/modules/x.py)."""
    out = {}
    for package, folder in SETUPTOOLS["package-dir"].items():
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo"):
                rel = path.relative_to(ROOT / folder)
                out["/".join(package.split(".") + list(rel.parts))] = path
    return out


def test_every_folder_with_code_or_data_is_a_listed_package():
    folders = {str(Path(name).parent).replace("/", ".") for name in source_files()}
    assert folders == set(SETUPTOOLS["packages"]), "add the new folder to [tool.setuptools] packages"


def test_every_data_file_matches_a_package_data_pattern():
    patterns = CONFIG["tool"]["setuptools"]["package-data"]
    for name in source_files():
        package, _, filename = name.rpartition("/")
        if filename.endswith(".py"):
            continue
        assert any(fnmatch.fnmatch(filename, p) for p in patterns.get(package.replace("/", "."), [])), (
            f"{name} would be left out of the wheel: add a pattern to [tool.setuptools.package-data]"
        )


def test_no_folder_in_the_checkout_shadows_the_package():
    # The build backend drops setuptools' editable-install notice about exactly this (scripts/build_backend.py).
    assert not (ROOT / "neuroladder").exists()


def tracked_tree(dest: Path) -> Path:
    """A copy of the files a fresh clone would have (git's list when there is one), to build from."""
    try:
        names = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
        files = [n for n in names.decode().split("\0") if n]
    except (OSError, subprocess.CalledProcessError):
        files = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*") if p.is_file() and ".venv" not in p.parts[0]]
    for name in files:
        if (ROOT / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, dest / name)
    return dest


def clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("NEUROLADDER_", "TELEGRAM_", "MATRIX_", "PYTHON", "VIRTUAL_ENV"))
    }
    env.update(extra)
    return env


@pytest.mark.slow
@pytest.mark.timeout(600)  # builds a wheel and installs it with its dependencies into a fresh venv
def test_the_wheel_installed_outside_the_checkout_holds_a_consultation(tmp_path):
    start = time.monotonic()
    src = tracked_tree(tmp_path / "clone")
    wheels = tmp_path / "wheels"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "-w", str(wheels)],
        cwd=src,
        capture_output=True,
        text=True,
        env=clean_env(),
    )
    assert build.returncode == 0, build.stderr
    assert "BuildBackendWarning" not in build.stderr, build.stderr
    wheel = next(wheels.glob("neuroladder-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = sorted(set(source_files()) - names)
    assert not missing, f"not in the wheel: {missing}"
    assert not any(n.startswith(("tests/", "neuroladder/tests/", "bench/")) for n in names)

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    if sys.version_info >= (3, 13):  # durable-rules 2.0.28 needs upstream's fix there (README)
        patched = subprocess.run(
            ["bash", str(ROOT / "scripts" / "durable-rules-wheel"), str(python), str(tmp_path / "dr")],
            capture_output=True,
            text=True,
        )
        assert patched.returncode == 0, patched.stderr
        subprocess.run([str(python), "-m", "pip", "install", "-q", patched.stdout.strip()], check=True)
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", str(wheel)], capture_output=True, text=True, env=clean_env()
    )
    assert install.returncode == 0, install.stderr

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = subprocess.run(
        [str(python), "-c", "import neuroladder.rules.modules as m; print(m.__file__)"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        env=clean_env(),
    )
    assert str(env_dir) in where.stdout and str(ROOT) not in where.stdout, where
    chat = subprocess.run(
        [str(env_dir / "bin" / "neuroladder"), "chat", "--db", "x.db"],
        input=CONSULT,
        cwd=elsewhere,
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=120,
    )
    assert chat.returncode == 0, chat.stderr
    assert "gabapentin trial not adequate: 900 of" in chat.stdout
    assert "Consult summary\nNext step: " in chat.stdout  # the first screen leads with the next step
    assert (elsewhere / "x.db").exists()
    print(f"wheel built, installed and consulted in {time.monotonic() - start:.0f} s")
