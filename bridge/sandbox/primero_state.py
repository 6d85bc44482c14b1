"""In-memory Primero: cases, referrals, sign-ins (``logins``), and a settable clock."""

from __future__ import annotations

import copy
import threading
import uuid
from datetime import UTC, datetime, timedelta

from bridge.sandbox.primero_logins import Logins
from bridge.sandbox.primero_lookups import build_lookups

CASE_STATUSES = ("open", "closed", "transferred", "identified", "duplicate")
SEXES = ("male", "female", "other")
RISK_LEVELS = ("high", "medium", "low", "no_action")
SUBFORMS = ("services_section", "family_details_section")
READ_ONLY = frozenset(
    {"id", "unique_identifier", "short_id", "created_at", "last_updated_at", "record_state"}
)


def iso_ms(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> datetime:
    """Parse the ISO forms Primero stores and accepts; naive values are UTC."""
    value = text.strip().replace(" ", "T")
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Clock:
    """Real UTC time unless a test sets it; `advance` moves a set clock forward."""

    def __init__(self) -> None:
        self._fixed: datetime | None = None
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._fixed if self._fixed is not None else datetime.now(UTC)

    def set(self, moment: datetime | str) -> None:
        value = parse_iso(moment) if isinstance(moment, str) else moment
        with self._lock:
            self._fixed = value if value.tzinfo else value.replace(tzinfo=UTC)

    def advance(self, seconds: float) -> None:
        with self._lock:
            base = self._fixed if self._fixed is not None else datetime.now(UTC)
            self._fixed = base + timedelta(seconds=seconds)

    def release(self) -> None:
        with self._lock:
            self._fixed = None


class PrimeroState:
    """Thread-safe: every method takes `lock`; tests may also read the dicts directly."""

    def __init__(self, user: str, password: str, lookups: list[dict] | None = None) -> None:
        self.user = user
        self.password = password
        self.lock = threading.RLock()
        self.clock = Clock()
        self.cases: dict[str, dict] = {}
        self.referrals: dict[str, list[dict]] = {}
        self.request_log: list[tuple[str, str, int]] = []
        self.logins = Logins()
        self.lookups: list[dict] = lookups if lookups is not None else build_lookups()
        self._seq: dict[str, int] = {}  # insertion order: deterministic tie-break
        self._last_stamp = ""

    # --- cases -------------------------------------------------------------------------
    def _stamp(self) -> str:
        """Next last_updated_at: the clock, but strictly after every stamp already given."""
        stamp = iso_ms(self.clock.now())
        if stamp <= self._last_stamp:
            last = parse_iso(self._last_stamp) + timedelta(milliseconds=1)
            stamp = iso_ms(last)
        self._last_stamp = stamp
        return stamp

    def add_case(self, case: dict, *, copy_case: bool = True) -> dict:
        """Store a case as given (keeps its last_updated_at); fills generated ids if absent.

        copy_case=False stores the dict itself (seeding from a fresh corpus, no copy needed).
        """
        with self.lock:
            record = copy.deepcopy(case) if copy_case else case
            case_id = record.get("id") or str(uuid.uuid4())
            record["id"] = case_id
            record.setdefault("unique_identifier", case_id)
            record.setdefault("case_id", record["unique_identifier"])
            record.setdefault("short_id", record["unique_identifier"][-7:])
            record.setdefault("case_id_display", record["short_id"])
            record.setdefault("record_state", True)
            record.setdefault("status", "open")
            if not record.get("created_at"):
                record["created_at"] = iso_ms(self.clock.now())
            if not record.get("last_updated_at"):
                record["last_updated_at"] = self._stamp()
            self._last_stamp = max(self._last_stamp, record["last_updated_at"])
            self._seq.setdefault(case_id, len(self._seq))
            self.cases[case_id] = record
            return record

    def update_case(self, case_id: str, fields: dict) -> dict:
        """Merge fields into a case (subform rows by unique_id) and bump last_updated_at."""
        with self.lock:
            case = self.cases[case_id]
            for key, value in fields.items():
                if key in SUBFORMS and isinstance(value, list):
                    case[key] = merge_rows(case.get(key) or [], value)
                else:
                    case[key] = copy.deepcopy(value)
            case["last_updated_at"] = self._stamp()
            return case

    def touch(self, case_id: str) -> None:
        with self.lock:
            self.cases[case_id]["last_updated_at"] = self._stamp()

    def sequence(self, case_id: str) -> int:
        return self._seq.get(case_id, 0)

    # --- logins ------------------------------------------------------------------------
    def reset_throttle(self) -> None:
        self.logins.reset()

    def log(self, method: str, path: str, status: int) -> None:
        with self.lock:
            self.request_log.append((method, path, status))


def merge_rows(rows: list[dict], changes: list) -> list[dict]:
    """Primero subform merge: by unique_id; `_destroy: true` deletes; new rows get an id."""
    merged = [copy.deepcopy(r) for r in rows]
    index = {r.get("unique_id"): i for i, r in enumerate(merged)}
    destroyed: set[str] = set()
    for change in changes:
        if not isinstance(change, dict):
            continue
        row_id = change.get("unique_id")
        if change.get("_destroy"):
            if row_id is not None:
                destroyed.add(row_id)
            continue
        values = {k: copy.deepcopy(v) for k, v in change.items() if k != "_destroy"}
        if row_id is not None and row_id in index:
            merged[index[row_id]].update(values)
        else:
            values.setdefault("unique_id", str(uuid.uuid4()))
            index[values["unique_id"]] = len(merged)
            merged.append(values)
    return [r for r in merged if r.get("unique_id") not in destroyed]
