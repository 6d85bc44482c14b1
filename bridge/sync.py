"""Sync runs: pull every configured source since its cursor, store, map, link, page by page.

For each page: one transaction stores the raw records, maps them (quarantining what does not
map), links them and — only then — moves the source's cursor. A crash loses nothing: the
next run repeats at most the page that was in flight. A lock keeps two runs apart.

A backlog (several pages, many compared with what is linked) is linked in one pass when the
run has stored its last page, not page by page (``Linker.defers``): its pages still commit one
by one with their cursor, their records waiting mapped but unlinked; a run killed meanwhile
leaves them waiting, and the next run links them with its own. The next page is pulled while
the current one is stored (``bridge.pipeline.Ahead``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from adapters.base import Page, SourceAdapter
from adapters.errors import BridgeError, ConfigError, SourceError
from bridge.config import Config, LimitsConfig, MatchingConfig, SourceConfig
from bridge.exit_codes import EXIT_ATTENTION as EXIT_ATTENTION
from bridge.exit_codes import EXIT_CONFIG as EXIT_CONFIG
from bridge.exit_codes import EXIT_LOCKED as EXIT_LOCKED
from bridge.exit_codes import EXIT_OK as EXIT_OK
from bridge.ingest import PageCounts, store_page, store_page_by_record
from bridge.linking import LinkCounts, Linker
from bridge.logs import context as log_context
from bridge.logs import event
from bridge.mapping import load_mapping
from bridge.pipeline import Ahead
from bridge.runlock import LockHeld, heartbeat, run_lock
from bridge.store.db import Store
from bridge.store.schema import SyncCursorRow, SyncRunRow

log = logging.getLogger(__name__)


Progress = Callable[[str], None]


@dataclass
class SourceReport:
    source: str
    counts: PageCounts = field(default_factory=PageCounts)
    pages: int = 0
    cursor_before: str | None = None
    cursor_after: str | None = None
    error: str | None = None


@dataclass
class RunReport:
    run_id: int
    command: str
    sources: list[SourceReport] = field(default_factory=list)
    status: str = "ok"
    referrals: Any = None  # bridge.referrals.service.ReferralRunReport, when referrals ran
    estimates: dict[str, Any] | None = None  # the engine's estimates after the run (``estimates``)
    backlog: LinkCounts | None = None  # the one-pass link of a backlog at the end of the run

    @property
    def needs_attention(self) -> bool:
        sources = any(s.error or s.counts.quarantined or s.counts.unreadable for s in self.sources)
        return sources or bool(self.referrals is not None and self.referrals.needs_attention)

    @property
    def exit_code(self) -> int:
        return EXIT_ATTENTION if self.needs_attention else EXIT_OK


def build_adapter(source: SourceConfig) -> SourceAdapter:
    if source.kind == "primero":
        from adapters.primero import PrimeroAdapter

        return PrimeroAdapter(
            source.base_url or "",
            source.username or "",
            source.password(),
            page_size=source.page_size,
            auth=source.auth,
            timeout=source.timeout_seconds,
            max_attempts=source.max_attempts,
            name=source.name,
        )
    if source.kind == "oscar":
        from adapters.oscar import OscarAdapter

        return OscarAdapter(
            source.base_url or "",
            source.email or "",
            source.password(),
            overlap=timedelta(minutes=source.overlap_minutes),
            timeout=source.timeout_seconds,
            max_attempts=source.max_attempts,
            name=source.name,
        )
    from adapters.files import FileAdapter

    return FileAdapter(source.source_system, Path(source.path or ""))  # type: ignore[arg-type]


def get_cursor(store: Store, source: str) -> str | None:
    with store.session() as session:
        row = session.get(SyncCursorRow, source)
        return row.cursor if row else None


def set_cursor(store: Store, source: str, value: str) -> None:
    """Set a source's cursor by hand (``bridge cursor set``), e.g. to replay a missed window."""
    with store.session() as session:
        row = session.get(SyncCursorRow, source)
        if row is None:
            session.add(SyncCursorRow(source=source, cursor=value))
        else:
            row.cursor, row.updated_at = value, datetime.now(UTC)


def _start_run(store: Store, command: str) -> int:
    with store.session() as session:
        run = SyncRunRow(command=command, status="running", counts={}, errors=[])
        session.add(run)
        session.flush()
        log.info("run %d (%s) started", run.id, command, extra=event("run_started", run_id=run.id))
        return run.id


