"""The ``bridge`` command: parses, calls one function of ``bridge``, prints.

Exit codes: 0 done; 1 unexpected error; 2 bad usage; 3 done, but something needs attention
(quarantined records, a source that failed, a record that would be quarantined in a mapping
check); 4 another sync is running; 5 configuration or database problem.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from adapters.errors import BridgeError, ConfigError
from bridge import __version__
from bridge.exit_codes import EXIT_ATTENTION, EXIT_CONFIG, EXIT_LOCKED

# the configuration, the store and the engine are imported by the commands that use them, so
# that ``bridge --help`` answers at once
if TYPE_CHECKING:
    from bridge.config import Config
    from bridge.store.db import Store
    from bridge.sync import RunReport

app = typer.Typer(
    help="The child-record bridge: syncs Primero and OSCaR, links each child across systems "
    "under one stable child id, and routes referrals.",
    no_args_is_help=True,
    epilog="Exit codes (every command): 0 done; 1 unexpected error; 2 bad usage; 3 done, but "
    "something needs attention (quarantined records, a failed source, dead letters); 4 another "
    "sync is running; 5 configuration or database problem.",
    add_completion=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="The bridge's own database.", no_args_is_help=True)
children_app = typer.Typer(help="Children and their child ids.", no_args_is_help=True)
review_app = typer.Typer(help="Possible duplicates for the helpdesk.", no_args_is_help=True)
mapping_app = typer.Typer(help="Declarative mappings (files in mappings/).", no_args_is_help=True)
sandbox_app = typer.Typer(help="Lookalike Primero and OSCaR servers.", no_args_is_help=True)
cursor_app = typer.Typer(help="Sync cursors (where the next sync starts).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(children_app, name="children")
app.add_typer(review_app, name="review")
app.add_typer(mapping_app, name="mapping")
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(cursor_app, name="cursor")


class State:
    config_path: str | None = None
    log_format: str | None = None
    verbose: bool = False
    _config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            from bridge.config import load_config

            self._config = load_config(self.config_path)
            self._log_as_configured(self._config)
        return self._config

    def _log_as_configured(self, config: Config) -> None:
        from bridge.logs import configure

        wanted = config.logging
        level = "info" if self.verbose and wanted.level != "debug" else wanted.level
        configure(self.log_format or wanted.format, level, wanted.levels)


state = State()


def err(message: str) -> None:
    typer.echo(message, err=True)


@contextmanager
def reporter(quiet: bool) -> Iterator[Callable[[str], None] | None]:
    """Progress of long work on stderr: bars on a terminal, else lines in the log format."""
    from bridge.progress import reporter as choose

    with choose(quiet) as shown:
        yield shown


def fail(message: str, code: int) -> typer.Exit:
    notice(f"error: {message}", "error", logging.ERROR)
    return typer.Exit(code)


def notice(message: str, name: str, level: int = logging.WARNING) -> None:
    """A line for stderr in the log format chosen (plain, or a JSON line named ``name``)."""
    from bridge.logs import notice as write

    write(message, name, level)


def get_store(*, migrate: bool = True) -> Store:
    from bridge.store.db import open_store

    return open_store(state.config.database_url, migrate=migrate)


def version_callback(value: bool) -> None:
    if value:
        typer.echo(f"bridge {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    config: Annotated[
        str | None,
        typer.Option(
            "--config",
            "-c",
            envvar="BRIDGE_CONFIG",
            help="Configuration file (TOML). Default: $BRIDGE_CONFIG, else built-in defaults "
            "(SQLite file bridge.db here, no sources).",
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log more.")] = False,
    log_format: Annotated[
        str | None,
        typer.Option(
            "--log-format",
            help="Log lines on stderr as 'plain' text or 'json' (one object a line, for a log "
            "collector). Default: the config's logging format, else plain.",
            show_default=False,
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=version_callback,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    from bridge.logs import FORMATS, configure

    if log_format is not None and log_format not in FORMATS:
        raise typer.BadParameter(f"use one of {', '.join(FORMATS)}", param_hint="--log-format")
    state.config_path = config
    state._config = None
    state.log_format, state.verbose = log_format, verbose
    # until the configuration is read (by the commands that need it), the command line decides
    configure(log_format or "plain", logging.INFO if verbose else logging.WARNING)


# -- database ------------------------------------------------------------------------------
@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create the database or bring its schema up to date (safe to re-run)."""
    from bridge.store.db import upgrade

    store = get_store(migrate=False)
    revision = upgrade(store.engine)
    typer.echo(f"database {store.where} at revision {revision}")


@db_app.command("current")
def db_current() -> None:
    """Print the schema revision of the database and the newest one the bridge knows."""
    from bridge.store.db import current_revision, head_revision

    store = get_store(migrate=False)
    typer.echo(
        f"database {store.where}: revision {current_revision(store.engine)} "
        f"(newest {head_revision()})"
    )


# -- sync and import -----------------------------------------------------------------------
def print_run(report: RunReport) -> None:
    for source in report.sources:
        c = source.counts
        typer.echo(
            f"{source.source}: {c.pulled} pulled in {source.pages} page(s): {c.new} new, "
            f"{c.changed} changed, {c.unchanged} unchanged, {c.quarantined} quarantined, "
            f"{c.unreadable} unreadable, {c.warnings} warnings; "
            f"{c.links.new_children} new children, {c.links.joined} joined a child, "
            f"{c.links.merged_children} merged, {c.links.reviews} new review items"
        )
        if source.cursor_after:
            typer.echo(f"  cursor now {source.cursor_after}")
        if source.error:
            notice(
                f"  source failed: {source.error}; the pages before the failure are stored: "
                "run `bridge sync` again to resume",
                "source_failed",
            )
        for problem in c.problems[:20]:
            notice(f"  quarantined: {problem}", "quarantined")
        if len(c.problems) > 20:
            notice(f"  ... and {len(c.problems) - 20} more (see `bridge status`)", "quarantined")
    if report.backlog is not None:
        b = report.backlog
        typer.echo(
            f"backlog linked in one pass: {b.linked} records, {b.new_children} new children, "
            f"{b.joined} joined a child, {b.merged_children} merged, {b.reviews} new review items"
        )
    if report.referrals is not None:
        for line in report.referrals.lines():
            typer.echo(line)
    typer.echo(f"run {report.run_id}: {report.status}")


