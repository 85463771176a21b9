"""HTTP/1.1 server of the F5 XC emulator: TLS, API token check, control endpoint and faults.

Each accepted connection runs in its own daemon thread, which also performs the
TLS handshake, so a slow or silent client never blocks the accept loop. Every
response carries a Content-Length unless a fault requests otherwise, which
keeps connections reusable.
"""

from __future__ import annotations

import dataclasses
import hmac
import ipaddress
import itertools
import json
import logging
import re
import socket
import ssl
import struct
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer

from emulator_api import API_OPERATIONS, ApiError, parse_api_path
from emulator_faults import (
    HTML_BODY,
    INVALID_JSON_BODY,
    REPLACING_KINDS,
    WRONG_TYPES_BODY,
    FaultError,
    iter_huge_body,
    raw_body,
    validate_fault,
)
from emulator_state import REQUEST_LOG_BODY_LIMIT, EmulatorState, Scenario, format_time

logger = logging.getLogger("emulator")

MAX_BODY_BYTES = 1024 * 1024
LISTEN_BACKLOG = 512
IDLE_TIMEOUT_S = 300
TLS_HANDSHAKE_TIMEOUT_S = 10
# Maximum time that closing a TLS connection waits for the client's close_notify.
TLS_CLOSE_TIMEOUT_S = 0.5
HANG_POLL_S = 0.25
SLOW_BODY_MAX_STEPS = 50
MAX_SCENARIO_DURATION_S = 3600

CONTROL_PREFIX = "/_emulator"
TEXT_TYPE = "text/plain; charset=utf-8"
JSON_TYPE = "application/json"
NO_BODY_STATUSES = (204, 304)

_CONTENT_LENGTH = re.compile(r"[0-9]+")
_CONTROL_CHARACTERS = {code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F)}


def _printable(text: str, limit: int = 300) -> str:
    """Escape control characters and shorten `text` for a log line."""
    text = text.translate(_CONTROL_CHARACTERS)
    return text if len(text) <= limit else text[:limit] + "..."


