"""Where a key's requests go: the region and environment are written in the key itself."""

from __future__ import annotations

from .._exceptions import InvalidApiKeyError

__all__ = ["base_url_for_key", "check_api_key"]


def check_api_key(api_key: str) -> tuple[str, str]:
    """Return ``(environment, region)`` of a key like ``pau-XXXX``; never echo the key."""
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