@app.command()
def sync(
    source: Annotated[
        list[str] | None,
        typer.Option("--source", "-s", help="Sync only this source (repeatable). Default: all."),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            help="Start from this cursor instead of the stored one, to replay a "
            "missed window (Primero: ISO time; OSCaR: 'YYYY-MM-DD HH:MM:SS')."
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress lines.")] = False,
) -> None:
    """Pull every configured source since its cursor, store, map, link; safe to re-run."""
    from bridge.runlock import LockHeld
    from bridge.sync import run_sync

    try:
        store = get_store()
        with reporter(quiet) as shown:
            report = run_sync(
                state.config, store, source_names=source or None, since=since, progress=shown
            )
    except LockHeld as exc:
        raise fail(str(exc), EXIT_LOCKED) from None
    except ConfigError as exc:
        raise fail(str(exc), EXIT_CONFIG) from None
    print_run(report)
    raise typer.Exit(report.exit_code)


@app.command("import")
def import_file(
    system: Annotated[str, typer.Argument(help="primero or oscar: what the file holds.")],
    file: Annotated[
        Path, typer.Argument(help='API-shaped JSON dump: a list of records or {"data": [...]}.')
    ],
    page_size: Annotated[
        int, typer.Option(help="Records stored and linked per transaction.")
    ] = 5000,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress lines.")] = False,
) -> None:
    """Load an API-shaped dump the way a sync would (works with no configuration file)."""
    from bridge.runlock import LockHeld
    from bridge.sync import run_import

    try:
        store = get_store()
        with reporter(quiet) as shown:
            report = run_import(
                store,
                system=system,
                path=file,
                mappings_dir=state.config.mappings_path,
                config=state.config,
                progress=shown,
                page_size=page_size,
            )
    except LockHeld as exc:
        raise fail(str(exc), EXIT_LOCKED) from None
    except ConfigError as exc:
        raise fail(str(exc), EXIT_CONFIG) from None
    print_run(report)
    raise typer.Exit(report.exit_code)


@cursor_app.command("show")
def cursor_show() -> None:
    """Print each source's cursor."""
    from bridge.reports import status

    for source, cursor, updated in status(get_store()).cursors:
        typer.echo(f"{source}\t{cursor}\t(updated {updated})")


@cursor_app.command("set")
def cursor_set(
    source: Annotated[str, typer.Argument(help="Source name from the configuration.")],
    value: Annotated[
        str, typer.Argument(help="New cursor (Primero ISO time; OSCaR 'YYYY-MM-DD HH:MM:SS').")
    ],
) -> None:
    """Move a source's cursor (e.g. back, to replay a window); the next sync starts there."""
    from bridge.sync import set_cursor

    state.config.source(source)
    set_cursor(get_store(), source, value)
    typer.echo(f"{source}: cursor set to {value}")


# -- status --------------------------------------------------------------------------------
@app.command()
def status(
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json")] = "table",
) -> None:
    """Last runs, cursors and counts."""
    from dataclasses import asdict

    from bridge.reports import status as read_status

    st = read_status(get_store())
    if fmt == "json":
        typer.echo(json.dumps(asdict(st), indent=2, default=str))
        return
    typer.echo(f"database: {st.database}")
    for system, states in sorted(st.records.items()):
        parts = ", ".join(f"{n} {s}" for s, n in sorted(states.items()))
        typer.echo(f"records {system}: {parts}")
    typer.echo(f"children: {st.children} ({st.linked_across_systems} in both systems)")
    typer.echo(f"open review items: {st.open_reviews} (and {st.open_audits} audits of links)")
    e = st.estimates or {}
    if "unique_children" in e:
        typer.echo(
            f"estimates (run {e['run_id']}, from the model): unique children "
            f"{e['unique_children']:,} (95% {e['unique_children_low']:,}-"
            f"{e['unique_children_high']:,}) for {e['children']:,} ids; link precision "
            f"{e['precision']:.4f}, recall {e['recall']:.3f}, expected wrong merges "
            f"{e['wrong_merges']:,.0f}"
        )
    if "audited_pairs" in e:
        typer.echo(
            f"audited precision (helpdesk answers to {e['audited_pairs']} sampled links): "
            f"{e['audited_precision']:.4f} (95% {e['audited_low']:.4f}-{e['audited_high']:.4f})"
        )
    for source, cursor, updated in st.cursors:
        typer.echo(f"cursor {source}: {cursor} (updated {updated})")
    for run in st.runs:
        typer.echo(
            f"run {run['id']} {run['command']} {run['status']} {run['started_at']}"
            f" -> {run['finished_at'] or '...'} errors {run['errors']}"
        )


# -- children and reviews ------------------------------------------------------------------
def _csv_out(output: Path | None) -> Any:
    return output.open("w", newline="", encoding="utf-8") if output else sys.stdout


@children_app.command("export")
def children_export(
    child_id: Annotated[
        str | None, typer.Argument(help="With --subject: the child whose data to export.")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="csv (the only format)")] = "csv",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File; default stdout")
    ] = None,
    subject: Annotated[
        bool,
        typer.Option(
            "--subject",
            help="Everything the bridge holds on CHILD_ID as JSON (subject access; audited).",
        ),
    ] = False,
    golden: Annotated[
        bool,
        typer.Option(
            "--golden",
            help="Each child's golden record as JSON lines, each value with the record it "
            "came from and the rule that chose it (personal data: audited).",
        ),
    ] = False,
    by: HelpdeskBy = None,
) -> None:
    """One row per stored record: system,record_id,child_id. With --golden: one JSON line per
    child, its golden record. With CHILD_ID --subject: every record, link, decision, review
    item, referral and audit row about that child, as JSON (a file written readable by its
    owner only)."""
    from bridge.reports import children_export_rows

    if subject or child_id:
        _subject_export(child_id, output, by)
        return
    if golden:
        _golden_export(output, by)
        return
    if fmt != "csv":
        raise fail("only --format csv is supported", 2)
    store = get_store()
    out = _csv_out(output)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["system", "record_id", "child_id"])
    with store.session() as session:
        for row in children_export_rows(session):
            writer.writerow(row)
    if output:
        out.close()


def _golden_export(output: Path | None, by: str | None) -> None:
    from bridge.golden import every_child, golden_record, resolutions, resolved_for
    from bridge.helpdesk.audit import record_audit

    store = get_store()
    children = 0
    out = _private_out(output) if output else sys.stdout
    with store.session() as session:
        answers = resolutions(session)
        for child_id, sources in every_child(session):
            answered = resolved_for(answers, sources)
            record = golden_record(child_id, sources, resolved=answered).as_dict()
            out.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
            children += 1
        record_audit(
            session, actor=by or _actor(), action="golden_export", child_id=None,
            details={"children": children, "to": "file" if output else "stdout"},
        )  # fmt: skip
    if output:
        out.close()
        err(f"{output}: {children} golden record(s)")


