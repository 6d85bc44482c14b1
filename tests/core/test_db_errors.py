"""A database error never carries the values it was given: SQLAlchemy's messages name the
statement's parameters unless told not to, and an unexpected error is logged whole."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from bridge.store.db import Store
from bridge.store.schema import SourceRecordRow


def test_an_integrity_error_does_not_show_the_record(store: Store) -> None:
    row = {"source": "primero", "system": "primero", "record_id": "p1", "state": "mapped",
           "payload": {"name_first": "Malivexa"}, "payload_hash": "h", "issues": []}  # fmt: skip
    with store.session() as session:
        session.add(SourceRecordRow(**row))
    with pytest.raises(IntegrityError) as caught, store.session() as session:
        session.add(SourceRecordRow(**row))
    assert "Malivexa" not in str(caught.value)
    assert "parameters hidden" in str(caught.value)
