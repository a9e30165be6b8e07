"""How many examples a Hypothesis test draws.

Tests state their example budget as ``max_examples=examples(n)``: ``n`` under the default,
reproducible profile (CI), and ``n × HYPOTHESIS_SCALE`` (default 10) under
``HYPOTHESIS_PROFILE=explore``, so that an exploratory run really searches harder (an explicit
``max_examples`` would otherwise override the profile)."""
import os

SCALE = int(os.environ.get("HYPOTHESIS_SCALE", "10")) if os.environ.get("HYPOTHESIS_PROFILE") == "explore" else 1


def examples(n: int) -> int:
    return int(n) * SCALE
