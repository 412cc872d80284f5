"""The application: building a pipeline from a configuration and running it."""

from ._build import build_pipeline
from ._pipeline import Pipeline, PipelineStats
from ._runner import run_until_signalled

__all__ = ["Pipeline", "PipelineStats", "build_pipeline", "run_until_signalled"]
