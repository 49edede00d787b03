"""The build backend: setuptools.build_meta unchanged, minus one notice for editable installs.

setuptools maps `neuroladder.bot` to `bot/` (and so on) with a meta path finder when installed with
`pip install -e .`, and on every such install prints a notice that a folder named like the package
in the working directory could take precedence over it at import time. Our package is
`neuroladder`; the checkout has no `neuroladder/` folder (tests/test_packaging.py keeps it so), so
the notice names a hazard this layout does not have and would teach everyone to skim past install
warnings. Only that notice is dropped: every other warning still reaches pip and the terminal.
"""

from __future__ import annotations

import warnings

from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # noqa: F401,F403 (the PEP 517 / 660 hooks, unchanged)
from setuptools.build_meta import __all__  # noqa: F401


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"\s*Editable installation\.")
        return _setuptools.build_editable(wheel_directory, config_settings, metadata_directory)
