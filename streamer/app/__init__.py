"""The application: building a pipeline from a configuration and running it, live (``run``) or
over a bounded range (``replay``)."""

from ._build import build_pipeline
from ._pipeline import Pipeline, PipelineStats
from ._ranges import RangeRequest, resolve_ranges
from ._replay import (
    Replay,
    ReplayOptions,
    ReplaySummary,
    check_group,
    choose_subscriptions,
    replay_config,
)
from ._replay_dry import DryRun
from ._runner import run_until_signalled

__all__ = [
    "DryRun",
    "Pipeline",
    "PipelineStats",
    "RangeRequest",
    "Replay",
    "ReplayOptions",
    "ReplaySummary",
    "build_pipeline",
    "check_group",
    "choose_subscriptions",
    "replay_config",
    "resolve_ranges",
    "run_until_signalled",
]
