"""The ``bridge`` command's exit codes (a module of its own: ``cli`` reads them at start-up
without importing the sync and its database layer)."""

from __future__ import annotations

EXIT_OK = 0
EXIT_ATTENTION = 3  # the run finished, but records were quarantined or a source failed
EXIT_LOCKED = 4  # another sync holds the lock
EXIT_CONFIG = 5  # configuration or database problem
