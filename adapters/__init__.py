"""Adapters: one module per source system. They speak HTTP and JSON, know nothing of the store."""
