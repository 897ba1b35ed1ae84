"""Shared test configuration: Hypothesis profiles and an event-loop runner."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# Every property runs at least 200 examples; VALORIZE_HYPOTHESIS_PROFILE=thorough runs more.
settings.register_profile("default", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("VALORIZE_HYPOTHESIS_PROFILE", "default"))