def _finish_run(store: Store, report: RunReport) -> None:
    with store.session() as session:
        run = session.get(SyncRunRow, report.run_id)
        assert run is not None
        run.finished_at = datetime.now(UTC)
        run.status = report.status
        run.counts = {s.source: {**s.counts.as_dict(), "pages": s.pages} for s in report.sources}
        if report.estimates is not None:
            run.counts["estimates"] = report.estimates
        if report.backlog is not None:
            run.counts["backlog"] = dict(report.backlog.__dict__)
        run.errors = [
            message
            for s in report.sources
            for message in ([s.error] if s.error else []) + s.counts.problems[:200]
        ]
        counts = {name: dict(value) for name, value in run.counts.items()}
    log.log(
        logging.WARNING if report.status in ("failed", "attention") else logging.INFO,
        "run %d (%s) finished: %s",
        report.run_id,
        report.command,
        report.status,
        extra=event("run_finished", run_id=report.run_id, status=report.status, counts=counts),
    )


def ingest_pages(
    store: Store,
    *,
    source: str,
    system: str,
    pages: Iterable[Page],
    mappings_dir: Path | None,
    linker: Linker,
    run_id: int,
    report: SourceReport,
    progress: Progress | None = None,
    move_cursor: bool = True,
    limits: LimitsConfig | None = None,
    threaded: bool = False,
) -> None:
    """Store the pages one transaction each. ``threaded``: pull the next page in a thread
    while one is stored (a network source). Records of a backlog are left waiting for
    ``link_backlog``."""
    mapping = load_mapping(system, mappings_dir, (limits or LimitsConfig()).screen_limits())
    ahead = Ahead(pages, threaded=threaded, name=source)
    try:
        for page in ahead:
            _ingest_page(store, source, page, mapping, linker, run_id, report, move_cursor, ahead)
            heartbeat(store)
            if progress:
                c = report.counts
                progress(
                    f"{source}: page {report.pages}: {c.pulled} records so far "
                    f"({c.new} new, {c.changed} changed, {c.unchanged} unchanged, "
                    f"{c.quarantined} quarantined)"
                )
    finally:
        ahead.close()


def _ingest_page(
    store: Store,
    source: str,
    page: Page,
    mapping: Any,
    linker: Linker,
    run_id: int,
    report: SourceReport,
    move_cursor: bool,
    ahead: Ahead[Page],
) -> None:
    cursor = page.cursor if move_cursor else None
    incoming = len(page.records) + len(page.bad)
    try:
        with store.session() as session:
            defer = linker.defers(session, incoming, ahead.more)
            counts = store_page(
                session,
                source=source,
                page=page,
                mapping=mapping,
                linker=linker,
                run_id=run_id,
                defer=defer,
            )
            _advance_cursor(session, source, cursor, run_id)
    except Exception as exc:  # one record the database refuses must not stop the sync
        log.warning(
            "%s: page %d could not be stored in one transaction (%s); storing it record by record",
            source,
            page.number,
            type(exc).__name__,
        )
        linker.reset()
        counts = store_page_by_record(
            store,
            source=source,
            page=page,
            mapping=mapping,
            linker=linker,
            run_id=run_id,
            defer=linker.deferring,
        )
        with store.session() as session:
            _advance_cursor(session, source, cursor, run_id)
    if cursor is not None:
        report.cursor_after = cursor
    report.pages += 1
    report.counts.add(counts)


def link_backlog(
    store: Store, linker: Linker, progress: Progress | None = None
) -> LinkCounts | None:
    """Link the run's backlog (and any left by a killed run) in one pass, in one
    transaction; None when the run had none."""
    if not linker.deferring:
        return None
    heartbeat(store)
    with store.session() as session:
        counts = linker.link_backlog(session)
    heartbeat(store)
    if progress:
        progress(
            f"backlog linked in one pass: {counts.linked} records, {counts.new_children} "
            f"new children, {counts.joined} joined a child, {counts.reviews} review items"
        )
    return counts


def _advance_cursor(session: Session, source: str, cursor: str | None, run_id: int) -> None:
    if cursor is None:
        return
    row = session.get(SyncCursorRow, source)
    if row is None:
        session.add(SyncCursorRow(source=source, cursor=cursor, run_id=run_id))
    else:
        row.cursor, row.updated_at, row.run_id = cursor, datetime.now(UTC), run_id


