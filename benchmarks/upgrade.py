"""Rewrite a model folder in the current format (e.g. version 1 -> 2), without re-fitting.

    python -m benchmarks.upgrade /tmp/model-1m /tmp/model-1m-v2

Reads every array and document of the old folder and writes them through ``format.write_model``, which
adds the version-2 tables (ids, id hash table, articles) and the inverted index.
"""

from __future__ import annotations

import sys
import time

from recommender import store as fmt


def main(argv: list[str] | None = None) -> int:
    source, target = (argv if argv is not None else sys.argv[1:])[:2]
    started = time.perf_counter()
    folder = fmt.open_model(source, verify=False, mmap=True)
    fmt.write_model(target, **folder.parts())
    print(f"wrote {target} (format {fmt.FORMAT_VERSION}) in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