def _private_out(output: Path) -> Any:
    """A new file only its owner may read (it holds personal data)."""
    fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    return os.fdopen(fd, "w", encoding="utf-8")


def _subject_export(child_id: str | None, output: Path | None, by: str | None) -> None:
    from bridge.helpdesk import HelpdeskError
    from bridge.subject import subject_export

    if not child_id:
        raise fail("--subject needs the CHILD_ID", 2)
    try:
        with get_store().session() as session:
            document = subject_export(session, child_id, by=by)
    except HelpdeskError as exc:
        raise fail(str(exc), 2) from None
    text = json.dumps(document, indent=2, ensure_ascii=False, default=str)
    if output is None:
        typer.echo(text)
        return
    with _private_out(output) as fh:
        fh.write(text + "\n")
    err(f"{output}: {len(document['records'])} record(s) of child {document['child_id']}")


@review_app.command("export")
def review_export(
    fmt: Annotated[str, typer.Option("--format", "-f", help="csv (the only format)")] = "csv",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File; default stdout")
    ] = None,
) -> None:
    """Open possible duplicates: system_a,record_id_a,system_b,record_id_b,score."""
    from bridge.linking import split_key
    from bridge.reports import open_reviews
    from bridge.store.schema import POSSIBLE

    if fmt != "csv":
        raise fail("only --format csv is supported", 2)
    store = get_store()
    out = _csv_out(output)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["system_a", "record_id_a", "system_b", "record_id_b", "score"])
    with store.session() as session:
        for item in open_reviews(session, POSSIBLE):
            writer.writerow([*split_key(item.key_a), *split_key(item.key_b), f"{item.score:.4f}"])
    if output:
        out.close()


@review_app.command("sample")
def review_sample(
    links: Annotated[
        int, typer.Option("--links", min=1, help="How many automatic links to sample.")
    ],
    seed: Annotated[
        int | None, typer.Option(help="Seed of the random draw (the same seed, the same draw).")
    ] = None,
) -> None:
    """Put a random sample of automatic links into the queue as audit items.

    The helpdesk answers them like any pair (merge = the same child, distinct = not the same
    child: the link is split); their answers give a measured precision with a 95% interval,
    shown by `bridge status` beside the model's estimate."""
    from bridge.helpdesk.link_audit import sample_links

    with get_store().session() as session:
        found = sample_links(session, links, seed=seed)
    typer.echo(
        f"{found.added} audit item(s) queued, drawn from {found.linked_pairs:,} linked pairs; "
        f"{found.open_audits} waiting for an answer"
    )


def _lookup_overrides(path: Path) -> dict[str, list[str]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise fail(f"--lookups {path}: {exc}", 2) from None
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, list) and all(isinstance(i, str) for i in v)
        for k, v in data.items()
    ):
        raise fail(f'--lookups {path}: expected {{"lookup-...": ["value", ...]}}', 2)
    return data


# -- sandbox -------------------------------------------------------------------------------
@sandbox_app.command("serve")
def sandbox_serve(
    children: Annotated[int, typer.Option(help="Synthetic children to seed.")] = 2000,
    seed: Annotated[int, typer.Option(help="Random seed of the generator.")] = 1,
    from_dir: Annotated[
        Path | None,
        typer.Option(
            "--from-dir",
            help="Load primero_cases.json / oscar_clients.json from here instead of generating.",
        ),
    ] = None,
    host: Annotated[str, typer.Option(help="Address to listen on (loopback).")] = "127.0.0.1",
    primero_port: Annotated[int, typer.Option(help="Primero port.")] = 8411,
    oscar_port: Annotated[int, typer.Option(help="OSCaR port.")] = 8412,
    faults: Annotated[
        float,
        typer.Option(
            help="Share of requests that fail (0..1) with 500/503/429/timeouts/HTML bodies."
        ),
    ] = 0.0,
    lookups: Annotated[
        Path | None,
        typer.Option(
            help='JSON file {"lookup-gender": ["male", "female", ...], ...}: Primero lookups '
            "whose values differ from the shipped vocabularies (the rest stay the defaults)."
        ),
    ] = None,
) -> None:
    """Run lookalike Primero v2 and OSCaR v1 servers until Ctrl-C."""
    from bridge.sandbox import serve_forever

    overrides = _lookup_overrides(lookups) if lookups is not None else None
    serve_forever(
        primero_lookups=overrides,
        host=host,
        primero_port=primero_port,
        oscar_port=oscar_port,
        children=None if from_dir else children,
        seed=seed,
        from_dir=from_dir,
        fault_rate=faults,
    )


# -- demo ----------------------------------------------------------------------------------
@app.command()
def demo(
    children: Annotated[int, typer.Option(help="Synthetic children in the sandbox.")] = 3000,
    seed: Annotated[int, typer.Option(help="Random seed of the generator.")] = 1,
    database: Annotated[Path, typer.Option(help="SQLite file to (re)create for the demo.")] = Path(
        "bridge-demo.db"
    ),
) -> None:
    """Start the sandbox in-process, sync both systems, print what happened."""
    from bridge.demo import demo_logins, run_demo

    err(f"starting sandbox Primero and OSCaR with {children} synthetic children ...")
    result = run_demo(children=children, seed=seed, database=database, progress=err)
    st = result.status
    typer.echo("")
    typer.echo("demo summary")
    typer.echo(
        f"  sandbox served: {result.served['primero']} Primero cases, "
        f"{result.served['oscar']} OSCaR clients ({result.served['oscar_feed']} in OSCaR's "
        "feed, which leaves out clients without a date of birth or gender)"
    )
    for system in ("primero", "oscar"):
        states = st.records.get(system, {})
        typer.echo(
            f"  {system} records stored: {sum(states.values())} "
            f"({states.get('quarantined', 0)} quarantined)"
        )
    typer.echo(f"  children: {st.children}")
    typer.echo(f"  children linked across both systems: {st.linked_across_systems}")
    typer.echo(f"  possible duplicates for review: {st.open_reviews}")
    typer.echo(f"  run {result.report.run_id}: {result.report.status}")
    typer.echo(f"  database: {st.database}")
    typer.echo(f"  next: BRIDGE_DATABASE_URL=sqlite:///{database} bridge status")
    password = demo_logins(result.store)
    typer.echo(f"  the desk: bridge serve --database {database}, then open http://127.0.0.1:8080/")
    typer.echo(f"    and log in as demo (helpdesk), demo-admin or demo-viewer, password {password}")


# == helpdesk commands (issue 5): review list/show/merge/distinct, children show/split, undo,
# audit list. Added by the helpdesk work below this line. ==
audit_app = typer.Typer(
    help="The audit trail: every decision and every view of a child's records.",
    no_args_is_help=True,
)
app.add_typer(audit_app, name="audit")

