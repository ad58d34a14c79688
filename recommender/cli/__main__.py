"""``python -m recommender.cli``: the same as the ``recommender`` command."""

import sys

from . import main

sys.exit(main())
