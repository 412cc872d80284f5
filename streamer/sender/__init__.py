"""Sender: the Ortto client, the retry policy, the governor and the delivery of batches."""

from ._answers import ItemError, parse_item_errors, retry_after_seconds
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
    "base_url_for_key",
    "check_api_key",
    "parse_item_errors",
    "retry_after_seconds",
]
