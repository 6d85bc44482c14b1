"""Matching engine: pure functions over person records. No HTTP, no SQL, no import of ``bridge``."""