HelpdeskBy = Annotated[
    str | None,
    typer.Option(
        "--by",
        envvar="BRIDGE_USER",
        help="Who you are (name or user id), default $BRIDGE_USER; recorded in the audit "
        "(as typed: the audit row says it came from the command line).",
    ),
]
HelpdeskReason = Annotated[
    str | None,
    typer.Option("--reason", help="Why (recorded; write a ticket number, not names or dates)."),
]


def _helpdesk_decide(action: Any, by: str | None, reason: str | None) -> None:
    """Run one decision in one transaction, print it, then write the links back. A decision
    waits for no sync: it takes the sync lock, so a running sync's view of children stays true."""
    from bridge.helpdesk import HelpdeskError
    from bridge.helpdesk.decide import decide
    from bridge.helpdesk.service import require_attribution
    from bridge.runlock import LockHeld

    try:
        require_attribution(by, reason)
        decided = decide(get_store(), action, config=state.config)
    except HelpdeskError as exc:
        raise fail(str(exc), 2) from None
    except LockHeld as exc:
        raise fail(str(exc), EXIT_LOCKED) from None
    typer.echo(decided.result.message)
    outcome = decided.outcome
    if outcome.queued and outcome.delivery is not None:
        typer.echo(
            f"links: {outcome.delivery.delivered} of {outcome.queued} write(s) delivered"
            " through the outbox"
        )
        if outcome.delivery.delivered < outcome.queued:
            for problem in outcome.delivery.errors[:5]:
                err(f"  {problem}")
            err(
                "  the rest stay in the outbox and are retried by the next `bridge sync` "
                "(see `bridge referrals list`)"
            )
    elif outcome.queued and outcome.problem:
        err(
            f"links: {outcome.queued} write(s) queued in the outbox, not sent now: "
            f"{outcome.problem}; the next `bridge sync` retries them"
        )
    elif outcome.queued:
        typer.echo(f"links: {outcome.queued} write(s) queued in the outbox ({outcome.note})")
    raise typer.Exit(3 if outcome.needs_attention else 0)


def _helpdesk_need_by(by: str | None) -> str:
    if not by or not by.strip():
        raise fail("--by NAME required: every view of a child's records is recorded", 2)
    return by.strip()


def _helpdesk_view(show: Any) -> None:
    from bridge.helpdesk import HelpdeskError

    try:
        with get_store().session() as session:
            view = show(session)
    except HelpdeskError as exc:
        raise fail(str(exc), 2) from None
    for line in view.lines():
        typer.echo(line)


