"""The model store: file names and format versions, the byte tables, and reading and writing model folders.

numpy and the standard library only: the serving side reads models through this package.
"""

from __future__ import annotations

from .folder import ModelFolder, open_model, sha256
from .names import *  # noqa: F403 - every file name lives in names.py
from .names import FORMAT_NAME, FORMAT_VERSION, MANIFEST, READABLE_VERSIONS
from .tables import IdTable, Records, StringTable
from .write import write_model

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "MANIFEST",
    "READABLE_VERSIONS",
    "IdTable",
    "ModelFolder",
    "Records",
    "StringTable",
    "open_model",
    "sha256",
    "write_model",
]
