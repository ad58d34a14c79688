"""Fill the semantic view's vector cache for large corpora with PyTorch, about twice the numpy encoder's
speed on this machine's 2 cores, before a benchmark that builds them.

    RECOMMENDER_CACHE=DIR python -m benchmarks.fill_cache MODEL_FOLDER CORPUS.jsonl [...]

Needs ``torch`` and ``transformers`` (not the library's dependencies: a benchmark's own venv). The
articles are read and cut into windows exactly as a build does (the same window keys), and only the
windows the cache lacks are encoded, by transformers' ``AutoModel`` over the same weights, mean-pooled
and normalised; a build then finds every window in the cache. The vectors equal the numpy encoder's to
cosine ≥ 0.999 (``benchmarks/encoders.py``), so a model built from them ranks as one built by numpy; it
is not bit-identical, which is why the cache is keyed by encoder and a benchmark says when it was filled
this way.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence

import numpy as np

from recommender.semantic.cache import VectorCache, default_folder
from recommender.semantic.embed import article_text, embed
from recommender.semantic.encoder import EncoderInfo, load_encoder
from recommender.sources.corpus import load_articles


class TorchEncoder:
    """The encoder interface over transformers' model: the numpy encoder's windows, PyTorch's forward."""

    def __init__(self, folder: str, batch_size: int) -> None:
        import torch
        from transformers import AutoModel

        torch.set_num_threads(os.cpu_count() or 1)
        self._torch = torch
        self._numpy = load_encoder(folder)
        self.info: EncoderInfo = self._numpy.info
        self._model = AutoModel.from_pretrained(folder).eval()
        self._batch = batch_size

    def windows(self, text: str, count: int) -> list[list[int]]:
        return self._numpy.windows(text, count)

    def encode_windows(self, windows: Sequence[Sequence[int]]) -> np.ndarray:
        torch = self._torch
        out = np.zeros((len(windows), self.info.dimension), dtype=np.float32)
        order = np.argsort([-len(row) for row in windows], kind="stable")
        with torch.inference_mode():
            for start in range(0, len(order), self._batch):
                chosen = order[start : start + self._batch]
                length = max(len(windows[row]) for row in chosen)
                ids = torch.zeros((len(chosen), length), dtype=torch.long)
                mask = torch.zeros((len(chosen), length), dtype=torch.long)
                for place, row in enumerate(chosen):
                    ids[place, : len(windows[row])] = torch.tensor(windows[row])
                    mask[place, : len(windows[row])] = 1
                hidden = self._model(input_ids=ids, attention_mask=mask).last_hidden_state
                pooled = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
                pooled = torch.nn.functional.normalize(pooled, dim=1)
                out[chosen] = pooled.numpy()
        return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="a sentence-transformers folder (the offline all-MiniLM-L6-v2)")
    parser.add_argument("corpora", nargs="+", help="JSONL corpora, as a build reads them")
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()
    encoder = TorchEncoder(args.model, args.batch)
    cache = VectorCache(default_folder(), encoder.info.fingerprint, encoder.info.dimension)
    for corpus in args.corpora:
        frame = load_articles(corpus)
        texts = [article_text(title, body) for title, body in zip(frame["title"], frame["body"], strict=True)]
        started = time.perf_counter()

        def progress(done: int, total: int, *, started: float = started, corpus: str = corpus) -> None:
            rate = done / max(time.perf_counter() - started, 1e-9)
            print(f"\r{corpus}: {done:,}/{total:,} texts, {rate:.1f}/s", end="", file=sys.stderr, flush=True)

        done = embed(texts, encoder, cache=cache, progress=progress)
        seconds = time.perf_counter() - started
        print(
            f"\n{corpus}: {len(texts):,} texts, {done.embedded:,} needed the encoder, "
            f"{done.windows:,} windows encoded in {seconds:.0f} s",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
