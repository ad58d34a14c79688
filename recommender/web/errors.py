"""Errors as JSON: each exception an endpoint raises, with its status (a bug is a logged 500, never a bare
text page); Starlette's own 404 and 405; and the request body read as JSON within its limit."""

from __future__ import annotations

import json
import logging
import math
from typing import Any

from starlette.convertors import Convertor, register_url_convertor
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..feedback.events import InvalidEventsError
from ..serve.overrides import OverridesFileError
from ..text.printable import encodable
from ..types import (
    InvalidParameterError,
    ModelFormatError,
    OverridesError,
    RecommenderError,
    UnknownArticleError,
)
from .params import HttpError

__all__ = ["ANY_PATH", "error_response", "http_errors", "read_json", "unicode_fields"]

_log = logging.getLogger(__name__)


class _AnyPath(Convertor[str]):
    """A path parameter that matches every character, newlines too (``path`` stops at one)."""

    regex = "(?s:.*)"

    def convert(self, value: str) -> str:
        return str(value)

    def to_string(self, value: str) -> str:
        return str(value)


#: The name of the path converter for article ids: ``/related/{article_id:recommender_any}``.
ANY_PATH = "recommender_any"
register_url_convertor(ANY_PATH, _AnyPath())


def error_response(error: Exception, endpoint: str) -> JSONResponse:
    """The JSON answer for an exception an endpoint raised (anything unexpected: logged, a 500)."""
    if isinstance(error, UnknownArticleError):
        return JSONResponse({"error": str(error), "suggestions": error.suggestions}, 404)
    if isinstance(error, InvalidEventsError):
        return JSONResponse({"error": str(error), "problems": error.problems}, 422)
    if isinstance(error, OverridesFileError):  # the server's own file: not the client's fault
        return JSONResponse({"error": str(error)}, 500)
    if isinstance(error, InvalidParameterError | OverridesError):
        return JSONResponse({"error": str(error)}, 422)
    if isinstance(error, HttpError):
        response = JSONResponse({"error": str(error)}, error.status)
        if error.retry_after is not None:
            response.headers["Retry-After"] = str(max(1, math.ceil(error.retry_after)))
        return response
    if isinstance(error, ModelFormatError):
        return JSONResponse({"error": str(error)}, 503)
    if isinstance(error, RecommenderError):
        return JSONResponse({"error": str(error)}, 500)
    _log.error("%s: unexpected error", endpoint, exc_info=error)
    return JSONResponse({"error": f"internal error ({type(error).__name__}); the server's log has more"}, 500)


async def _http_error(request: Request, error: Exception) -> Response:
    """Starlette's own errors (no such route, a method the route does not take) as JSON."""
    assert isinstance(error, HTTPException)
    return JSONResponse({"error": error.detail}, error.status_code, headers=error.headers)


#: The app's handlers of Starlette's own errors.
http_errors = {404: _http_error, 405: _http_error}


async def read_json(request: Request, max_body: int, *, any_json: bool = False) -> Any:
    """The request's JSON body, within ``max_body`` bytes; an object unless ``any_json``."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_body:
        raise HttpError(413, f"the request body is over the limit of {max_body} bytes")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_body:
            raise HttpError(413, f"the request body is over the limit of {max_body} bytes")
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        message = f"the request body is not JSON ({error})"
        raise InvalidParameterError(message) from None
    except RecursionError:
        message = "the request body is nested too deeply"
        raise InvalidParameterError(message) from None
    if not isinstance(data, dict) and not any_json:
        message = "the request body must be a JSON object"
        raise InvalidParameterError(message)
    return data


def unicode_fields(body: dict[str, Any]) -> None:
    """Refuse a body whose strings (or lists of strings) hold lone surrogates, naming the field: JSON may
    escape them (``"\\ud800"``), but they are no text, and nothing downstream can encode them."""
    for name, value in body.items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and not encodable(item):
                message = f"{name!r} must be valid Unicode text (it holds a lone surrogate)"
                raise InvalidParameterError(message)
