"""Sender: the Ortto client, the rate budget, the retry policy, the governors and the delivery
of batches."""

from ._answers import ItemError, parse_item_errors, retry_after_seconds
from ._bucket import TokenBucket
from ._client import OrttoClient, PostResult
from ._governor import Governor, Governors
from ._policy import RequestVerdict, RetryPolicy
from ._region import base_url_for_key, check_api_key
from ._sender import DeliverySink, Sender

__all__ = [
    "DeliverySink",
    "Governor",
    "Governors",
    "ItemError",
    "OrttoClient",
    "PostResult",
    "RequestVerdict",
    "RetryPolicy",
    "Sender",
    "TokenBucket",
    "base_url_for_key",
    "check_api_key",
    "parse_item_errors",
    "retry_after_seconds",
]