def run_sync(
    config: Config,
    store: Store,
    *,
    source_names: list[str] | None = None,
    since: str | None = None,
    progress: Progress | None = None,
    adapter_factory: Callable[[SourceConfig], SourceAdapter] = build_adapter,
    referrals: bool = True,
) -> RunReport:
    """One sync run over the chosen sources (all enabled ones by default), then the
    referral router (``referrals=False`` skips it)."""
    sources = (
        [config.source(n) for n in source_names]
        if source_names
        else [s for s in config.sources if s.enabled]
    )
    if not sources:
        raise ConfigError(
            "no sources to sync: add [[sources]] to the configuration (see config.example.toml)"
        )
    run_id = _start_run(store, "sync")
    report = RunReport(run_id=run_id, command="sync")
    try:
        with run_lock(store, run_id=run_id), log_context(run_id=run_id):
            linker = Linker(config.matching)
            for source in sources:
                report.sources.append(
                    _sync_source(
                        store, config, source, linker, run_id, since, progress, adapter_factory
                    )
                )
            report.backlog = link_backlog(store, linker, progress)
            if referrals and any(s.kind in ("primero", "oscar") for s in sources):
                from bridge.referrals.service import route_and_deliver

                # route what the pages brought, deliver what is due, write decisions back
                report.referrals = route_and_deliver(config, store, None, progress)
            if any(s.counts.new or s.counts.changed for s in report.sources):
                report.estimates = _estimates(store, config.matching, progress)
            # recorded as finished before the lock goes, so the next run starts after it
            report.status = "attention" if report.needs_attention else "ok"
            _finish_run(store, report)
    except LockHeld:
        report.status = "locked"
        _finish_run(store, report)
        raise
    except BaseException:
        report.status = "failed"
        _finish_run(store, report)
        raise
    return report


def _estimates(
    store: Store, matching: MatchingConfig, progress: Progress | None
) -> dict[str, Any] | None:
    from bridge.estimates import safely_compute

    if progress is not None and matching.estimates:
        progress("estimating precision and unique children from the model")
    return safely_compute(store, matching)


def _sync_source(
    store: Store,
    config: Config,
    source: SourceConfig,
    linker: Linker,
    run_id: int,
    since: str | None,
    progress: Progress | None,
    adapter_factory: Callable[[SourceConfig], SourceAdapter] = build_adapter,
) -> SourceReport:
    with log_context(source=source.name):
        report = _pull_source(
            store, config, source, linker, run_id, since, progress, adapter_factory
        )
        log.log(
            logging.WARNING if report.error else logging.INFO,
            "%s: %d records pulled in %d page(s)%s",
            source.name,
            report.counts.pulled,
            report.pages,
            ", stopped by an error" if report.error else "",
            extra=event("source_synced", counts={**report.counts.as_dict(), "pages": report.pages}),
        )
    return report


def _pull_source(
    store: Store,
    config: Config,
    source: SourceConfig,
    linker: Linker,
    run_id: int,
    since: str | None,
    progress: Progress | None,
    adapter_factory: Callable[[SourceConfig], SourceAdapter],
) -> SourceReport:
    cursor = since or get_cursor(store, source.name)
    report = SourceReport(source=source.name, cursor_before=cursor)
    adapter: SourceAdapter | None = None
    try:
        adapter = adapter_factory(source)
        ingest_pages(
            store,
            source=source.name,
            system=source.source_system,
            pages=adapter.pull(cursor),
            mappings_dir=config.mappings_path,
            limits=config.limits,
            linker=linker,
            run_id=run_id,
            report=report,
            progress=progress,
            threaded=source.kind in ("primero", "oscar"),
        )
    except (SourceError, ConfigError) as exc:
        # the pages already committed stay; the cursor stays at the last committed page
        report.error = f"{source.name}: {exc}"
        log.error("%s", report.error)
    except BridgeError as exc:
        report.error = f"{source.name}: {exc}"
        log.error("%s", report.error)
    finally:
        if adapter is not None:
            adapter.close()
    return report


def run_import(
    store: Store,
    *,
    system: str,
    path: Path,
    mappings_dir: Path | None = None,
    config: Config | None = None,
    progress: Progress | None = None,
    page_size: int = 5000,
) -> RunReport:
    """Load an API-shaped dump (a JSON list, or ``{"data": [...]}``) like a sync would."""
    from adapters.files import FileAdapter

    if system not in ("primero", "oscar"):
        raise ConfigError(f"unknown system {system!r}: use primero or oscar")
    if not path.is_file():
        raise ConfigError(f"file {path} not found")
    matching = config.matching if config else Linker().config
    run_id = _start_run(store, "import")
    report = RunReport(run_id=run_id, command="import")
    source_report = SourceReport(source=f"file:{system}")
    report.sources.append(source_report)
    adapter = FileAdapter(system, path, chunk_size=page_size)  # type: ignore[arg-type]
    linker = Linker(matching)
    try:
        with run_lock(store, run_id=run_id), log_context(run_id=run_id, source=f"file:{system}"):
            ingest_pages(
                store,
                source=f"file:{system}",
                system=system,
                pages=adapter.pull(None),
                mappings_dir=mappings_dir,
                limits=config.limits if config else None,
                linker=linker,
                run_id=run_id,
                report=source_report,
                progress=progress,
                move_cursor=False,
            )
            report.backlog = link_backlog(store, linker, progress)
            if source_report.counts.new or source_report.counts.changed:
                report.estimates = _estimates(store, matching, progress)
    except BaseException:
        report.status = "failed"
        _finish_run(store, report)
        raise
    finally:
        adapter.close()
    report.status = "attention" if report.needs_attention else "ok"
    _finish_run(store, report)
    return report
