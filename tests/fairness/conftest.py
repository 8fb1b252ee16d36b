"""Hypothesis profiles for the fairness tests: derandomised in CI so runs are repeatable.

If a project-wide ``tests/conftest.py`` has already registered the ``ci`` profile, it is left
as it is (hypothesis settings are global, so loading a second copy here would override it for
every test in the session).
"""

import os

from hypothesis import HealthCheck, settings
from hypothesis.errors import InvalidArgument

try:
    settings.get_profile("ci")
except InvalidArgument:
    settings.register_profile(
        "ci",
        derandomize=True,
        deadline=None,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    settings.register_profile("dev", deadline=None)
    settings.load_profile("ci" if os.environ.get("CI") else "dev")