@review_app.command("list")
def review_list(
    province: Annotated[
        str | None, typer.Option(help="NCDD province code (e.g. 12) of either record.")
    ] = None,
    min_score: Annotated[float | None, typer.Option(help="Lowest match probability.")] = None,
    max_score: Annotated[float | None, typer.Option(help="Highest match probability.")] = None,
    older_than: Annotated[
        float | None, typer.Option(help="Only items waiting at least this many days.")
    ] = None,
    system: Annotated[
        str | None, typer.Option(help="Only pairs with a record from primero or oscar.")
    ] = None,
    oldest_first: Annotated[
        bool, typer.Option("--oldest-first", help="Oldest first (default: highest score).")
    ] = False,
    limit: Annotated[int | None, typer.Option(help="At most this many items.")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, csv or json")] = "table",
) -> None:
    """The review queue: possible duplicates waiting for a decision."""
    from bridge.helpdesk.queue import CSV_HEADER, QueueFilter, review_queue

    if fmt not in ("table", "csv", "json"):
        raise fail("--format must be table, csv or json", 2)
    filters = QueueFilter(
        province=province,
        min_score=min_score,
        max_score=max_score,
        older_than_days=older_than,
        system=system,
        oldest_first=oldest_first,
        limit=limit,
    )
    with get_store().session() as session:
        items = review_queue(session, filters)
    if fmt == "json":
        typer.echo(json.dumps([i.as_dict() for i in items], indent=2))
    elif fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(CSV_HEADER)
        writer.writerows(i.csv_row() for i in items)
    else:
        typer.echo(f"{'id':>6}  {'score':>6}  {'record a':<46} {'record b':<46} province  since")
        for i in items:
            typer.echo(
                f"{i.id:>6}  {i.score:6.4f}  {i.key_a:<46} {i.key_b:<46} "
                f"{','.join(i.provinces) or '-':<9} {i.created_at:%Y-%m-%d}"
            )
        typer.echo(f"{len(items)} open review item(s)")


@review_app.command("show")
def review_show(
    review_id: Annotated[int, typer.Argument(help="Review item id (from `bridge review list`).")],
    by: HelpdeskBy = None,
) -> None:
    """The two records of a review item side by side, with the evidence (audited)."""
    from bridge.helpdesk import show_review

    who = _helpdesk_need_by(by)
    _helpdesk_view(lambda session: show_review(session, review_id, by=who))


@review_app.command("merge")
def review_merge(
    review_id: Annotated[int, typer.Argument(help="Review item id.")],
    by: HelpdeskBy = None,
    reason: HelpdeskReason = None,
) -> None:
    """Same child: merge the two records' children (the older id survives)."""
    from bridge.helpdesk import merge_review

    _helpdesk_decide(
        lambda session: merge_review(session, review_id, by=by, reason=reason), by, reason
    )


@review_app.command("distinct")
def review_distinct(
    review_id: Annotated[int, typer.Argument(help="Review item id.")],
    by: HelpdeskBy = None,
    reason: HelpdeskReason = None,
) -> None:
    """Not the same child: never suggested or linked together again."""
    from bridge.helpdesk import mark_distinct

    _helpdesk_decide(
        lambda session: mark_distinct(session, review_id, by=by, reason=reason), by, reason
    )


@children_app.command("show")
def children_show(
    child_id: Annotated[str, typer.Argument(help="Child id (an old, merged id works too).")],
    by: HelpdeskBy = None,
) -> None:
    """A child's records side by side (audited: shows personal data)."""
    from bridge.helpdesk import show_child

    who = _helpdesk_need_by(by)
    _helpdesk_view(lambda session: show_child(session, child_id, by=who))


@children_app.command("split")
def children_split(
    child_id: Annotated[str, typer.Argument(help="The wrongly merged child.")],
    records: Annotated[list[str], typer.Argument(help="Records to pull out, as system:record_id.")],
    by: HelpdeskBy = None,
    reason: HelpdeskReason = None,
) -> None:
    """Pull records out of a child into a new child with a fresh id."""
    from bridge.helpdesk import split_child

    _helpdesk_decide(
        lambda session: split_child(session, child_id, records, by=by, reason=reason), by, reason
    )


@children_app.command("merge")
def children_merge(
    child_a: Annotated[str, typer.Argument(help="A child id.")],
    child_b: Annotated[str, typer.Argument(help="Another child id: the same child.")],
    by: HelpdeskBy = None,
    reason: HelpdeskReason = None,
) -> None:
    """Two children are one: the older id survives, the other becomes its alias."""
    from bridge.helpdesk import merge_children_decision

    _helpdesk_decide(
        lambda session: merge_children_decision(session, child_a, child_b, by=by, reason=reason),
        by,
        reason,
    )


@children_app.command("erase")
def children_erase(
    child_id: Annotated[str, typer.Argument(help="The child whose personal data to erase.")],
    by: HelpdeskBy = None,
    reason: HelpdeskReason = None,
) -> None:
    """Erase a child's personal content (records, referral snapshots), keeping the id and
    the audit trail. Erase it in Primero and OSCaR first: a record the source still serves
    is stored again by the next sync."""
    from bridge.erase import erase_child, scrub
    from bridge.helpdesk import HelpdeskError
    from bridge.helpdesk.service import require_attribution
    from bridge.runlock import LockHeld, run_lock

    try:
        require_attribution(by, reason)
        store = get_store()
        with run_lock(store), store.session() as session:
            done = erase_child(session, child_id, by=by, reason=reason)
        scrub(store)
    except HelpdeskError as exc:
        raise fail(str(exc), 2) from None
    except LockHeld as exc:
        raise fail(str(exc), EXIT_LOCKED) from None
    typer.echo(
        f"child {done.child_id} erased: {len(done.records)} record(s), {done.referrals} "
        f"referral(s) emptied, {done.reviews} review item(s) closed; the id and the audit "
        "trail stay"
    )


conflicts_app = typer.Typer(
    help="Linked records that disagree beyond a variant, for the helpdesk.", no_args_is_help=True
)
app.add_typer(conflicts_app, name="conflicts")


@conflicts_app.command("list")
def conflicts_list(
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json")] = "table",
) -> None:
    """Children whose records disagree on sex, on an exact date of birth beyond a typing
    slip, or on being closed and active: child id, field, records, why (no values; see
    `bridge children show CHILD_ID`)."""
    from bridge.golden import conflicts, every_child, resolutions, resolved_for

    if fmt not in ("table", "json"):
        raise fail("--format must be table or json", 2)
    found = []
    with get_store().session() as session:
        answers = resolutions(session)
        for child_id, sources in every_child(session):
            found.extend(conflicts(child_id, sources, resolved_for(answers, sources)))
    if fmt == "json":
        shown = [
            {"child_id": c.child_id, "field": c.field, "records": sorted(c.values), "why": c.why}
            for c in found
        ]
        typer.echo(json.dumps(shown, indent=2))
        return
    for c in found:
        typer.echo(f"{c.child_id}\t{c.field}\t{', '.join(sorted(c.values))}\t{c.why}")
    err(f"{len(found)} conflict(s)")


@conflicts_app.command("resolve")
def conflicts_resolve(
    child_id: Annotated[str, typer.Argument(help="The child (from `bridge conflicts list`).")],
    field_name: Annotated[str, typer.Argument(metavar="FIELD", help="sex, birth or status.")],
    record: Annotated[
        str, typer.Option("--record", help="The record that is right (system:record_id).")
    ],
    by: HelpdeskBy = None,
    reason: HelpdeskReason = None,
) -> None:
    """Say which record is right: the golden record takes its value, and the conflict is
    not listed again while the same records disagree (audited; holds across a relink)."""
    from bridge.golden import resolve_conflict
    from bridge.helpdesk import HelpdeskError

    try:
        with get_store().session() as session:
            answer = resolve_conflict(session, child_id, field_name, record, by=by, reason=reason)
    except HelpdeskError as exc:
        raise fail(str(exc), 2) from None
    typer.echo(
        f"{field_name} of child {child_id}: {answer.record} is right "
        f"({len(answer.records)} records disagreed)"
    )


@app.command("undo")
def undo(
    decision_id: Annotated[int, typer.Argument(help="Decision id (see `bridge audit list`).")],
    by: HelpdeskBy = None,
    reason: HelpdeskReason = None,
) -> None:
    """Undo a helpdesk decision: put back what it changed and lift its constraints."""
    from bridge.helpdesk import undo_decision

    _helpdesk_decide(
        lambda session: undo_decision(session, decision_id, by=by, reason=reason), by, reason
    )


@audit_app.command("list")
def audit_list(
    child: Annotated[
        str | None, typer.Option("--child", help="Only this child (aliases included).")
    ] = None,
    by: Annotated[str | None, typer.Option("--by", help="Only what this person did.")] = None,
    action: Annotated[
        str | None, typer.Option(help="Only this action (merge, distinct, view_child, ...).")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="Only the last N rows.")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json")] = "table",
) -> None:
    """Who decided or looked at what, when and why (oldest first)."""
    from bridge.helpdesk import list_audit

    if fmt not in ("table", "json"):
        raise fail("--format must be table or json", 2)
    with get_store().session() as session:
        entries = list_audit(session, child_id=child, actor=by, action=action, limit=limit)
    if fmt == "json":
        typer.echo(json.dumps([e.as_dict() for e in entries], indent=2))
        return
    for e in entries:
        decision = e.details.get("decision")
        typer.echo(
            f"{e.id:>6}  {e.at}  {e.actor:<16} {e.action:<12} {e.child_id or '-':<15} "
            f"{f'decision {decision}' if decision else '':<13} {e.reason or ''}"
        )
    typer.echo(f"{len(entries)} audit row(s)")


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit trail's hash chain: exit 0 if no row was changed, removed or added
    out of turn, 3 (naming the rows) if one was. Prints the chain's head hash: keep it
    elsewhere to tell later that the chain was not rebuilt."""
    from bridge.helpdesk.audit import verify_chain
    from bridge.store.schema import AuditHeadRow

    with get_store().session() as session:
        check = verify_chain(session)
        head = session.get(AuditHeadRow, 1)
        last = head.last_hash if head is not None else "-"
    for problem in check.problems[:50]:
        err(f"  {problem}")
    before = (
        f" ({check.before_chain} older row(s) from before the chain)" if check.before_chain else ""
    )
    if not check.intact:
        notice(
            f"audit trail altered: {len(check.problems)} problem(s) in {check.rows} row(s){before}",
            "audit_altered",
            logging.ERROR,
        )
        raise typer.Exit(EXIT_ATTENTION)
    typer.echo(f"audit trail intact: {check.rows} row(s) chained{before}; head {last}")


# == end of helpdesk commands ==


# == referral commands (issue 6): referrals list/show/retry/replay. Added below this line. ==
referrals_app = typer.Typer(
    help="Referrals between Primero and OSCaR: the outbox, dead letters, replay.",
    no_args_is_help=True,
)
app.add_typer(referrals_app, name="referrals")
_REFERRAL_STATES = ("pending", "delivered", "dead", "held")


@referrals_app.command("list")
def referrals_list(
    state_filter: Annotated[
        str | None,
        typer.Option("--state", help="Only rows in this state: pending, delivered, dead, held."),
    ] = None,
) -> None:
    """List the outbox: referrals, decisions and links written back, with their state."""
    from bridge.referrals.outbox import list_rows, summarise

    if state_filter is not None and state_filter not in _REFERRAL_STATES:
        raise fail(f"--state must be one of {', '.join(_REFERRAL_STATES)}", 2)
    store = get_store()
    with store.session() as session:
        rows = [summarise(row) for row in list_rows(session, state_filter)]
    for row in rows:
        note = f"  {row.note}" if row.note else ""
        typer.echo(
            f"{row.id}\t{row.kind}\t{row.state}\t{row.source} -> {row.destination}\t"
            f"{row.attempts} attempt(s){note}"
        )
    typer.echo(f"{len(rows)} row(s)", err=True)


@referrals_app.command("withdrawn")
def referrals_withdrawn() -> None:
    """Consent withdrawn at source: the referrals held for it (never sent, nor replayed), and
    what had been shared before, by destination and date (ids only), for the person who
    must tell the receiving organisation."""
    from sqlalchemy import select as select_rows

    from bridge.referrals.outbox import WITHDRAWN, hold_withdrawn, shared_before_withdrawal
    from bridge.referrals.tables import HELD, OutboxRow

    store = get_store()
    with store.session() as session:
        hold_withdrawn(session)
        held = list(
            session.scalars(
                select_rows(OutboxRow).where(
                    OutboxRow.state == HELD, OutboxRow.held_reason.startswith(WITHDRAWN)
                )
            )
        )
        shared = shared_before_withdrawal(session)
        lines_held = [f"{r.id}\t{r.source_key}\t{r.held_reason}" for r in held]
        lines_shared = [
            f"{r.id}\t{r.source_key} -> {r.destination_system}:{r.destination_org}\t"
            f"delivered {r.delivered_at:%Y-%m-%d}"
            for r in shared
        ]
    typer.echo(f"held, not sent ({len(lines_held)}):")
    for line in lines_held:
        typer.echo(f"  {line}")
    typer.echo(f"shared before the withdrawal ({len(lines_shared)}):")
    for line in lines_shared:
        typer.echo(f"  {line}")


def _child_of(session: Any, row: Any) -> str | None:
    """The child of an outbox row's source record (rows found before linking have none)."""
    from bridge.reports import child_of_keys

    key = f"{row.source_system}:{row.source_record_id}"
    return child_of_keys(session, {key}).get(key)


@referrals_app.command("show")
def referrals_show(
    row_id: Annotated[int, typer.Argument(help="Outbox row id (from `bridge referrals list`).")],
    reveal: Annotated[
        bool, typer.Option("--reveal", help="Show personal fields instead of *** (audited).")
    ] = False,
    by: Annotated[
        str | None,
        typer.Option(
            "--by",
            envvar="BRIDGE_USER",
            help="Who you are, default $BRIDGE_USER; required with --reveal (audited).",
        ),
    ] = None,
) -> None:
    """What was (or will be) sent for one row; personal fields masked unless --reveal."""
    from bridge.helpdesk.audit import record_audit
    from bridge.referrals.consent import mask
    from bridge.referrals.tables import OutboxRow

    if reveal and not (by and by.strip()):
        raise fail("--reveal shows personal data: say who you are with --by NAME", 2)
    store = get_store()
    with store.session() as session:
        row = session.get(OutboxRow, row_id)
        if row is None:
            raise fail(f"no outbox row {row_id}", 2)
        payload = row.payload if reveal else mask(row.payload)
        if reveal:
            record_audit(
                session,
                actor=by or "",
                action="view_referral",
                child_id=row.child_id or _child_of(session, row),
                details={"outbox_row": row.id, "source_key": row.source_key},
            )
        shown = {
            "id": row.id,
            "kind": row.kind,
            "state": row.state,
            "source_key": row.source_key,
            "idempotency_key": row.idempotency_key,
            "destination": f"{row.destination_system}:{row.destination_org}",
            "route": (row.request or {}).get("route"),
            "held_reason": row.held_reason,
            "attempts": row.attempts,
            "last_error": row.last_error,
            "next_attempt_at": str(row.next_attempt_at),
            "delivered_at": str(row.delivered_at) if row.delivered_at else None,
            "result": {k: v for k, v in (row.result or {}).items() if k != "maybe_sent"},
            "sent": payload,
        }
    typer.echo(json.dumps(shown, indent=2, ensure_ascii=False))


@referrals_app.command("retry")
def referrals_retry(
    row_id: Annotated[int, typer.Argument(help="Outbox row id to send again now.")],
) -> None:
    """Make one row (a dead letter or one waiting for its retry) due now, with fresh attempts.
    It is sent by the next `bridge sync` or `bridge referrals run`."""
    from bridge.referrals.outbox import retry_row

    store = get_store()
    with store.session() as session:
        row = retry_row(session, row_id)
        if row is None:
            raise fail(f"no outbox row {row_id}", 2)
        state = row.state
    typer.echo(f"row {row_id}: {state}")


@referrals_app.command("replay")
def referrals_replay(
    dead: Annotated[bool, typer.Option("--dead", help="Replay every dead letter.")] = False,
) -> None:
    """After a fix (a vocabulary row, a routing rule), send the dead letters again. A row whose
    earlier attempt may have arrived is looked up in the destination first."""
    from bridge.referrals.outbox import replay_dead

    if not dead:
        raise fail("say what to replay: --dead", 2)
    store = get_store()
    with store.session() as session:
        ids = replay_dead(session)
    typer.echo(f"{len(ids)} dead letter(s) due again; `bridge referrals run` sends them now")


@referrals_app.command("run")
def referrals_run(
    wait: Annotated[
        float, typer.Option(help="Wait up to this many seconds for retries that fall due.")
    ] = 30.0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress lines.")] = False,
) -> None:
    """Route referrals found in the synced records and deliver the outbox (also part of sync)."""
    from bridge.referrals.service import route_and_deliver

    try:
        store = get_store()
        with reporter(quiet) as shown:
            report = route_and_deliver(state.config, store, None, shown, wait_up_to=wait)
    except ConfigError as exc:
        raise fail(str(exc), EXIT_CONFIG) from None
    for line in report.lines():
        typer.echo(line)
    raise typer.Exit(3 if report.needs_attention else 0)


# == end of referral commands ==


# == mapping commands (issue 3): mapping check, remap, relink ==
def _mapping_kind(source: str) -> tuple[str, Any]:
    """A configured source name or a bare kind (primero / oscar)."""
    for configured in state.config.sources:
        if configured.name == source:
            return configured.source_system, configured
    if source in ("primero", "oscar"):
        return source, None
    known = ", ".join(s.name for s in state.config.sources)
    raise fail(
        f"unknown source {source!r}: use primero, oscar" + (f" or {known}" if known else ""), 2
    )


@mapping_app.command("check")
def mapping_check(
    source: Annotated[str, typer.Argument(help="primero, oscar, or a configured source name.")],
    sample: Annotated[Path | None, typer.Option(help="An API-shaped dump to check.")] = None,
    live: Annotated[
        bool,
        typer.Option(
            help="Pull records from the configured source (read-only); for Primero also "
            "compare its lookups and locations with the vocabularies and the records."
        ),
    ] = False,
    limit: Annotated[int, typer.Option(help="With --live: how many records.")] = 100,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json")] = "table",
    direction: Annotated[
        str,
        typer.Option(
            help="inbound (records -> children) or outbound (payloads that would be sent)"
        ),
    ] = "inbound",
    show: Annotated[
        int, typer.Option(help="Table: records to print in full (problems are always listed).")
    ] = 5,
) -> None:
    """Dry run of a mapping: each record's result, errors, warnings, coverage. Writes nothing
    but an audit row (it shows personal data: who looked, at which children; the user from
    $BRIDGE_USER, else the login)."""
    from bridge.mapping import check_records, load_mapping, render_json, render_table
    from bridge.mapping_preview import live_payloads, outbound_preview, sample_payloads

    kind, configured = _mapping_kind(source)
    mapping = load_mapping(kind, state.config.mappings_path)
    if direction == "outbound":
        from bridge.mapping import render_outbound_json, render_outbound_table

        results = outbound_preview(get_store(), mapping)
        typer.echo(
            render_outbound_json(results)
            if fmt == "json"
            else render_outbound_table(results) or "nothing would be sent"
        )
        raise typer.Exit(EXIT_ATTENTION if any(r.errors for r in results) else 0)
    if direction != "inbound":
        raise fail("--direction is inbound or outbound", 2)
    if (sample is None) == (not live):
        raise fail("give either --sample FILE or --live", 2)
    if sample is not None:
        payloads = sample_payloads(sample)
    else:
        if configured is None or configured.kind == "file":
            raise fail(f"--live needs a configured {kind} source in the configuration", 2)
        payloads = live_payloads(configured, limit)
    report = check_records(mapping, payloads)
    if live and kind == "primero":
        from bridge.mapping_preview import live_primero_config

        report.primero_config = live_primero_config(configured, mapping, report)
    _audit_mapping_check(kind, report, "live" if live else "sample")
    typer.echo(render_json(report) if fmt == "json" else render_table(report, limit=show))
    raise typer.Exit(report.exit_code)


def _audit_mapping_check(kind: str, report: Any, how: str) -> None:
    """A check prints mapped records, personal data: audited under the children they are."""
    from bridge.helpdesk.audit import record_disclosure

    keys = [f"{kind}:{r.record_id}" for r in report.records if r.record_id]
    with get_store().session() as session:
        record_disclosure(
            session,
            actor=_actor(),
            action="mapping_check",
            keys=keys,
            details={"source": kind, "input": how, "checked": report.total},
        )


@app.command()
def remap(
    source: Annotated[str | None, typer.Argument(help="primero or oscar; default both.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress lines.")] = False,
) -> None:
    """Re-apply the current mappings to stored payloads (no re-fetch) and re-link what changed."""
    from bridge.remap import remap as run_remap
    from bridge.runlock import LockHeld

    if source not in (None, "primero", "oscar"):
        raise fail("SOURCE is primero or oscar", 2)
    try:
        store = get_store()
        with reporter(quiet) as shown:
            report = run_remap(
                store,
                system=source,
                mappings_dir=state.config.mappings_path,
                matching=state.config.matching,
                limits=state.config.limits,
                progress=shown,
            )
    except LockHeld as exc:
        raise fail(str(exc), EXIT_LOCKED) from None
    typer.echo(
        f"{report.records} records re-mapped: {report.changed} changed, "
        f"{report.unchanged} unchanged, {report.released} released from quarantine, "
        f"{report.quarantined} newly quarantined"
    )
    links = report.links
    typer.echo(
        f"re-linked {links.linked}: {links.new_children} new children, {links.joined} "
        f"joined a child, {links.merged_children} merged, {links.reviews} new review items"
    )
    for problem in report.problems[:20]:
        err(f"  quarantined: {problem}")
    raise typer.Exit(EXIT_ATTENTION if report.quarantined else 0)


@app.command()
def relink(
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress lines.")] = False,
) -> None:
    """Link every stored record again from scratch (after a rule change); human decisions stand."""
    from bridge.relink import relink as run_relink
    from bridge.runlock import LockHeld

    try:
        store = get_store()
        with reporter(quiet) as shown:
            report = run_relink(store, state.config.matching, shown)
    except LockHeld as exc:
        raise fail(str(exc), EXIT_LOCKED) from None
    typer.echo(
        f"{report.records} records: children {report.children_before} -> "
        f"{report.children_after}; {report.moved} records moved, {report.new_children} "
        f"new children, {report.merged_children} merged; {report.reviews} open review items"
    )


# == end of mapping commands ==


# == report (issue 16) ==
@app.command()
def report(
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Count the records held on this day (YYYY-MM-DD), ages at this day. "
            "Default: the day of the store's newest run or record (the same store gives the "
            "same report).",
        ),
    ] = None,
    format: Annotated[str, typer.Option("--format", help="html, csv or json.")] = "html",
    lang: Annotated[str, typer.Option("--lang", help="en or km (HTML only).")] = "en",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    suppress_below: Annotated[
        int | None,
        typer.Option(
            "--suppress-below",
            help="Show counts below N as '<N' (and hide a second cell where a total would "
            "reveal one). Default: [report] suppress_below, 5.",
            min=1,
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress lines.")] = False,
) -> None:
    """Nation-wide figures on unique children, with the model's estimate beside the ids."""
    from datetime import date

    from bridge.report.figures import build_report
    from bridge.report.render import LANGUAGES, to_csv, to_html, to_json
    from bridge.report.suppress import suppress

    if format not in ("html", "csv", "json"):
        raise typer.BadParameter("use html, csv or json", param_hint="--format")
    if lang not in LANGUAGES:
        raise typer.BadParameter("use en or km", param_hint="--lang")
    try:
        day = date.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise typer.BadParameter("a date as YYYY-MM-DD", param_hint="--as-of") from None
    threshold = suppress_below or state.config.report.suppress_below
    store = get_store()
    with reporter(quiet) as shown, store.session() as session:
        figures = suppress(build_report(session, as_of=day, progress=shown), threshold)
    text = {"html": lambda: to_html(figures, lang), "csv": lambda: to_csv(figures),
            "json": lambda: to_json(figures)}[format]()  # fmt: skip
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        err(f"report as of {figures.as_of} written to {output}")


@app.command()
def purge(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only count what would be removed.")
    ] = False,
) -> None:
    """Remove personal content kept past its [retention] period: raw payloads of records
    their source deleted, payloads of delivered referrals, old dead letters. Ids and the
    audit trail stay; an audit row records the purge (actor: $BRIDGE_USER, else the login)."""
    from bridge.retention import plan_purge
    from bridge.retention import purge as apply
    from bridge.runlock import LockHeld, run_lock

    config, store = state.config, get_store()
    try:
        with run_lock(store), store.session() as session:
            plan = plan_purge(session, config.retention)
            if not dry_run:
                apply(session, plan, by=_actor())
    except LockHeld as exc:
        raise fail(str(exc), EXIT_LOCKED) from None
    verb = "would remove" if dry_run else "removed"
    r = config.retention
    typer.echo(
        f"{verb}: {len(plan.records)} raw payload(s) of records deleted at source "
        f"(unchanged {r.disabled_records_days}+ days), {len(plan.delivered)} delivered "
        f"referral payload(s) ({r.delivered_days}+ days), {len(plan.dead)} dead letter(s) "
        f"({r.dead_letter_days}+ days)"
    )


