"""Where a key's requests go: the region and environment are written in the key itself.

The key is checked before any request is built, and no message ever contains it: a key with
surrounding whitespace (a newline from a secret file) or a character that cannot travel in an
HTTP header is refused here with the position of the problem only.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from .._exceptions import InvalidApiKeyError

__all__ = ["base_url_for_key", "check_api_key", "endpoint_host"]


def check_api_key(api_key: str) -> tuple[str, str]:
    """Return ``(environment, region)`` of a key like ``pau-XXXX``; never echo the key."""
    if api_key != api_key.strip():
        raise InvalidApiKeyError(
            "ortto.api_key: starts or ends with whitespace (a newline from a secret file?); "
            "remove it; no request was sent"
        )
    for position, char in enumerate(api_key, start=1):
        if not " " < char <= "~":
            what = "a non-ASCII character" if not char.isascii() else "a space or control character"
            raise InvalidApiKeyError(
                f"ortto.api_key: character {position} is {what}, which an HTTP header cannot "
                "carry (a key is ASCII); no request was sent"
            )
    if len(api_key) < 4 or api_key[3] != "-" or not api_key[1:3].isalpha():
        raise InvalidApiKeyError(
            "ortto.api_key: not an Ortto key (expected the form 'pau-...': environment letter, "
            "two-letter region, '-'); no request was sent"
        )
    environment = "staging" if api_key[0] == "s" else "production"
    return environment, api_key[1:3].lower()


def base_url_for_key(api_key: str, override: str | None = None) -> str:
    """The base URL (ending in ``/v1``) for this key, or the configured override."""
    environment, region = check_api_key(api_key)
    if override:
        return override.rstrip("/")
    domain = "ortto-stg.app" if environment == "staging" else "ortto.app"
    return f"https://segment-action-api-{region}.{domain}/v1"


def endpoint_host(base_url: str) -> str:
    """``host[:port]`` of a base URL, for messages (never the key)."""
    return urlsplit(base_url).netloc or base_url
