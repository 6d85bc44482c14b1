"""The HTTP plumbing both sandbox servers share: parsing, faults, streaming, start/stop."""

from __future__ import annotations

import contextlib
import html
import json
import select
import socket
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

from bridge.sandbox.faults import FaultSwitch

HTML_ERROR = (
    b"<!DOCTYPE html><html><head><title>We're sorry, but something went wrong (500)</title>"
    b"</head><body><h1>We're sorry, but something went wrong.</h1></body></html>"
)


def echoed(request: Request) -> str:
    """What an echoing error answer quotes: the request body as sent (the path and query when
    there is none)."""
    if not request.body:
        return request.raw_path
    return request.body.decode("utf-8", errors="replace")


def echoed_fields(request: Request) -> list[tuple[str, str]]:
    """(dotted field, value) for every scalar in a JSON request body, in order."""
    try:
        body = json.loads(request.body.decode("utf-8")) if request.body else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        return []
    found: list[tuple[str, str]] = []

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{path}.{key}" if path else str(key))
        elif isinstance(value, list):
            for item in value:
                walk(item, path)
        elif value is not None and value != "":
            found.append((path, str(value)))

    walk(body, "")
    return found


def echo_text_response(request: Request) -> Response:
    """500 text/plain quoting the raw request, as a proxy or an app server's error page can."""
    text = f"Internal Server Error\n\nThe request could not be processed:\n{echoed(request)}\n"
    return Response(500, text.encode("utf-8"), content_type="text/plain; charset=utf-8")


def echo_html_response(request: Request) -> Response:
    """500 HTML page with the request in its title and body."""
    quoted = html.escape(echoed(request))
    page = (
        f"<!DOCTYPE html><html><head><title>Error 500: {quoted[:200]}</title></head><body>"
        f"<h1>Internal Server Error</h1><p>While handling {html.escape(request.method)} "
        f"{html.escape(request.path)}:</p><pre>{quoted}</pre></body></html>"
    )
    return Response(500, page.encode("utf-8"), content_type="text/html; charset=utf-8")


class BadJson(Exception):
    """The request body is not the JSON the endpoint expects."""


@dataclass
class Request:
    method: str
    path: str  # without the query string
    raw_path: str
    query: dict[str, str]
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body.decode("utf-8")) if self.body else {}
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BadJson(str(exc)) from exc


@dataclass
class Response:
    status: int
    body: bytes | Iterable[bytes] = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"


def encode_json(payload: Any) -> bytes:
    """UTF-8 JSON; a lone surrogate a test planted is sent as its ``\\u`` escape, as a
    real server's JSON encoder would, rather than failing the whole answer."""
    try:
        return json.dumps(payload, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(payload, ensure_ascii=True).encode("ascii")


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(status, encode_json(payload), dict(headers or {}))


class App(Protocol):
    faults: FaultSwitch

    def dispatch(self, request: Request) -> Response: ...

    def fault_response(self, kind: str, request: Request) -> Response: ...

    def log_request(self, method: str, path: str, status: int) -> None: ...


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    server: SandboxServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return  # request lines would carry query values; the state keeps a request log

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        parts = urlsplit(self.path)
        request = Request(
            method=method,
            path=parts.path,
            raw_path=self.path,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers=self.headers,
            body=body,
        )
        app = self.server.app
        if parts.path.startswith("/_sandbox/faults"):
            self._send(_admin(app.faults, request))
            return
        kind = app.faults.decide(method, parts.path)
        if kind == "timeout":
            # Never answer: wait for the client to give up and hang up (so the client's own
            # timeout decides, however loaded the machine), at most timeout_seconds.
            self._await_hangup(app.faults.timeout_seconds)
            app.log_request(method, self.path, 0)
            self._drop()
            return
        if kind == "drop_after":
            response = self._dispatch(app, request)  # the server acts, the answer is lost
            app.log_request(method, self.path, 0)
            self._drop()
            return
        response = app.fault_response(kind, request) if kind else self._dispatch(app, request)
        app.log_request(method, self.path, response.status)
        self._send(response)

    def _dispatch(self, app: App, request: Request) -> Response:
        try:
            return app.dispatch(request)
        except Exception as exc:  # noqa: BLE001 - a sandbox bug must still answer
            return json_response(500, {"error": type(exc).__name__})

    def _await_hangup(self, limit: float) -> None:
        """Wait until the client closes its end of the connection, the server stops or
        `limit` seconds pass, whichever comes first."""
        deadline = time.monotonic() + limit
        while not self.server.stopping.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            readable, _, _ = select.select([self.connection], [], [], min(left, 0.05))
            if readable:
                try:
                    if not self.connection.recv(1, socket.MSG_PEEK):
                        return  # end of stream: the client hung up
                except OSError:
                    return
                self.server.stopping.wait(min(left, 0.05))  # bytes of a next request

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if isinstance(response.body, bytes | bytearray):
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        buffer: list[bytes] = []
        size = 0
        for chunk in response.body:
            buffer.append(chunk)
            size += len(chunk)
            if size >= 65536:
                self._write_chunk(b"".join(buffer))
                buffer, size = [], 0
        if buffer:
            self._write_chunk(b"".join(buffer))
        self.wfile.write(b"0\r\n\r\n")

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode("ascii") + data + b"\r\n")


def _admin(faults: FaultSwitch, request: Request) -> Response:
    if request.method == "GET":
        return json_response(200, faults.as_dict())
    if request.method != "POST":
        return json_response(405, {"error": "method not allowed"})
    try:
        spec = request.json()
        if spec.get("off"):
            faults.off()
        else:
            faults.set(
                float(spec.get("rate", 0.0)),
                spec.get("kinds"),
                seed=spec.get("seed"),
                paths=spec.get("paths"),
                include_auth=bool(spec.get("include_auth", False)),
                retry_after=spec.get("retry_after"),
                timeout_seconds=spec.get("timeout_seconds"),
                methods=spec.get("methods"),
            )
        if "locked" in spec:
            faults.lock_system(bool(spec["locked"]))
    except (BadJson, AttributeError, TypeError, ValueError) as exc:
        return json_response(422, {"error": str(exc)})
    return json_response(200, faults.as_dict())


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, host: str, port: int, app: App) -> None:
        super().__init__((host, port), _Handler)
        self.app = app
        self.stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
