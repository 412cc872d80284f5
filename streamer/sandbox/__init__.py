"""The Ortto sandbox: a local server speaking the Ortto contract (``ortto-destination.md``),
for the tests, the demo and the benchmarks, since the real Ortto is not reachable from them.

What it does: ``POST /v1/identify`` and ``/v1/track`` (arrays of at most 500 items, answered
with ``{"errors": [...]}``), ``GET /v1/me``, ``POST /v1/audiences/create``; bearer-key checks;
per-item validation that names the field; de-duplication of activities on ``message_id`` +
``timestamp``; Ortto's ban of callers that make 15 bad requests within 15 seconds (on by
default, ``ban=False`` / ``--no-ban`` turns it off); fault injection by rate and schedule
(item errors, 5xx, 429 with ``Retry-After`` and ``try-in-seconds``, delays, hangs, dropped
connections, keys that go bad); requests held open until released; a lean intake for
benchmarks (items counted and answered, not validated nor stored, latencies recorded); and
read-back of all of it from Python (:class:`SandboxState`) or over HTTP (``/_sandbox/``,
:class:`SandboxClient`).

Three ways to run it:

* in-process, on the caller's loop: ``async with SandboxServer(SandboxState(...)) as server``;
* in a thread, for synchronous tests: ``with SandboxServer().run_in_thread() as server``;
* in a child process: ``with SandboxProcess(...) as sandbox`` (``streamer sandbox --port 0``).
"""

from ._client import SandboxClient
from ._faults import FaultPlan, FaultRule, load_fault_plan
from ._gate import BanPolicy
from ._lean import Intake, IntakeReport
from ._process import SandboxProcess
from ._server import SandboxServer
from ._state import DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_ITEMS, SandboxState
from ._types import EndpointStats, HeldView, RequestRecord, SandboxStats
from ._validate import check_activity, check_contact, is_valid_key_shape

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_MAX_ITEMS",
    "BanPolicy",
    "EndpointStats",
    "FaultPlan",
    "FaultRule",
    "HeldView",
    "Intake",
    "IntakeReport",
    "RequestRecord",
    "SandboxClient",
    "SandboxProcess",
    "SandboxServer",
    "SandboxState",
    "SandboxStats",
    "check_activity",
    "check_contact",
    "is_valid_key_shape",
    "load_fault_plan",
]
