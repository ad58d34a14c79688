"""Regenerate the golden model (only when the model format changes on purpose: bump FORMAT_VERSION too).

    python -m tests.data.make_golden

Builds ``tests/data/golden/`` from the tiny corpus in ``tests/conftest.py`` and records its answers in
``tests/data/golden_expected.json``; ``tests/test_lookup.py`` checks that every later version still
loads the committed folder and gives those answers.
"""

from __future__ import annotations

import json
from pathlib import Path

from recommender import Index, Recommender
from tests.conftest import TINY

HERE = Path(__file__).resolve().parent


def main() -> None:
    Recommender(min_df=1, k=3).fit(TINY).save(HERE / "golden")
    index = Index.load(HERE / "golden")
    expected = {article_id: [link.to_dict() for link in index.related(article_id, k=3)] for article_id in index}
    (HERE / "golden_expected.json").write_text(json.dumps(expected, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