# -- the desk in a browser ----------------------------------------------------------------
users_app = typer.Typer(
    help="Who may log in to the desk (`bridge serve`), with which role.", no_args_is_help=True
)
app.add_typer(users_app, name="users")
ROLE_HELP = "admin (users, audit log, runs; read-only), helpdesk (decides), viewer (counts)."


def _actor() -> str:
    import getpass

    return os.environ.get("BRIDGE_USER") or f"cli:{getpass.getuser()}"


def _password(name: str) -> str:
    given = os.environ.get("BRIDGE_USER_PASSWORD")
    if given:
        return given
    if not sys.stdin.isatty():
        raise fail("no terminal to type a password: set BRIDGE_USER_PASSWORD", 2)
    return str(typer.prompt(f"password for {name}", hide_input=True, confirmation_prompt=True))


def _users_change(change: Callable[[Any], Any]) -> Any:
    from bridge.helpdesk import HelpdeskError

    try:
        with get_store().session() as session:
            return change(session)
    except HelpdeskError as exc:
        raise fail(str(exc), 2) from None


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[str, typer.Option("--role", help=ROLE_HELP)] = "helpdesk",
    lang: Annotated[str, typer.Option("--lang", help="Desk language: en or km.")] = "en",
) -> None:
    """Add a user. The password is typed twice, or read from $BRIDGE_USER_PASSWORD."""
    from bridge.helpdesk.users import ROLES, add_user

    if role not in ROLES:
        raise fail(f"--role must be one of {', '.join(ROLES)}", 2)
    if lang not in ("en", "km"):
        raise fail("--lang must be en or km", 2)
    password = _password(name)
    user = _users_change(
        lambda session: add_user(session, name, role, password, by=_actor(), lang=lang)
    )
    typer.echo(f"user {user.name} added ({user.role})")


