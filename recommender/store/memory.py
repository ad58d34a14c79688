"""The stored-model value in memory: exactly the arrays and documents a model folder holds, not yet written.

A build produces a :class:`MemoryModel`; :func:`recommender.store.write_model` writes one
(``write_model(path, **model.parts())``) and :func:`recommender.store.open_model` reads one back as a
``ModelFolder``. Both answer the same questions (``array``, ``document``, ``strings``, ``has``,
``parameters``, ``manifest``), so the serving engine and an update read either alike. numpy and stdlib.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypedDict

import numpy as np

from ..types import ModelFormatError
from .layout import MANIFEST_DIGEST, manifest_header
from .names import ARTICLES, FORMAT_VERSION, IDS
from .tables import Records, StringTable, tabulate

__all__ = ["Content", "MemoryModel"]


class Content(TypedDict):
    """What a model is made of: the keyword arguments of ``write_model`` and ``Writer.publish``."""

    arrays: Mapping[str, np.ndarray]
    documents: Mapping[str, Any]
    parameters: Mapping[str, Any]
    counts: Mapping[str, int]
    extra: Mapping[str, Any] | None


class MemoryModel:
    """A complete model held in memory (ids and records already as the byte tables a folder stores)."""

    version = FORMAT_VERSION
    generation: str | None = None
    model_path: str | None = None

    def __init__(self, content: Content) -> None:
        self._arrays = dict(content["arrays"])
        self._documents = dict(content["documents"])
        tabulate(self._arrays, self._documents)
        self.path = "<memory>"
        names = [f"{name}.npy" for name in self._arrays] + [f"{name}.json" for name in self._documents]
        files: dict[str, dict[str, Any]] = {name: {} for name in sorted(names)}
        header = manifest_header(content["parameters"], content["counts"], content.get("extra"))
        self.manifest: dict[str, Any] = {**header, "files": files}

    @property
    def parameters(self) -> dict[str, Any]:
        """The build settings."""
        parameters: dict[str, Any] = self.manifest["parameters"]
        return parameters

    @property
    def counts(self) -> dict[str, int]:
        """Sizes (articles, terms, neighbours per article, ...)."""
        counts: dict[str, int] = self.manifest["counts"]
        return counts

    def has(self, name: str) -> bool:
        """Whether the model holds the array or document ``name``."""
        return name in self._arrays or name in self._documents

    def array(self, name: str) -> np.ndarray:
        """The array ``name``."""
        try:
            return self._arrays[name]
        except KeyError:
            message = f"the model holds no array {name!r}"
            raise ModelFormatError(message) from None

    def document(self, name: str) -> Any:
        """The document ``name`` (ids and article records decoded from their tables)."""
        if name == IDS:
            return self.strings(IDS).to_list()
        if name == ARTICLES:
            return [json.loads(text) for text in self.strings(ARTICLES).to_list()]
        try:
            return self._documents[name]
        except KeyError:
            message = f"the model holds no document {name!r}"
            raise ModelFormatError(message) from None

    def strings(self, name: str) -> StringTable:
        """The string table ``name``."""
        return StringTable(self.array(f"{name}_bytes"), self.array(f"{name}_offsets"))

    def records(self) -> Records:
        """The article records as stored bytes."""
        return Records.read(self)

    def parts(self) -> Content:
        """Keyword arguments for :func:`recommender.store.write_model`."""
        extra = {key: value for key, value in self.manifest.items() if key not in _MANIFEST_KEYS}
        return {
            "arrays": self._arrays,
            "documents": self._documents,
            "parameters": self.parameters,
            "counts": self.counts,
            "extra": extra or None,
        }


_MANIFEST_KEYS = (
    "format",
    "format_version",
    "library_version",
    "parameters",
    "counts",
    "files",
    MANIFEST_DIGEST,
)
