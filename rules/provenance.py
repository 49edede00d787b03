"""Which ruleset and clinical data produced a finding: one digest over the files that define them
(rules/*.toml, rules/**/*.py, conversations/**/*.toml) and the knowledge actually loaded (a
threshold override is a different version). Stored on every findings row, so a deploy in the
middle of a consult is visible in the log.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from functools import lru_cache
from importlib import resources
from importlib.abc import Traversable

from .data import Knowledge

CONVERSATIONS = __package__.rsplit(".", 1)[0] + ".conversations"
# package -> file suffixes that are clinical content or the logic that reads it
CONTENT = {__package__: (".toml", ".py"), CONVERSATIONS: (".toml",)}


def _files(folder: Traversable, suffixes: tuple[str, ...], prefix: str = ""):
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.is_dir():
            if entry.name != "__pycache__":
                yield from _files(entry, suffixes, f"{prefix}{entry.name}/")
        elif entry.name.endswith(suffixes):
            yield f"{prefix}{entry.name}", entry


@lru_cache(maxsize=1)
def content_digest() -> str:
    """sha256 over every content file, named by package and path (read once per process)."""
    h = hashlib.sha256()
    for package, suffixes in CONTENT.items():
        for path, entry in _files(resources.files(package), suffixes):
            h.update(f"{package.rsplit('.', 1)[-1]}/{path}\0".encode())
            h.update(entry.read_bytes())
            h.update(b"\0")
    return h.hexdigest()


def version(knowledge: Knowledge) -> str:
    """The files' digest together with the knowledge as loaded (overrides included), 12 hex digits."""
    loaded = json.dumps(dataclasses.asdict(knowledge), sort_keys=True, default=str)
    return hashlib.sha256(f"{content_digest()}\0{loaded}".encode()).hexdigest()[:12]
