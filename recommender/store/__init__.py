"""The model store: file names and format versions, the byte tables, and reading and publishing models.

numpy and the standard library only: the serving side reads models through this package. A model path
holds immutable generations and a pointer to the current one (the layout is in ``store.layout``):
``open_model`` reads one generation whole, ``writer``/``write_model`` publish a new one atomically.
"""

from __future__ import annotations

from .folder import ModelFolder, current_generation, open_model, sha256
from .names import *  # noqa: F403 - every file name lives in names.py
from .names import FORMAT_NAME, FORMAT_VERSION, MANIFEST, READABLE_VERSIONS
from .pieces import Pieces
from .tables import IdTable, Records, StringTable
from .write import Writer, check_target, upgrade, write_model, writer

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "MANIFEST",
    "READABLE_VERSIONS",
    "IdTable",
    "ModelFolder",
    "Pieces",
    "Records",
    "StringTable",
    "Writer",
    "check_target",
    "current_generation",
    "open_model",
    "sha256",
    "upgrade",
    "write_model",
    "writer",
]
