"""The bridge's own database: raw source records, canonical children, links, cursors, runs."""

from bridge.store.db import Store, open_store, upgrade

__all__ = ["Store", "open_store", "upgrade"]
