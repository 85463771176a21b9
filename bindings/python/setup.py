"""Wheel tags for the opstatus package.

The package is pure Python. A wheel built by "make wheel" also carries
libopstatus.so.0, a binary for this machine's platform, so such a wheel is
tagged py3-none-<platform> instead of py3-none-any: it fits any Python 3
on this platform, since ctypes loads the library without a Python ABI.
All metadata lives in pyproject.toml.
"""

from pathlib import Path

from setuptools import setup

try:
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # setuptools before 70.1 takes the command from "wheel"
    from wheel.bdist_wheel import bdist_wheel

BUNDLED_LIBRARY = Path(__file__).resolve().parent / "opstatus" / "libopstatus.so.0"


class PlatformWheel(bdist_wheel):
    """Tag the wheel for this platform when it contains the library."""

    def finalize_options(self) -> None:
        super().finalize_options()
        if BUNDLED_LIBRARY.exists():
            self.root_is_pure = False

    def get_tag(self) -> tuple[str, str, str]:
        python, abi, platform = super().get_tag()
        if BUNDLED_LIBRARY.exists():
            return "py3", "none", platform
        return python, abi, platform


setup(cmdclass={"bdist_wheel": PlatformWheel})
