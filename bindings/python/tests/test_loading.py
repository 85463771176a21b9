"""Loading of libopstatus: search order, error text and the version check.

Each case imports the package in a new interpreter, because the library is
loaded once, at import time.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import opstatus

PYTHON_BINDING_DIR = Path(__file__).resolve().parents[1]


def _import_opstatus(library: str | None) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(PYTHON_BINDING_DIR)}
    environment.pop("OPSTATUS_LIBRARY", None)
    if library is not None:
        environment["OPSTATUS_LIBRARY"] = library
    return subprocess.run(
        [sys.executable, "-c", "import opstatus; print(opstatus.library_path)"],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
    )


def test_load_missing_library_path(tmp_path):
    missing = str(tmp_path / "no-such-libopstatus.so")

    completed = _import_opstatus(missing)

    assert completed.returncode != 0
    assert "ImportError" in completed.stderr
    assert missing in completed.stderr
    assert "make build" in completed.stderr
    assert "OPSTATUS_LIBRARY" in completed.stderr


def test_load_library_from_environment():
    completed = _import_opstatus(opstatus.library_path)

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == opstatus.library_path


def test_load_default_search():
    completed = _import_opstatus(None)

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() != ""


@pytest.mark.skipif(
    shutil.which("gcc") is None, reason="gcc is needed to build a stand-in library"
)
@pytest.mark.parametrize(
    ("version_number", "shown"),
    [(10000, "1.0.0"), (3, "0.0.3")],
)
def test_load_incompatible_version(tmp_path, version_number, shown):
    source = tmp_path / "fake.c"
    source.write_text(
        f"unsigned int opstatus_version_number(void) {{ return {version_number}u; }}\n"
    )
    library = tmp_path / "libfake.so"
    subprocess.run(
        ["gcc", "-shared", "-fPIC", "-o", str(library), str(source)],
        check=True,
        timeout=60,
    )

    completed = _import_opstatus(str(library))

    assert completed.returncode != 0
    assert "ImportError" in completed.stderr
    assert shown in completed.stderr
    assert "0.1" in completed.stderr


@pytest.mark.skipif(
    shutil.which("gcc") is None, reason="gcc is needed to build a stand-in library"
)
def test_load_missing_function(tmp_path):
    source = tmp_path / "fake.c"
    source.write_text("unsigned int opstatus_version_number(void) { return 100u; }\n")
    library = tmp_path / "libfake.so"
    subprocess.run(
        ["gcc", "-shared", "-fPIC", "-o", str(library), str(source)],
        check=True,
        timeout=60,
    )

    completed = _import_opstatus(str(library))

    assert completed.returncode != 0
    assert "does not export opstatus_version." in completed.stderr