def _is_loopback(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


@dataclasses.dataclass
class Response:
    """Complete HTTP response. A content_type of None sends no Content-Type header."""

    status: int
    body: bytes
    content_type: str | None
    headers: list[tuple[str, str]] = dataclasses.field(default_factory=list)

    @classmethod
    def text(cls, status: int, message: str, headers: list[tuple[str, str]] | None = None) -> Response:
        return cls(status, message.encode("utf-8"), TEXT_TYPE, headers or [])

    @classmethod
    def json(cls, status: int, value: object) -> Response:
        return cls(status, json.dumps(value).encode("utf-8"), JSON_TYPE)


def _response_with_headers(status: int, body: bytes, content_type: str, headers: dict[str, str]) -> Response:
    """Build a fault response. A Content-Type in `headers` replaces `content_type`."""
    if any(name.lower() == "content-type" for name in headers):
        return Response(status, body, None, list(headers.items()))
    return Response(status, body, content_type, list(headers.items()))


def _fault_response(fault: dict) -> Response:
    """Build the response of a replacing fault that sends one complete message."""
    kind = fault["kind"]
    if kind == "status":
        status = fault["status"]
        if fault["body"] is not None:
            body = fault["body"]
        else:
            try:
                phrase = HTTPStatus(status).phrase
            except ValueError:
                phrase = "Unknown Status"
            body = f"{status} {phrase} (emulated fault)"
        return _response_with_headers(status, body.encode("utf-8"), TEXT_TYPE, fault["headers"])
    if kind == "raw":
        return _response_with_headers(fault["status"], raw_body(fault), fault["content_type"], fault["headers"])
    if kind == "redirect":
        return Response.text(fault["status"], f"moved to {fault['location']}", [("Location", fault["location"])])
    if kind == "invalid_json":
        return Response(200, INVALID_JSON_BODY, JSON_TYPE)
    if kind == "wrong_types":
        return Response(200, WRONG_TYPES_BODY, JSON_TYPE)
    if kind == "html":
        return Response(200, HTML_BODY, "text/html; charset=utf-8")
    raise ValueError(f"fault kind {kind} has no single-message response")


def _api_error_response(fault: dict, response: Response) -> Response:
    """Build a 200 response with an "error" object.

    For EPARTIAL the body keeps the fields of the normal response, or gets an
    empty "items" list when the normal response was not a 200. Other codes send
    only the error object.
    """
    payload: dict = {}
    if fault["code"] == "EPARTIAL":
        if response.status == 200 and response.content_type == JSON_TYPE:
            payload = json.loads(response.body)
        else:
            payload = {"items": []}
    payload["error"] = {"code": fault["code"], "message": fault["message"]}
    return Response.json(200, payload)


class ControlError(ValueError):
    """Invalid control request, rejected with 400."""


def _control_object(body: bytes) -> dict:
    if not body.strip():
        return {}
    try:
        value = json.loads(body)
    except (ValueError, RecursionError) as error:
        raise ControlError(f"request body is not valid JSON: {error}") from None
    if not isinstance(value, dict):
        raise ControlError("request body must be a JSON object")
    return value


def _parse_scenario(value: dict) -> Scenario:
    for key in value:
        if key not in ("fail_site", "late_sites", "duration_s"):
            raise ControlError(f'unknown field {json.dumps(key)}; allowed fields: "fail_site", "late_sites", "duration_s"')
    for key in ("fail_site", "late_sites"):
        if not isinstance(value.get(key, False), bool):
            raise ControlError(f'field "{key}" must be true or false')
    duration = value.get("duration_s")
    if duration is not None:
        if isinstance(duration, bool) or not isinstance(duration, (int, float)):
            raise ControlError('field "duration_s" must be a number of seconds')
        if not 0 < duration <= MAX_SCENARIO_DURATION_S:
            raise ControlError(f'field "duration_s" must be above 0 and at most {MAX_SCENARIO_DURATION_S}, got {duration}')
        duration = float(duration)
    return Scenario(
        fail_site=value.get("fail_site", False),
        late_sites=value.get("late_sites", False),
        duration_s=duration,
    )


def _close_connection(connection: socket.socket) -> None:
    """Close a connection, sending a TLS close_notify first on TLS connections."""
    if connection.fileno() == -1:
        return
    if isinstance(connection, ssl.SSLSocket):
        try:
            connection.settimeout(TLS_CLOSE_TIMEOUT_S)
            connection.unwrap()
        except (OSError, ValueError):
            pass
    try:
        connection.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    connection.close()


class EmulatorServer(ThreadingHTTPServer):
    """Threading HTTP server that wraps each connection in TLS inside the connection's thread."""

    daemon_threads = True
    request_queue_size = LISTEN_BACKLOG

    def __init__(
        self,
        address: tuple[str, int],
        *,
        ipv6: bool,
        state: EmulatorState,
        token: str,
        ssl_context: ssl.SSLContext | None,
        mtls: bool,
        latency_s: float,
    ) -> None:
        self.address_family = socket.AF_INET6 if ipv6 else socket.AF_INET
        self.state = state
        self.token_bytes = token.encode("utf-8")
        self.ssl_context = ssl_context
        self.mtls = mtls
        self.latency_s = latency_s
        self.stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self._connection_ids = itertools.count(1)
        super().__init__(address, EmulatorHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host's domain name, which can send a
        # DNS query. The emulator needs no server name, so it skips that lookup.
        TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = host
        self.server_port = port

    def finish_request(self, request: socket.socket, client_address: tuple) -> None:
        """Run the handler for one connection, then close the connection."""
        connection_id = next(self._connection_ids)
        try:
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            connection = self._wrap_tls(request) if self.ssl_context is not None else request
        except OSError as error:
            logger.warning("connection %d from %s: TLS handshake or socket setup failed: %s", connection_id, client_address[0], error)
            request.close()
            return
        with self._connections_lock:
            self._connections.add(connection)
        try:
            EmulatorHandler(connection, client_address, self, connection_id=connection_id)
        except OSError as error:
            logger.info("connection %d: closed by an error: %s", connection_id, error)
        finally:
            _close_connection(connection)
            with self._connections_lock:
                self._connections.discard(connection)

    def _wrap_tls(self, request: socket.socket) -> ssl.SSLSocket:
        """Perform the TLS handshake. In mTLS mode it fails without a client certificate signed by the CA."""
        request.settimeout(TLS_HANDSHAKE_TIMEOUT_S)
        return self.ssl_context.wrap_socket(request, server_side=True)

    def shutdown_request(self, request: socket.socket) -> None:
        # finish_request closes the connection itself. TLS detaches `request` from
        # its file descriptor, so only a socket that is still open needs closing.
        if request.fileno() != -1:
            super().shutdown_request(request)

    def handle_error(self, request: socket.socket, client_address: tuple) -> None:
        logger.exception("unexpected error on a connection from %s", client_address[0])

    def close_connections(self) -> None:
        """Shut down every open connection, which wakes threads that wait on a client."""
        self.stopping.set()
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                # socket.socket.shutdown skips the TLS layer, which another thread may be using.
                socket.socket.shutdown(connection, socket.SHUT_RDWR)
            except OSError:
                pass

    def wait_for_connections(self, timeout_s: float) -> None:
        """Wait up to `timeout_s` until every connection thread has closed its socket."""
        deadline = time.monotonic() + timeout_s
        while True:
            with self._connections_lock:
                open_count = len(self._connections)
            if open_count == 0:
                return
            if time.monotonic() >= deadline:
                logger.warning("%d connections still open after %g s; exiting anyway", open_count, timeout_s)
                return
            time.sleep(0.02)


class EmulatorHandler(BaseHTTPRequestHandler):
    """Request handler for the API paths and the /_emulator control paths."""

    protocol_version = "HTTP/1.1"
    server_version = "opstatus-f5xc-emulator/1.0"
    sys_version = ""
    timeout = IDLE_TIMEOUT_S
    error_content_type = TEXT_TYPE
    error_message_format = "%(code)d %(message)s: %(explain)s"
    server: EmulatorServer

    def __init__(self, request: socket.socket, client_address: tuple, server: EmulatorServer, *, connection_id: int):
        self.connection_id = connection_id
        self._head_sent = False
        super().__init__(request, client_address, server)

    # Every method goes through one dispatcher, which responds with 405 where a method does not apply.
    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    def version_string(self) -> str:
        return self.server_version

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        status = int(code) if isinstance(code, int) else code
        # command and path are unset when the request line could not be parsed.
        method = self.command or "-"
        path = _printable(getattr(self, "path", "-"))
        logger.info("connection %d: %s %s %s", self.connection_id, method, path, status)

    def log_message(self, format: str, *args: object) -> None:
        logger.warning("connection %d from %s: %s", self.connection_id, self.client_address[0], _printable(format % args))

    def handle_expect_100(self) -> bool:
        # Skip "100 Continue" for a body above the limit, so the client gets 413 before it sends the body.
        length = self.headers.get("Content-Length", "")
        if _CONTENT_LENGTH.fullmatch(length.strip()) and int(length) > MAX_BODY_BYTES:
            return True
        return super().handle_expect_100()

    def _dispatch(self) -> None:
        self._head_sent = False
        path = self.path.partition("?")[0]
        try:
            if path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/"):
                self._handle_control(path)
            else:
                self._handle_api(path)
        except OSError as error:
            logger.info("connection %d: %s %s: connection lost: %s", self.connection_id, self.command, _printable(path), error)
            self.close_connection = True
        except Exception:
            logger.exception("connection %d: %s %s: unexpected error", self.connection_id, self.command, _printable(path))
            self.close_connection = True
            if not self._head_sent:
                try:
                    self._write_response(Response.text(500, "internal emulator error; see the emulator log", [("Connection", "close")]))
                except OSError:
                    pass

    # Reading requests.

    def _read_body(self, required: bool) -> bytes | Response:
        """Read the request body, or return the error response when its framing is missing or invalid.

        The error responses close the connection, because the body was not read.
        """
        close = [("Connection", "close")]
        if self.headers.get("Transfer-Encoding") is not None:
            return Response.text(411, "chunked request bodies are not supported; send a Content-Length header", close)
        lengths = {value.strip() for value in self.headers.get_all("Content-Length") or []}
        if not lengths:
            if required:
                return Response.text(411, "missing Content-Length header", close)
            return b""
        if len(lengths) != 1 or not _CONTENT_LENGTH.fullmatch(next(iter(lengths))):
            return Response.text(400, "invalid Content-Length header", close)
        length = int(next(iter(lengths)))
        if length > MAX_BODY_BYTES:
            return Response.text(413, f"request body of {length} bytes exceeds the limit of {MAX_BODY_BYTES} bytes", close)
        body = self.rfile.read(length)
        if len(body) != length:
            raise ConnectionError(f"client closed the connection after {len(body)} of {length} body bytes")
        return body

    def _is_authorized(self) -> bool:
        """Check for a verified client certificate in mTLS mode, else for the API token."""
        if self.server.mtls and isinstance(self.connection, ssl.SSLSocket) and self.connection.getpeercert():
            return True
        header = self.headers.get("Authorization")
        if header is None:
            return False
        scheme, _, credentials = header.strip().partition(" ")
        if scheme.lower() != "apitoken":
            return False
        # http.server decodes header bytes as Latin-1, so encoding as Latin-1 restores them.
        presented = credentials.strip().encode("latin-1", "replace")
        return hmac.compare_digest(presented, self.server.token_bytes)

    def _log_entry(self, body: bytes | Response, auth_ok: bool, received_at: float, fault: dict | None) -> dict:
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            if name.lower() == "authorization":
                value = "<redacted>"
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else ""
        entry = {
            "method": self.command,
            "path": self.path,
            "headers": headers,
            "body": text[:REQUEST_LOG_BODY_LIMIT],
            "time": format_time(received_at),
            "connection_id": self.connection_id,
            "auth_ok": auth_ok,
            "fault": fault["kind"] if fault else None,
        }
        if len(text) > REQUEST_LOG_BODY_LIMIT:
            entry["body_truncated"] = True
        return entry

    # API requests.

    def _handle_api(self, path: str) -> None:
        received_at = time.time()
        body = self._read_body(required=(self.command == "POST"))
        auth_ok = self._is_authorized()
        fault = self.server.state.take_fault(path) if isinstance(body, bytes) else None
        self.server.state.record_request(self._log_entry(body, auth_ok, received_at, fault))
        if self._wait(self.server.latency_s):
            self.close_connection = True
            return

        if isinstance(body, Response):
            self._write_response(body)
        elif fault is not None and fault["kind"] in REPLACING_KINDS:
            self._send_replacing_fault(fault)
        elif fault is not None:
            self._send_modified_response(fault, self._api_response(path, body, auth_ok))
        else:
            self._write_response(self._api_response(path, body, auth_ok))

    def _api_response(self, path: str, body: bytes, auth_ok: bool) -> Response:
        route = parse_api_path(path)
        if route is None:
            return Response.text(404, f"no API operation at path {_printable(path, 200)}")
        if self.command != "POST":
            return Response.text(405, f"method {self.command} is not allowed on this path; use POST", [("Allow", "POST")])
        if not auth_ok:
            return Response.text(401, "missing or invalid API token; send the header Authorization: APIToken <token>")
        try:
            payload = API_OPERATIONS[route.action](self.server.state, route, body, time.time())
        except ApiError as error:
            logger.info("connection %d: %s rejected with %d: %s", self.connection_id, route.action, error.status, error.message)
            return Response.text(error.status, error.message)
        return Response.json(200, payload)

    # Sending responses.

    def _wait(self, seconds: float) -> bool:
        """Sleep for `seconds` unless the server stops first. Return whether it is stopping."""
        if seconds <= 0:
            return self.server.stopping.is_set()
        return self.server.stopping.wait(seconds)

    def _write_head(self, status: int, content_type: str | None, content_length: int | None, headers: list) -> None:
        self._head_sent = True
        self.send_response(status)
        if content_type is not None:
            self.send_header("Content-Type", content_type)
        if content_length is not None:
            self.send_header("Content-Length", str(content_length))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()

    def _write(self, data: bytes) -> None:
        if self.command != "HEAD" and data:
            self.wfile.write(data)

    def _write_response(self, response: Response) -> None:
        if response.status in NO_BODY_STATUSES:
            self._write_head(response.status, response.content_type, None, response.headers)
            return
        self._write_head(response.status, response.content_type, len(response.body), response.headers)
        self._write(response.body)

    # Faults.

    def _send_replacing_fault(self, fault: dict) -> None:
        kind = fault["kind"]
        if kind == "hang":
            self._hold_without_response(fault["seconds"])
        elif kind == "huge":
            self._write_head(200, JSON_TYPE, fault["bytes"], [])
            for chunk in iter_huge_body(fault["bytes"]):
                self._write(chunk)
        elif kind == "raw" and not fault["content_length"]:
            # The end of the body is marked by closing the connection, as HTTP/1.1 allows.
            response = _fault_response(fault)
            self._write_head(response.status, response.content_type, None, response.headers + [("Connection", "close")])
            self._write(response.body)
        else:
            self._write_response(_fault_response(fault))

    def _send_modified_response(self, fault: dict, response: Response) -> None:
        kind = fault["kind"]
        if kind == "delay":
            if self._wait(fault["seconds"]):
                self.close_connection = True
                return
            self._write_response(response)
        elif kind == "api_error":
            self._write_response(_api_error_response(fault, response))
        elif kind == "slow_body":
            self._send_slowly(response, fault["seconds"])
        elif kind == "truncate":
            self._write_head(response.status, response.content_type, len(response.body), response.headers)
            self._write(response.body[: len(response.body) // 2])
            self.close_connection = True
        elif kind == "reset":
            self._write_head(response.status, response.content_type, len(response.body), response.headers)
            self._write(response.body[: len(response.body) // 2])
            self._reset_connection()
        else:
            raise ValueError(f"unknown modifying fault kind {kind}")

    def _send_slowly(self, response: Response, seconds: float) -> None:
        """Send the headers at once and the body in up to 50 pieces spread over `seconds`."""
        body = response.body
        self._write_head(response.status, response.content_type, len(body), response.headers)
        steps = max(1, min(SLOW_BODY_MAX_STEPS, len(body)))
        piece_size = -(-len(body) // steps)
        for offset in range(0, len(body), piece_size):
            if self._wait(seconds / steps):
                self.close_connection = True
                return
            self._write(body[offset : offset + piece_size])

    def _reset_connection(self) -> None:
        """Close the connection with a TCP RST, which SO_LINGER with a zero timeout makes close() send."""
        self.close_connection = True
        connection = self.connection
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        # The socket closes for real only after its last file object, rfile, is closed.
        self.rfile.close()
        connection.close()

    def _hold_without_response(self, seconds: float) -> None:
        """Keep the connection open without a response until the client closes it, `seconds` pass or the server stops."""
        logger.info(
            "connection %d: %s %s: hang fault, holding the connection for up to %g s",
            self.connection_id,
            self.command,
            _printable(self.path),
            seconds,
        )
        self.close_connection = True
        connection = self.connection
        deadline = time.monotonic() + seconds
        while not self.server.stopping.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            connection.settimeout(min(HANG_POLL_S, remaining))
            try:
                data = connection.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                break
            if not data:
                break

    # Control endpoint.

    def _handle_control(self, path: str) -> None:
        if not _is_loopback(self.client_address[0]):
            self._write_response(Response.json(403, {"error": "the control endpoint accepts only loopback clients"}))
            return
        body = self._read_body(required=False)
        if isinstance(body, Response):
            self._write_response(body)
            return

        routes = {
            "/reset": {"POST": self._control_reset},
            "/faults": {"GET": self._control_list_faults, "POST": self._control_add_faults},
            "/scenario": {"GET": self._control_get_scenario, "POST": self._control_set_scenario},
            "/requests": {"GET": self._control_requests},
        }
        methods = routes.get(path[len(CONTROL_PREFIX) :])
        if methods is None:
            known = ", ".join(CONTROL_PREFIX + name for name in routes)
            self._write_response(Response.json(404, {"error": f"unknown control path; use one of {known}"}))
            return
        action = methods.get(self.command)
        if action is None:
            allowed = ", ".join(methods)
            response = Response.json(405, {"error": f"method {self.command} is not allowed; use {allowed}"})
            response.headers.append(("Allow", allowed))
            self._write_response(response)
            return
        try:
            payload = action(body)
        except (ControlError, FaultError) as error:
            logger.info("connection %d: control request %s %s rejected: %s", self.connection_id, self.command, path, error)
            self._write_response(Response.json(400, {"error": str(error)}))
            return
        self._write_response(Response.json(200, payload))

    def _control_reset(self, body: bytes) -> dict:
        self.server.state.reset()
        return {"reset": True}

    def _control_list_faults(self, body: bytes) -> dict:
        return {"pending": self.server.state.pending_faults()}

    def _control_add_faults(self, body: bytes) -> dict:
        request = _control_object(body)
        if set(request) != {"faults"} or not isinstance(request["faults"], list):
            raise ControlError('request body must be {"faults": [FAULT, ...]}')
        faults = [validate_fault(spec, index) for index, spec in enumerate(request["faults"])]
        return {"pending": self.server.state.add_faults(faults)}

    def _control_get_scenario(self, body: bytes) -> dict:
        return {"next_purge": self.server.state.next_scenario().to_json()}

    def _control_set_scenario(self, body: bytes) -> dict:
        scenario = _parse_scenario(_control_object(body))
        self.server.state.set_next_scenario(scenario)
        return {"next_purge": scenario.to_json()}

    def _control_requests(self, body: bytes) -> list:
        return self.server.state.recorded_requests()
