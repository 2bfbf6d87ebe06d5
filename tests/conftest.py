"""Hypothesis profiles: ``ci`` (the default, keeps the suite to a few minutes),
``thorough`` (many more examples, for a policy change or before a release) and ``fuzz``
(10 000 examples, for the fuzz targets)::

    python3 -m pytest --hypothesis-profile=thorough
    python3 -m pytest tests/test_fuzz.py --hypothesis-profile=fuzz
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

for name, examples in (("ci", 100), ("thorough", 1_000), ("fuzz", 10_000)):
    settings.register_profile(
        name,
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        print_blob=True,
    )
settings.load_profile("ci")
