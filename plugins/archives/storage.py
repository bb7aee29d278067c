"""Where the bytes of digital copies live: a small storage interface.

:class:`LocalStorage` keeps them under the instance folder (``instance/archives/``),
named by their SHA-256, written once (a file with the same hash is the same file).
A county that runs an S3-compatible store would add a second implementation of
:class:`Storage`; none is shipped yet (see docs/archives.md).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

from flask import current_app


class Storage(Protocol):
    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...


class LocalStorage:
    """Files under a folder, two levels of hash prefixes (``ab/cd/abcdef...``)."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not key.isalnum():
            raise ValueError("storage keys are hexadecimal digests")
        return self.root / key[:2] / key[2:4] / key

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".part")
        temporary.write_bytes(data)
        os.replace(temporary, path)

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def exists(self, key: str) -> bool:
        return self._path(key).exists()


def storage() -> Storage:
    """The storage of the current app (the instance folder)."""
    return LocalStorage(Path(current_app.instance_path) / "archives")
