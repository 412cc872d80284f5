"""The application: building a pipeline from a configuration and running it, live (``run``) or
bounded (``replay``, ``redrive``); the operator's views (``status``, ``offsets reset``)."""

from ._build import build_pipeline
from ._offsets_reset import ResetTarget, execute_reset, plan_reset
from ._pipeline import Pipeline, PipelineStats
from ._ranges import RangeRequest, resolve_ranges
from ._redrive import EVERY_SUBSCRIPTION, Redrive, RedriveOptions
from ._redrive_io import LetterMessage, LetterSource, RedriveWriter
from ._redrive_lease import RedriveLease, lease_group
from ._redrive_plan import Letter, RedriveFilters, RedrivePlan, plan_redrive
from ._replay import (
    Replay,
    ReplayOptions,
    ReplaySummary,
    check_group,
    choose_subscriptions,
    configured_subscriptions,
    metric_totals,
    replay_config,
)
from ._replay_dry import DryRun
from ._runner import run_until_signalled
from ._status import DEAD_LETTER_CAP, DEAD_LETTER_WINDOW_S, dead_letter_summary, group_status

__all__ = [
    "DEAD_LETTER_CAP",
    "DEAD_LETTER_WINDOW_S",
    "EVERY_SUBSCRIPTION",
    "DryRun",
    "Letter",
    "LetterMessage",
    "LetterSource",
    "Pipeline",
    "PipelineStats",
    "RangeRequest",
    "Redrive",
    "RedriveFilters",
    "RedriveLease",
    "RedriveOptions",
    "RedrivePlan",
    "RedriveWriter",
    "Replay",
    "ReplayOptions",
    "ReplaySummary",
    "ResetTarget",
    "build_pipeline",
    "check_group",
    "choose_subscriptions",
    "configured_subscriptions",
    "dead_letter_summary",
    "execute_reset",
    "group_status",
    "lease_group",
    "metric_totals",
    "plan_redrive",
    "plan_reset",
    "replay_config",
    "resolve_ranges",
    "run_until_signalled",
]
