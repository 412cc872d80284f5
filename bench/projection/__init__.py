"""Decoding only what the subscriptions read: measured, not adopted (docs/design-decisions.md,
"Decoding stays whole"). ``reads`` computes the paths compiled subscriptions read; ``decoder``
is the exact projected decoder those figures are for (tests/bench/test_projection.py proves it
exact); bench/bench_projection.py measures it against the pipeline's decoder."""
