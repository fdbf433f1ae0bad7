"""The one redaction step: the app key taken out of any text that came from outside the program.

A server, a proxy or a transport's exception may echo the request, and so the key, in any of the
forms text takes on the way: raw (`Authorization: sk-…`), JSON-quoted and escaped (`\\/`, `\\"`,
`\\u0073`), URL-encoded once or twice (`%73k-…`, `%2573…`) or as HTML character references.
`redact(text, key)` replaces every such spelling with `mask_key(key)` ('sk…89'), so what a user
reads (a reply's message, an error, a journal row, an outcomes file, a report, the CLI's "why"
column) never holds it. `transport.deliver` applies it where a reply first enters the program;
nothing downstream sees the key. Base64 of the key (Basic auth) is out of scope: the key is never
sent that way.
"""

from __future__ import annotations

import re
from functools import lru_cache


def mask_key(key: str | None) -> str:
    """Enough of the key to recognise it, never enough to use it: 'ab…yz'."""
    if not key:
        return "(none)"
    if len(key) < 8:
        return "…"
    return f"{key[:2]}…{key[-2:]}"


def _spellings(ch: str) -> str:
    """A regex matching one character of the key however it may be encoded: itself (case kept),
    backslash-escaped (`\\/`, `\\"`), and its hex escapes in any case."""
    code = ord(ch)
    escapes = [rf"\\u0*{code:x}", rf"&#x0*{code:x};"]  # JSON \u0073, HTML &#x73;
    if code < 0x100:
        escapes += [f"%{code:02x}", f"%25{code:02x}"]  # URL-encoded once or twice
    forms = [re.escape(ch), r"\\" + re.escape(ch), rf"&#0*{code};", "(?i:" + "|".join(escapes) + ")"]
    if ch == " ":
        forms.append(r"\+")
    return "(?:" + "|".join(forms) + ")"


@lru_cache(maxsize=8)
def _pattern(key: str) -> re.Pattern[str]:
    return re.compile("".join(_spellings(ch) for ch in key))


def redact(text: str | None, key: str | None) -> str | None:
    """`text` with every spelling of `key` replaced by its mask; None stays None."""
    if not text or not key:
        return text
    if key in text:
        text = text.replace(key, mask_key(key))
    if not any(c in text for c in "\\%&+"):  # no escape at all: the raw key was the only way
        return text
    return _pattern(key).sub(lambda _: mask_key(key), text)


def redact_exception(exc: BaseException, key: str | None) -> BaseException:
    """`exc` itself when its text does not hold the key, else a new exception of the same type
    (or RuntimeError when that type cannot be rebuilt from one message) with the key masked."""
    text = str(exc)
    clean = redact(text, key)
    if clean == text:
        return exc
    try:
        return type(exc)(clean)
    except Exception:  # noqa: BLE001 - a type that needs other arguments
        return RuntimeError(f"{type(exc).__name__}: {clean}")


__all__ = ["mask_key", "redact", "redact_exception"]
