"""NLTK's Snowball stemmers, loaded without importing the rest of NLTK when that can be done.

``import nltk.stem.snowball`` first runs ``nltk/__init__.py``, which imports most of NLTK (scipy.stats
among it): about 1.4 s, in every process that stems, for a few pure-Python modules. When NLTK's files can
be found, the Snowball module is loaded through stand-in parent packages instead, and everything loaded
under the name ``nltk`` is then removed from ``sys.modules``, so a later ``import nltk`` finds NLTK whole
and unchanged. The stemmers are NLTK's own code either way; any trouble falls back to the plain import.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from pathlib import Path
from typing import Any

__all__ = ["snowball_stemmer"]

_CLASS: dict[str, Any] = {}


def snowball_stemmer(language: str) -> Any:
    """NLTK's ``SnowballStemmer`` for ``language`` (a Snowball name such as ``"english"``)."""
    if "snowball" not in _CLASS:
        try:
            _CLASS["snowball"] = _light_snowball()
        except Exception:  # any surprise in NLTK's layout: the plain, slower import
            from nltk.stem.snowball import SnowballStemmer

            _CLASS["snowball"] = SnowballStemmer
    return _CLASS["snowball"](language)


def _light_snowball() -> Any:
    """``SnowballStemmer``, with ``nltk`` and ``nltk.stem`` as empty stand-ins while it loads."""
    if "nltk" in sys.modules:  # already imported whole: nothing to save
        from nltk.stem.snowball import SnowballStemmer

        return SnowballStemmer
    spec = importlib.util.find_spec("nltk")
    if spec is None or not spec.submodule_search_locations:
        message = "nltk is not installed"
        raise ImportError(message)
    root = Path(next(iter(spec.submodule_search_locations)))
    stand_ins = {name: types.ModuleType(name) for name in ("nltk", "nltk.stem", "nltk.corpus")}
    stand_ins["nltk"].__path__ = [str(root)]
    stand_ins["nltk.stem"].__path__ = [str(root / "stem")]
    # Only ``SnowballStemmer(..., ignore_stopwords=True)`` reads NLTK's stopwords corpus; never used here.
    stand_ins["nltk.corpus"].stopwords = None  # type: ignore[attr-defined]
    sys.modules.update(stand_ins)
    try:
        module = importlib.import_module("nltk.stem.snowball")
        return module.SnowballStemmer
    finally:
        for name in [name for name in sys.modules if name == "nltk" or name.startswith("nltk.")]:
            del sys.modules[name]
