"""Control characters in untrusted text: found (ids refuse them) and shown escaped (terminal, CSV, HTML).

An article title holding ``ESC ] 0 ; … BEL`` would set a terminal's window title when printed, and one
holding U+202E would turn the rest of a line around; a NUL inside an id breaks files and HTML. So ids
with such characters are refused when articles are read, and everything printed or exported shows them
as visible escapes (``\\x1b``, ``\\u202e``) rather than raw; JSON output writes them as ``\\u`` escapes.
"""

from __future__ import annotations

import re

__all__ = ["CONTROL", "encodable", "json_escaped", "printable"]

#: C0 and C1 control characters, DEL, and the Unicode bidirectional overrides and isolates.
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
#: The ones ``json.dumps(ensure_ascii=False)`` leaves raw (it escapes C0 itself).
_LEFT_BY_JSON = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with every control character written as its escape (a line break too: one item, one line)."""
    return CONTROL.sub(_escape, text)


def json_escaped(dumped: str) -> str:
    """JSON text from ``json.dumps(..., ensure_ascii=False)`` with no control character raw; it decodes
    to the same data."""
    return _LEFT_BY_JSON.sub(lambda match: f"\\u{ord(match.group(0)):04x}", dumped)


def encodable(text: str) -> bool:
    """Whether ``text`` can be written as UTF-8 (a JSON string may hold lone surrogates, which cannot)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