@users_app.command("list")
def users_list() -> None:
    """Every user with role and state."""
    from bridge.helpdesk.users import list_users

    for user in _users_change(list_users):
        state = "disabled" if user.disabled else "active"
        typer.echo(f"{user.name}\t{user.role}\t{state}\t{user.lang}")


@users_app.command("disable")
def users_disable(name: Annotated[str, typer.Argument(help="Login name.")]) -> None:
    """Stop a user logging in (their open logins end now)."""
    from bridge.helpdesk.users import disable_user

    _users_change(lambda session: disable_user(session, name, by=_actor()))
    typer.echo(f"user {name} disabled")


@users_app.command("reset")
def users_reset(name: Annotated[str, typer.Argument(help="Login name.")]) -> None:
    """A new password (typed twice, or $BRIDGE_USER_PASSWORD); enables and unlocks the user."""
    from bridge.helpdesk.users import reset_user

    password = _password(name)
    _users_change(lambda session: reset_user(session, name, password, by=_actor()))
    typer.echo(f"user {name}: new password set, account enabled")


@app.command()
def serve(
    host: Annotated[
        str, typer.Option(help="Address to listen on (loopback; put TLS in front).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    database: Annotated[
        Path | None,
        typer.Option(help="SQLite file to serve (instead of the configured database)."),
    ] = None,
) -> None:
    """Run the helpdesk in a browser, with the schedule, webhooks, /metrics and health checks
    (see the README's "Operations"). Stop with Ctrl-C."""
    import signal

    import uvicorn

    from bridge.web.app import create_app

    config = state.config
    if database is not None:
        if not database.exists():
            raise fail(f"{database} does not exist (make it with `bridge demo` or a sync)", 5)
        config = config.model_copy(update={"database_url": f"sqlite:///{database}"})
    try:
        from bridge.store.db import open_store

        store = open_store(config.database_url, migrate=True)
    except ConfigError as exc:
        raise fail(str(exc), EXIT_CONFIG) from None
    err(f"desk on http://{host}:{port}/ (database {store.engine.url.render_as_string()})")
    # uvicorn stops gracefully on SIGTERM/SIGINT, then raises the signal again for the handler
    # found before it: a stop that was asked for (systemd, kill) is a clean exit, code 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    uvicorn.run(create_app(config, store), host=host, port=port, log_config=None, access_log=False)


def main() -> None:
    try:
        app()
    except ConfigError as exc:
        err(f"error: {exc}")
        sys.exit(EXIT_CONFIG)
    except BridgeError as exc:
        err(f"error: {exc}")
        sys.exit(1)


if __name__ == "__main__":
    main()
