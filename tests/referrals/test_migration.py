from __future__ import annotations

from sqlalchemy import inspect

from bridge.referrals.tables import OutboxRow, ReferralScanRow
from bridge.store.db import open_store


def test_migration_0003_creates_the_tables_the_models_describe(db_url: str) -> None:
    store = open_store(db_url)
    inspector = inspect(store.engine)
    for model in (OutboxRow, ReferralScanRow):
        table = model.__table__
        columns = {c["name"]: c for c in inspector.get_columns(table.name)}
        assert set(columns) == {c.name for c in table.columns}
        for column in table.columns:
            assert columns[column.name]["nullable"] == column.nullable, column.name
    uniques = {
        tuple(u["column_names"]) for u in inspector.get_unique_constraints("referral_outbox")
    }
    assert {("source_key",), ("idempotency_key",)} <= uniques
    store.close()
