"""Adapters: one module per source system. They speak HTTP and JSON and know nothing of the store."""
