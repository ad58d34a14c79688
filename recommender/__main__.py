"""``python -m recommender``: the same as the ``recommender`` command."""

import sys

from .cli import main

sys.exit(main())
