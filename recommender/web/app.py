"""The HTTP API: the library's answers as JSON, for sites that are not written in Python.

``app(model_dir)`` is an ASGI application (Starlette, in the optional extra ``serve``) to run with uvicorn
(``recommender serve MODEL_DIR``) or to mount in a site's own app. The names and results are the library's
and the command line's: ``GET /related/{id}`` with ``k``, ``explain`` and every ranking control, ``POST
/query``, ``GET /articles?search=`` (titles, for pickers), ``GET /healthz`` and ``GET /metrics``
(Prometheus text), the editor's page at ``/`` (:mod:`recommender.web.editor`) with ``GET /audit``
and ``GET``/``POST /overrides`` behind it, and readers' feedback: ``POST /events`` and the page snippet
``GET /feedback.js`` (:mod:`recommender.web.feedback`), with A/B variants chosen by ``visitor``.

Each request answers from one generation: the model is reopened when ``build`` or ``update`` publishes
another (the pointer is looked at, at most once per ``check_every`` seconds, or at ``POST /reload`` with
the token), and a request in flight finishes on the generation it began with, which it names in
``X-Recommender-Generation``. Errors are ``{"error": …}`` with their status:
404 for an unknown id (with suggestions), 422 for a bad parameter, 401 for a write without the token, 413
for a body over the limit.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, overload

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from ..feedback.events import EventStore, assign_variant, batch_id, validate_batch
from ..serve.index import Index
from ..serve.overrides import Overrides
from ..types import InvalidParameterError, RecommenderError
from .editing import OverridesFile, parse_edit
from .editor import PAGE, SCRIPT, SECURITY_HEADERS
from .errors import ANY_PATH, error_response, http_errors, read_json, unicode_fields
from .feedback import SCRIPT as FEEDBACK_SCRIPT
from .feedback import RateLimit
from .metrics import Metrics
from .params import HttpError, authorise, controls, holds, integer, published, served_variants

__all__ = ["Service", "app"]

_Handler = Callable[[Request, Index], Awaitable[Response]]
_log = logging.getLogger(__name__)


def app(
    model_dir: str | os.PathLike[str] | None,
    *,
    token: str | None = None,
    overrides: str | os.PathLike[str] | None = None,
    cors_origins: tuple[str, ...] = (),
    check_every: float = 1.0,
    max_body: int = 1 << 20,
    max_age: int = 60,
    verify: bool = True,
    template: str | os.PathLike[str] | None = None,
    events: str | os.PathLike[str] | None = None,
    events_retention: float | None = 90.0,
    events_rate: float = 5.0,
    variants: Mapping[str, str | os.PathLike[str]] | None = None,
    split: Sequence[float] | None = None,
) -> Starlette:
    """The ASGI app serving the model at ``model_dir`` (see the module docstring).

    ``token`` enables ``POST /reload`` (sent as ``Authorization: Bearer TOKEN``; without one the server is
    read-only); ``overrides`` is an overrides file, read at start and again when it changes;
    ``cors_origins`` the origins allowed to call from a browser; ``max_body`` the largest request body
    in bytes; ``max_age`` the seconds answers may be cached (``Cache-Control``); ``template`` the site's
    HTML template for ``GET /block/{id}`` (as for ``export --template``).

    ``events`` is a SQLite file for readers' impressions and clicks (``POST /events``), kept
    ``events_retention`` days, each client address sending at most ``events_rate`` batches a second (0:
    no limit). ``variants`` (``{"a": MODEL, "b": MODEL2}``, instead of ``model_dir``) serves an A/B test:
    each ``visitor`` is assigned one variant by a stable hash, in the shares ``split`` (percent, one per
    variant; equal shares by default).
    """
    return Service(
        model_dir,
        token=token,
        overrides=overrides,
        check_every=check_every,
        max_body=max_body,
        max_age=max_age,
        verify=verify,
        template=template,
        events=events,
        events_retention=events_retention,
        events_rate=events_rate,
        variants=variants,
        split=split,
    ).asgi(cors_origins)


class Service:
    """The model a server answers from, kept current, and the handlers of its endpoints."""

    def __init__(
        self,
        model_dir: str | os.PathLike[str] | None,
        *,
        token: str | None,
        overrides: str | os.PathLike[str] | None,
        check_every: float,
        max_body: int,
        max_age: int,
        verify: bool,
        template: str | os.PathLike[str] | None = None,
        events: str | os.PathLike[str] | None = None,
        events_retention: float | None = 90.0,
        events_rate: float = 5.0,
        variants: Mapping[str, str | os.PathLike[str]] | None = None,
        split: Sequence[float] | None = None,
    ) -> None:
        served, self.split = served_variants(model_dir, variants, split)
        self.indexes = {name: Index.load(path, verify=verify) for name, path in served.items()}
        self.events = EventStore(events, retention_days=events_retention) if events is not None else None
        self._events_limit = RateLimit(events_rate)
        self._template = None
        if template is not None:
            from ..outputs.export import load_template

            self._template = load_template(template)
        self._token = token or None
        self.edits = OverridesFile(Path(overrides) if overrides is not None else None)  # read now
        self._check_every, self._max_body, self._max_age = check_every, max_body, max_age
        self._checked = time.monotonic()
        self._reloading = threading.Lock()
        self.failures: dict[str, str] = {}  # variant: why its newest generation could not be opened
        self._audited: tuple[object, dict[str, Any]] = (None, {})
        self._origins: frozenset[str] = frozenset()
        self._metrics_store = Metrics()
        self._titles: tuple[str | None, list[tuple[str, str, str]]] = (None, [])

    @property
    def index(self) -> Index:
        """The index of the first (or only) variant: what answers a request without a visitor."""
        return next(iter(self.indexes.values()))

    @property
    def experiment(self) -> bool:
        """Whether this server runs an A/B test (two or more variants)."""
        return len(self.indexes) > 1

    def variant_of(self, visitor: str | None) -> str:
        """The variant that answers ``visitor`` (the first one for a request without a visitor)."""
        names = list(self.indexes)
        if not self.experiment or not visitor:
            return names[0]
        return assign_variant(visitor, names, self.split)

    def asgi(self, cors_origins: tuple[str, ...] = ()) -> Starlette:
        """The Starlette application over this service."""
        self._origins = frozenset(cors_origins)
        routes = [
            Route("/", self._page, methods=["GET"]),
            Route("/editor.js", self._script, methods=["GET"]),
            Route("/feedback.js", self._feedback_script, methods=["GET"]),
            Route("/events", self._endpoint("events", self._events), methods=["POST"]),
            Route("/audit", self._endpoint("audit", self._audit), methods=["GET"]),
            Route(f"/block/{{article_id:{ANY_PATH}}}", self._endpoint("block", self._block), methods=["GET"]),
            Route(
                f"/related/{{article_id:{ANY_PATH}}}",
                self._endpoint("related", self._related),
                methods=["GET"],
            ),
            Route("/query", self._endpoint("query", self._query), methods=["POST"]),
            Route("/articles", self._endpoint("articles", self._articles), methods=["GET"]),
            Route("/healthz", self._endpoint("healthz", self._health), methods=["GET"]),
            Route("/metrics", self._metrics, methods=["GET"]),
            Route("/reload", self._endpoint("reload", self._reload), methods=["POST"]),
            Route("/overrides", self._endpoint("overrides", self._show_overrides), methods=["GET"]),
            Route("/overrides", self._endpoint("edit", self._edit_overrides), methods=["POST"]),
        ]
        origins = list(cors_origins)
        cors = Middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
            expose_headers=["X-Recommender-Variant", "X-Recommender-Generation", "ETag"],  # for scripts
            max_age=600,
        )
        return Starlette(routes=routes, middleware=[cors] if origins else [], exception_handlers=http_errors)

    # --- the model and the overrides, kept current ------------------------------------------------------

    def current(self, variant: str | None = None) -> Index:
        """The index to answer one request from (of ``variant``, or the first), after taking a newly
        published generation (looked for at most once per ``check_every`` seconds)."""
        # One request looks; the others answer from the generation they find (never wait for a reload).
        if time.monotonic() - self._checked >= self._check_every and self._reloading.acquire(blocking=False):
            try:
                self._take_new()
            finally:
                self._reloading.release()
        return self.indexes[variant].current() if variant is not None else self.index.current()

    def reload(self) -> bool:
        """Take every variant's newly published generation now (``POST /reload``); whether there was one."""
        with self._reloading:
            return self._take_new()

    def _take_new(self) -> bool:
        """Open each variant's newly published generation (under ``_reloading``); one that fails is logged
        once and kept in ``failures``, the one before answers, and the next look is ``check_every`` later."""
        reloaded = False
        for name, index in self.indexes.items():
            try:
                reloaded = index.reload() or reloaded
                self.failures.pop(name, None)
            except (RecommenderError, OSError) as error:
                if self.failures.get(name) != str(error):
                    _log.error("newest generation unreadable (%s answers): %s", index.generation, error)
                self.failures[name] = str(error)
        self._checked = time.monotonic()
        return reloaded

    def overrides(self, index: Index) -> Overrides | None:
        """The overrides file's decisions for ``index``'s generation (ids it lacks skipped, see
        :class:`~recommender.web.editing.OverridesFile`), read again when the file changed."""
        return self.edits.fitted(index)[0]

    # --- the endpoints ----------------------------------------------------------------------------------

    def _endpoint(self, name: str, handler: _Handler) -> Callable[[Request], Awaitable[Response]]:
        """``handler`` with the common parts: the body limit, errors as JSON, the request counted."""

        async def endpoint(request: Request) -> Response:
            started = time.perf_counter()
            variant = request.state.variant = self.variant_of(request.query_params.get("visitor"))
            index = await run_in_threadpool(self.current, variant)
            try:
                response = await handler(request, index)
            except Exception as error:  # every error is JSON and counted (an unexpected one: a logged 500)
                response = error_response(error, name)
            if index.generation is not None and name not in ("reload", "events"):
                response.headers["X-Recommender-Generation"] = index.generation  # what answered
                if self.experiment:
                    response.headers["X-Recommender-Variant"] = variant
            self._metrics_store.count(name, response.status_code, time.perf_counter() - started)
            return response

        return endpoint

    async def _related(self, request: Request, index: Index) -> Response:
        article_id = request.path_params["article_id"]
        options = controls(request.query_params)
        overrides = await run_in_threadpool(self.overrides, index)
        links = await run_in_threadpool(lambda: index.related(article_id, overrides=overrides, **options))
        return self._cached(request, index, [link.to_dict() for link in links])

    async def _block(self, request: Request, index: Index) -> Response:
        """The article's "Similar posts" block as readers see it: the HTML export's, with the site's
        template when the server was given one (every text escaped)."""
        from ..outputs.export import render_block

        article_id = request.path_params["article_id"]
        options = controls(request.query_params)
        options.pop("explain", None)
        overrides = await run_in_threadpool(self.overrides, index)
        links = await run_in_threadpool(lambda: index.related(article_id, overrides=overrides, **options))
        headers = self._cache_headers(request, index)
        if holds(request, headers["ETag"]):
            return Response(status_code=304, headers=headers)
        headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; img-src *"
        block = render_block(index, article_id, links, template=self._template)
        if self.experiment:  # the feedback snippet reports the variant a reader saw
            block = (
                f'<div class="recommender-variant" data-variant="{request.state.variant}">\n{block}\n</div>'
            )
        return HTMLResponse(block, headers=headers)

    async def _events(self, request: Request, index: Index) -> Response:
        """A page's batch of impressions and clicks, stored whole or not at all (and once per batch id)."""
        if self.events is None:
            raise HttpError(404, "this server keeps no events: start it with --events FILE")
        waited = self._events_limit.wait(request.client.host if request.client else "")
        if waited > 0:
            self._metrics_store.add("events_limited", 1)
            raise HttpError(429, "too many event batches from this client", retry_after=waited)
        try:
            body = await self._json_body(request, any_json=True)
        except InvalidParameterError:
            self._metrics_store.add("events_rejected", 1)  # not JSON: counted as one bad event
            raise
        try:
            events = validate_batch(body, variants=list(self.indexes) if self.experiment else ())
            batch = batch_id(body)
        except InvalidParameterError:
            given = body.get("events") if isinstance(body, dict) else body
            self._metrics_store.add("events_rejected", len(given) if isinstance(given, list) and given else 1)
            raise
        stored = await run_in_threadpool(self.events.add, events, batch=batch)
        self._metrics_store.add("events_stored", stored.stored)
        if stored.duplicate:
            self._metrics_store.add("events_duplicate_batches", 1)
        data = {"stored": stored.stored, "duplicate": stored.duplicate}
        return JSONResponse(data, headers={"Cache-Control": "no-store"})

    async def _query(self, request: Request, index: Index) -> Response:
        body = await self._json_body(request)
        unicode_fields(body)
        text, title, lang = body.pop("text", None), body.pop("title", ""), body.pop("lang", None)
        if not isinstance(text, str) or not isinstance(title, str) or not isinstance(lang, str | None):
            message = "the body needs 'text' (and may have 'title' and 'lang') as strings"
            raise InvalidParameterError(message)
        links = await run_in_threadpool(lambda: index.query(text, title=title, lang=lang, **body))
        return JSONResponse([link.to_dict() for link in links], headers={"Cache-Control": "no-store"})

    async def _articles(self, request: Request, index: Index) -> Response:
        search = request.query_params.get("search", "").casefold().strip()
        limit = integer(request.query_params.get("limit", "20"), "limit")
        if not 1 <= limit <= 100:
            message = f"limit must be between 1 and 100, got {limit}"
            raise InvalidParameterError(message)
        titles = await run_in_threadpool(self._titles_of, index)
        found = [
            {"article_id": article_id, "title": title}
            for article_id, title, folded in titles
            if search in folded or search in article_id.casefold()
        ][:limit]
        return self._cached(request, index, found)

    async def _health(self, request: Request, index: Index) -> Response:
        manifest = index.manifest
        data = {
            "status": "ok",
            "generation": index.generation,
            "articles": len(index),
            "library_version": manifest.get("library_version"),
            "published": published(index),
            "reload_error": self.failures.get(request.state.variant),  # the generation before answers
            "overrides_skipped": (await run_in_threadpool(self.edits.fitted, index))[1],  # ids not in it
            "overrides_error": self.edits.error,  # why the file cannot be read (the last good one answers)
        }
        return JSONResponse(data, headers={"Cache-Control": "no-store"})

    async def _reload(self, request: Request, index: Index) -> Response:
        self._authorised(request)
        reloaded = await run_in_threadpool(self.reload)
        data = {"reloaded": reloaded, "generation": self.index.generation}
        failed = "; ".join(self.failures.values())  # the generation before answers: a 503 says why
        return JSONResponse({"error": failed, **data}, 503) if failed else JSONResponse(data)

    async def _show_overrides(self, request: Request, index: Index) -> Response:
        overrides = await run_in_threadpool(self.edits.read)
        data = overrides.to_dict() if overrides is not None else Overrides().to_dict()
        return JSONResponse(
            {"file": str(self.edits.path or ""), **data}, headers={"Cache-Control": "no-store"}
        )

    async def _edit_overrides(self, request: Request, index: Index) -> Response:
        """One editor's change (``{"action": "pin", "article_id": …, "other_id": …}``), written to the
        overrides file at once (atomically), so the CLI and exports honour it too."""
        self._authorised(request)
        body = await self._json_body(request)
        if self.edits.path is None:
            raise HttpError(409, "this server has no overrides file: start it with --overrides FILE")
        edited = await run_in_threadpool(self.edits.edit, *parse_edit(body, index))
        return JSONResponse({"file": str(self.edits.path), **edited.to_dict()})

    async def _page(self, request: Request) -> Response:
        return HTMLResponse(PAGE, headers=SECURITY_HEADERS)

    async def _script(self, request: Request) -> Response:
        return Response(SCRIPT, media_type="text/javascript; charset=utf-8", headers=SECURITY_HEADERS)

    async def _feedback_script(self, request: Request) -> Response:
        headers = {"Cache-Control": f"public, max-age={self._max_age}", "X-Content-Type-Options": "nosniff"}
        return Response(FEEDBACK_SCRIPT, media_type="text/javascript; charset=utf-8", headers=headers)

    async def _audit(self, request: Request, index: Index) -> Response:
        """``recommender audit``'s orphans and most-exposed articles, with the overrides (once per
        generation and overrides file)."""
        from ..outputs.audit import audit_links

        overrides = await run_in_threadpool(self.overrides, index)
        key = (index.generation, self.edits.version)
        if self._audited[0] != key:
            report = await run_in_threadpool(lambda: audit_links(index, overrides=overrides).to_dict())
            self._audited = (key, report)
        report = self._audited[1]
        data = {name: report[name] for name in ("articles", "orphans", "most_exposed", "gini", "reasons")}
        return JSONResponse(data, headers={"Cache-Control": "no-store"})

    async def _metrics(self, request: Request) -> Response:
        index = self.index.current()
        skipped = len(await run_in_threadpool(lambda: self.edits.fitted(index)[1]))
        gauges = [
            ("reload_failing", "1 while the newest generation cannot be opened.", int(bool(self.failures))),
            (
                "overrides_failing",
                "1 while the overrides file cannot be read.",
                int(self.edits.error is not None),
            ),
            ("overrides_skipped_ids", "Ids in the overrides that the model lacks (skipped).", skipped),
        ]
        text = self._metrics_store.text(index) + "".join(
            f"# HELP recommender_{name} {about}\n# TYPE recommender_{name} gauge\n"
            f"recommender_{name} {value}\n"
            for name, about, value in gauges
        )
        return PlainTextResponse(text, media_type="text/plain; version=0.0.4")

    # --- the parts the endpoints share ------------------------------------------------------------------

    def _cached(self, request: Request, index: Index, data: object) -> Response:
        """A GET answer with its ETag and ``Cache-Control``; 304 when the client holds it already."""
        headers = self._cache_headers(request, index)
        if holds(request, headers["ETag"]):
            return Response(status_code=304, headers=headers)
        return JSONResponse(data, headers=headers)

    def _cache_headers(self, request: Request, index: Index) -> dict[str, str]:
        """``ETag`` (of the generation, the overrides and the request) and ``Cache-Control``."""
        edits = self.edits.version  # overrides change answers too
        key = f"{index.generation}|{edits}|{request.url.path}|{request.url.query}"
        etag = '"' + hashlib.sha256(key.encode("utf-8")).hexdigest()[:32] + '"'
        return {"ETag": etag, "Cache-Control": f"public, max-age={self._max_age}"}

    @overload
    async def _json_body(self, request: Request) -> dict[str, Any]: ...
    @overload
    async def _json_body(self, request: Request, *, any_json: bool) -> Any: ...
    async def _json_body(self, request: Request, *, any_json: bool = False) -> Any:
        """The request's JSON body, within the size limit; an object unless ``any_json``."""
        return await read_json(request, self._max_body, any_json=any_json)

    def _authorised(self, request: Request) -> None:
        authorise(request, self._token, self._origins)

    def _titles_of(self, index: Index) -> list[tuple[str, str, str]]:
        """(id, title, folded title) of every article of ``index``'s generation, built once per generation."""
        generation, titles = self._titles
        if generation != index.generation or not titles:
            titles = [
                (article_id, str(record.get("title") or ""), str(record.get("title") or "").casefold())
                for article_id, record in zip(index.ids, index.records(), strict=True)
            ]
            self._titles = (index.generation, titles)
        return titles
