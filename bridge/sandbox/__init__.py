"""Sandbox Primero v2 and OSCaR v1 servers, seeded with synthetic children.

    with start_sandbox(children=200, seed=1) as sb:
        httpx.get(f"{sb.primero_url}/api/v2/cases", auth=(sb.primero_user, sb.primero_password))

Both servers run in background threads of this process (standard library only); their data
lives in memory in `sb.primero` / `sb.oscar`, never in the bridge's database.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from bridge.sandbox.faults import FAULT_KINDS, FaultSwitch
from bridge.sandbox.generator import Corpus, generate, load_corpus
from bridge.sandbox.oscar import OscarApp
from bridge.sandbox.oscar_state import OscarState, seeded_changed_at
from bridge.sandbox.primero import PrimeroApp
from bridge.sandbox.primero_lookups import Overrides, build_lookups
from bridge.sandbox.primero_state import PrimeroState
from bridge.sandbox.server import SandboxServer

__all__ = [
    "FAULT_KINDS",
    "FaultSwitch",
    "OscarState",
    "PrimeroState",
    "SandboxHandle",
    "serve_forever",
    "start_sandbox",
]

DEFAULT_PRIMERO_USER = "primero_bridge"
DEFAULT_PRIMERO_PASSWORD = "sandbox-primero"
DEFAULT_OSCAR_EMAIL = "bridge@sandbox.local"
DEFAULT_OSCAR_PASSWORD = "sandbox-oscar"


@dataclass
class SandboxHandle:
    primero_url: str
    oscar_url: str
    primero_user: str
    primero_password: str
    oscar_email: str
    oscar_password: str
    primero: PrimeroState
    oscar: OscarState
    faults: FaultSwitch
    _servers: tuple[SandboxServer, ...] = ()

    def stop(self) -> None:
        for server in self._servers:
            server.stop()
        self._servers = ()

    def __enter__(self) -> SandboxHandle:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def seed_states(primero: PrimeroState, oscar: OscarState, corpus: Corpus) -> None:
    for case in corpus.primero_cases:
        primero.add_case(case, copy_case=False)
    for client in corpus.oscar_clients:
        oscar.add_client(client, changed_at=seeded_changed_at(client), copy_client=False)


def start_sandbox(
    *,
    host: str = "127.0.0.1",
    primero_port: int = 0,
    oscar_port: int = 0,
    children: int | None = None,
    seed: int = 1,
    from_dir: Path | None = None,
    fault_rate: float = 0.0,
    fault_kinds: Sequence[str] | None = None,
    primero_lookups: Overrides | None = None,
) -> SandboxHandle:
    """Start both servers in background threads; port 0 picks a free port.

    ``primero_lookups`` replaces the values of Primero lookups by unique id (a deployment
    whose option lists differ from the shipped vocabularies); the rest stay the defaults."""
    lookups = build_lookups(primero_lookups)
    primero = PrimeroState(DEFAULT_PRIMERO_USER, DEFAULT_PRIMERO_PASSWORD, lookups)
    oscar = OscarState(DEFAULT_OSCAR_EMAIL, DEFAULT_OSCAR_PASSWORD)
    if from_dir is not None:
        seed_states(primero, oscar, load_corpus(Path(from_dir)))
    elif children:
        seed_states(primero, oscar, generate(children, seed))
    faults = FaultSwitch()
    if fault_rate:
        faults.set(fault_rate, fault_kinds, seed=seed)
    primero_server = SandboxServer(host, primero_port, PrimeroApp(primero, faults))
    oscar_server = SandboxServer(host, oscar_port, OscarApp(oscar, faults))
    primero_server.start()
    oscar_server.start()
    return SandboxHandle(
        primero_url=primero_server.url,
        oscar_url=oscar_server.url,
        primero_user=primero.user,
        primero_password=primero.password,
        oscar_email=oscar.email,
        oscar_password=oscar.password,
        primero=primero,
        oscar=oscar,
        faults=faults,
        _servers=(primero_server, oscar_server),
    )


def serve_forever(
    *,
    host: str = "127.0.0.1",
    primero_port: int = 0,
    oscar_port: int = 0,
    children: int | None = None,
    seed: int = 1,
    from_dir: Path | None = None,
    fault_rate: float = 0.0,
    fault_kinds: Sequence[str] | None = None,
    primero_lookups: Overrides | None = None,
) -> None:
    """Run both servers until Ctrl-C, printing their URLs and the sandbox credentials."""
    handle = start_sandbox(
        primero_lookups=primero_lookups,
        host=host,
        primero_port=primero_port,
        oscar_port=oscar_port,
        children=children,
        seed=seed,
        from_dir=from_dir,
        fault_rate=fault_rate,
        fault_kinds=fault_kinds,
    )
    print(f"Primero v2 sandbox: {handle.primero_url}")
    print(f"  user {handle.primero_user}  password {handle.primero_password}")
    print(f"OSCaR v1 sandbox:   {handle.oscar_url}")
    print(f"  email {handle.oscar_email}  password {handle.oscar_password}")
    print(f"{len(handle.primero.cases)} cases, {len(handle.oscar.clients)} clients loaded")
    if fault_rate:
        print(f"Faults on: rate {fault_rate}, kinds {list(handle.faults.kinds)}")
    print("Ctrl-C stops.", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        handle.stop()
