"""The HTTP front end over the serving side: the JSON API and the editor's page (the ``serve`` extra).

Like the command line, it sits on top: it uses :mod:`recommender.serve` and :mod:`recommender.outputs`,
and nothing on the serving side imports it (``recommender.serve.app`` is a lazy alias of :func:`app`).
"""

from __future__ import annotations

from .app import Service, app

__all__ = ["Service", "app"]
