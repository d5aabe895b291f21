"""Settings for every test run, unit tests and notebooks alike.

Notebook kernels started by nbval inherit this environment: no progress bars,
and a non-interactive Matplotlib backend for the unit tests.
"""

import os

os.environ.setdefault("EMOLAB_NO_PROGRESS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
