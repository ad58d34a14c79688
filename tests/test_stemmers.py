"""NLTK's Snowball stemmers loaded without the rest of NLTK: the same stems, and NLTK left whole."""

from __future__ import annotations

import json
import subprocess
import sys

from .conftest import BUNDLED, ROOT

MULTILINGUAL = ROOT / "tests" / "data" / "multilingual.jsonl"


def test_the_stems_are_nltks_and_nltk_stays_importable() -> None:
    words = sorted(
        {
            word
            for path in (BUNDLED, MULTILINGUAL)
            for line in path.read_text(encoding="utf-8").splitlines()
            for word in json.loads(line)["body"].lower().split()
            if word.isalpha()
        }
    )
    code = (
        "import json, sys\n"
        "from recommender.text.stemmers import snowball_stemmer\n"
        f"words = json.loads({json.dumps(json.dumps(words))})\n"
        "languages = ('english', 'russian', 'french', 'german', 'spanish')\n"
        "ours = {language: [snowball_stemmer(language).stem(w) for w in words] for language in languages}\n"
        "assert not [name for name in sys.modules if name.split('.')[0] == 'nltk'], 'nltk left loaded'\n"
        "import nltk.corpus\n"
        "from nltk.stem.snowball import SnowballStemmer\n"
        "for language in languages:\n"
        "    theirs = [SnowballStemmer(language).stem(w) for w in words]\n"
        "    assert ours[language] == theirs, language\n"
        "assert nltk.corpus.stopwords is not None\n"
        "print(len(words))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) > 2_000
