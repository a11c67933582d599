"""Conformance of a real dvic-server to Spec/openapi.yaml.

Starts `.build/debug/dvic-server` (or $DVIC_SERVER_BINARY) on a free loopback port with
a fresh data directory, drives every operation of the spec with real requests, and
checks every answer against the spec: the status must be one the operation documents,
the media type one it lists, and the body must match the schema (JSON Schema 2020-12,
every `$ref` resolved inside the spec). No 5xx is ever acceptable.

The tests run in file order and share one server: later ones use what earlier ones
created (users, nodes, a device, a command).

Known deviations
----------------
Where the server currently disagrees with the spec (which follows CONTRACT.md), the
test names the deviation and marks that one check xfail; every other check in the
same test still runs before it. A deviation excuses only problems that match its
pattern, never a 5xx or a wrong status. When the server is fixed the check passes
and the test FAILS with "known deviation ... no longer happens": then delete the
entry below. DVIC_API_STRICT=1 makes every deviation fail, to list what is left.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import secrets
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = ROOT / "Spec" / "openapi.yaml"
BINARY = Path(os.environ.get("DVIC_SERVER_BINARY", ROOT / ".build" / "debug" / "dvic-server"))
ADMIN_PASSWORD = "admin-pass-for-api-tests"
SPEC_URI = "urn:dvic:openapi"
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")

# Each: why (with the server code at fault), and a pattern every problem it excuses must match.
KNOWN_DEVIATIONS = {
    "websocket-origin-refused-without-body": (
        "a /v1/stream upgrade from a foreign Origin is answered 400 with an empty body "
        "(.dontUpgrade, FleetServer.swift:91-94)",
        r"content type None is not one of \['application/json'\] \(body b''\)$",
    ),
}
# DVIC_API_STRICT=1 turns every known deviation into a failure (to see what is left to fix).
STRICT = os.environ.get("DVIC_API_STRICT", "") not in ("", "0")


# --------------------------------------------------------------------------- spec


def load_spec() -> dict:
    with SPEC_PATH.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


SPEC = load_spec()


def pointer(*parts: str) -> str:
    return "#/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def resolve(node: Any) -> Any:
    """Follows a local `$ref` (responses, parameters) to what it names."""
    while isinstance(node, dict) and "$ref" in node and len(node) == 1:
        ref = node["$ref"]
        assert ref.startswith("#/"), ref
        target: Any = SPEC
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def operations() -> list[tuple[str, str, dict]]:
    found = []
    for path, item in SPEC["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                found.append((method.upper(), path, item[method]))
    return found


OPERATIONS = operations()
OPERATION_BY_ID = {op["operationId"]: (method, path, op) for method, path, op in OPERATIONS}


def template_regex(path: str) -> re.Pattern:
    return re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)) + "$")


ROUTES = [(method, template_regex(path), path, op) for method, path, op in OPERATIONS]

_REGISTRY = Registry().with_resource(SPEC_URI, Resource.from_contents(SPEC, default_specification=DRAFT202012))

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
FORMATS = FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not RFC3339.match(value):
        raise ValueError(f"{value!r} is not RFC 3339")
    datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    return True


def schema_errors(schema_pointer: str, instance: Any) -> list[str]:
    validator = Draft202012Validator(
        {"$schema": "https://json-schema.org/draft/2020-12/schema", "$ref": SPEC_URI + schema_pointer},
        registry=_REGISTRY,
        format_checker=FORMATS,
    )
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(body)'}: {error.message}"
        for error in sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))
    ]


def media_type(value: str | None) -> str | None:
    return value.split(";")[0].strip().lower() if value else None


# --------------------------------------------------------------------------- server


@dataclass
class Server:
    process: subprocess.Popen
    port: int
    work: Path
    log: Path

    def cleanup(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.work, ignore_errors=True)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(extra_args: list[str] | None = None) -> Server:
    if not BINARY.is_file():
        pytest.exit(f"{BINARY} is missing: build it first (swift build --product dvic-server)", returncode=2)
    work = Path(tempfile.mkdtemp(prefix="dvic-api-test-"))
    log = work / "server.log"
    for _attempt in range(3):
        port = free_port()
        env = dict(os.environ, DVIC_ADMIN_PASSWORD=ADMIN_PASSWORD)
        release_key = work / "release.pub"
        release_key.write_text(release_public_key_b64() + "\n")
        with log.open("ab") as out:
            process = subprocess.Popen(
                [str(BINARY), "--host", "127.0.0.1", "--port", str(port), "--data", str(work / "data"), "--no-local-agent",
                 "--release-key", str(release_key), *(extra_args or [])],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=work,
            )
        server = Server(process, port, work, log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                break
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    return server
            except OSError:
                pass
            time.sleep(0.1)
        if process.poll() is None:
            process.kill()
            process.wait()
    pytest.exit(f"dvic-server did not come up:\n{server.log_tail()}", returncode=2)


# --------------------------------------------------------------------------- client


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes
    operation: str

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def content_type(self) -> str | None:
        return self.headers.get("Content-Type")

    def error_code(self) -> str | None:
        try:
            return self.json["error"].get("code")
        except Exception:
            return None


@dataclass
class Coverage:
    statuses: dict[str, set[int]] = field(default_factory=dict)

    def add(self, operation_id: str, status: int) -> None:
        self.statuses.setdefault(operation_id, set()).add(status)


class Api:
    def __init__(self, server: Server, coverage: Coverage):
        self.server = server
        self.coverage = coverage

    # ---- raw HTTP

    def raw(self, method: str, target: str, *, body: bytes | None = None, headers: dict | None = None) -> tuple[int, http.client.HTTPMessage, bytes]:
        head = [f"{method} {target} HTTP/1.1", f"Host: 127.0.0.1:{self.server.port}", "Connection: close"]
        for name, value in (headers or {}).items():
            head.append(f"{name}: {value}")
        if body is not None:
            head.append(f"Content-Length: {len(body)}")
        payload = ("\r\n".join(head) + "\r\n\r\n").encode() + (body or b"")
        sock = socket.create_connection(("127.0.0.1", self.server.port), timeout=30)
        try:
            try:
                sock.sendall(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server may answer (413) and close before reading it all
            response = http.client.HTTPResponse(sock, method=method)
            try:
                response.begin()
            except (ConnectionResetError, http.client.RemoteDisconnected) as error:
                pytest.fail(f"{method} {target}: no answer ({error}); server log:\n{self.server.log_tail()}")
            data = response.read()
            return response.status, response.headers, data
        finally:
            sock.close()

    # ---- calls checked against the spec

    def call(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json_body: Any = None,
        body: bytes | None = None,
        query: list[tuple[str, str]] | dict | None = None,
        headers: dict | None = None,
        expect: int | None = None,
        code: str | None = None,
        deviation: str | None = None,
        collect: list[str] | None = None,
    ) -> Answer:
        """One request, checked against the spec: the problems fail the test (or, with
        `deviation`, xfail it when they are all that deviation), or with `collect` are
        appended there for the caller to settle."""
        route = next(((p, op) for m, rx, p, op in ROUTES if m == method and rx.match(path)), None)
        assert route is not None, f"{method} {path} is not an operation of Spec/openapi.yaml"
        template, operation = route
        all_headers = dict(headers or {})
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        if json_body is not None:
            body = json.dumps(json_body).encode()
        if body is not None:
            all_headers.setdefault("Content-Type", "application/json")
        target = path + ("?" + urllib.parse.urlencode(query, doseq=True) if query else "")
        status, response_headers, data = self.raw(method, target, body=body, headers=all_headers)
        answer = Answer(status, response_headers, data, operation["operationId"])
        self.coverage.add(operation["operationId"], status)
        where = f"{method} {target} ({operation['operationId']})"
        shown = data[:600].decode(errors="replace")
        # A 5xx is a server fault unless the spec documents it and the test asked for it (503 no_agent_build).
        assert status < 500 or status == expect, f"{where}: {status} {shown}\nserver log:\n{self.server.log_tail()}"
        if expect is not None:
            assert status == expect, f"{where}: expected {expect}, got {status} {shown}"
        problems = self.conformance(method, template, operation, answer)
        if code is not None and not problems:
            assert answer.error_code() == code, f"{where}: expected error code {code!r}, got {shown}"
        if collect is not None:
            collect.extend(f"{where}: {problem}" for problem in problems)
        else:
            settle(deviation, problems, where)
        return answer

    @staticmethod
    def conformance(method: str, template: str, operation: dict, answer: Answer) -> list[str]:
        """What is wrong with this answer by the spec (empty when it conforms)."""
        responses = operation.get("responses", {})
        key = str(answer.status)
        if key not in responses:
            return [f"status {answer.status} is not documented (documented: {', '.join(responses)})"]
        response = resolve(responses[key])
        content = response.get("content")
        got = media_type(answer.content_type)
        if not content:
            return [] if not answer.body else [f"status {answer.status} has no body in the spec, got {len(answer.body)} bytes"]
        if got not in content:
            return [f"content type {answer.content_type!r} is not one of {list(content)} (body {answer.body[:200]!r})"]
        if got == "application/json":
            try:
                instance = json.loads(answer.body)
            except ValueError as error:
                return [f"body is not JSON: {error}: {answer.body[:200]!r}"]
        else:
            try:
                instance = answer.body.decode("utf-8")
            except UnicodeDecodeError:
                return ["text body is not UTF-8"]
        responses_pointer = pointer("paths", template, method.lower(), "responses", key)
        if "$ref" in responses[key]:
            responses_pointer = responses[key]["$ref"]
        schema_pointer = responses_pointer + "/content/" + got.replace("/", "~1") + "/schema"
        return [f"schema: {e}" for e in schema_errors(schema_pointer, instance)]

    # ---- WebSocket upgrades

    def upgrade(self, path: str, *, origin: str | None = None, deviation: str | None = None, expect: int | None = None) -> tuple[int, dict, "WebSocket"]:
        route = next(((p, op) for m, rx, p, op in ROUTES if m == "GET" and rx.match(path)), None)
        assert route is not None
        template, operation = route
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{self.server.port}", "Upgrade: websocket",
            "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13",
        ]
        if origin:
            lines.append(f"Origin: {origin}")
        sock = socket.create_connection(("127.0.0.1", self.server.port), timeout=10)
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        buffer = b""
        while b"\r\n\r\n" not in buffer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            buffer += chunk
        head, _, rest = buffer.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split()[1])
        response_headers = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            response_headers[name.strip().lower()] = value.strip()
        self.coverage.add(operation["operationId"], status)
        assert status < 500, f"GET {path} upgrade: {status}"
        if expect is not None:
            assert status == expect, f"GET {path} upgrade: expected {expect}, got {status}"
        problems = []
        if str(status) not in operation["responses"]:
            problems.append(f"status {status} is not documented")
        elif status == 101:
            accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
            if response_headers.get("upgrade", "").lower() != "websocket":
                problems.append(f"Upgrade header {response_headers.get('upgrade')!r}")
            if response_headers.get("sec-websocket-accept") != accept:
                problems.append("wrong Sec-WebSocket-Accept")
        else:
            response = resolve(operation["responses"][str(status)])
            length = int(response_headers.get("content-length", "0") or 0)
            body = rest
            sock.settimeout(2)
            try:
                while len(body) < length:
                    chunk = sock.recv(4096)
                    if not chunk:
                        break
                    body += chunk
            except OSError:
                pass
            fake = http.client.HTTPMessage()
            if "content-type" in response_headers:
                fake["Content-Type"] = response_headers["content-type"]
            problems += self.conformance("GET", template, operation, Answer(status, fake, body, operation["operationId"]))
        sock.settimeout(10)
        settle(deviation, problems, f"GET {path} (upgrade)")
        return status, response_headers, WebSocket(sock, bytearray(rest))


def settle(deviation: str | None, problems: list[str], where: str) -> None:
    """Fails on problems, unless they are all the named known deviation (then xfail)."""
    if deviation is not None and not STRICT:
        why, pattern = KNOWN_DEVIATIONS[deviation]
        if not problems:
            pytest.fail(f"known deviation {deviation} no longer happens ({where}): delete it from KNOWN_DEVIATIONS and its uses")
        if all(re.search(pattern, problem) for problem in problems):
            pytest.xfail(f"{deviation} ({where}): {problems[0]}")
    if problems:
        pytest.fail(f"{where} does not match Spec/openapi.yaml:\n  " + "\n  ".join(problems))


# --------------------------------------------------------------------------- WebSocket frames


@dataclass
class WebSocket:
    sock: socket.socket
    buffer: bytearray

    def __enter__(self) -> "WebSocket":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self.sock.close()


def ws_send_binary(ws: WebSocket, payload: bytes) -> None:
    mask = os.urandom(4)
    header = bytes([0x82])
    if len(payload) < 126:
        header += bytes([0x80 | len(payload)])
    elif len(payload) < 65536:
        header += bytes([0x80 | 126]) + struct.pack(">H", len(payload))
    else:
        header += bytes([0x80 | 127]) + struct.pack(">Q", len(payload))
    ws.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))


def ws_receive(ws: WebSocket) -> tuple[int, bytes]:
    """One server message (opcode, payload); skips pings."""
    buffer = ws.buffer

    def need(count: int) -> bytes:
        while len(buffer) < count:
            chunk = ws.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            buffer.extend(chunk)
        taken = bytes(buffer[:count])
        del buffer[:count]
        return taken

    while True:
        first, second = need(2)
        length = second & 0x7F
        if length == 126:
            length = struct.unpack(">H", need(2))[0]
        elif length == 127:
            length = struct.unpack(">Q", need(8))[0]
        payload = need(length)
        if first & 0x0F != 0x9:
            return first & 0x0F, payload


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def frame(message_type: int, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload) + 2) + bytes([0x10, message_type]) + payload


def read_string(data: bytes, offset: int) -> tuple[str, int]:
    length, shift = 0, 0
    while True:
        byte = data[offset]
        offset += 1
        length |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    return data[offset:offset + length].decode(), offset + length


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def server():
    running = start_server()
    yield running
    running.cleanup()


@pytest.fixture(scope="session")
def coverage() -> Coverage:
    return Coverage()


@pytest.fixture(scope="session")
def api(server, coverage) -> Api:
    return Api(server, coverage)


@pytest.fixture(scope="session")
def state() -> dict:
    """What the tests made, for the ones after them."""
    return {}


def ed25519_public_key_b64() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    key = ed25519.Ed25519PrivateKey.generate().public_key()
    return base64.b64encode(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)).decode()


_RELEASE_KEY = None


def release_key():
    """The release key the test server trusts (`--release-key`): signs agent builds."""
    global _RELEASE_KEY
    if _RELEASE_KEY is None:
        from cryptography.hazmat.primitives.asymmetric import ed25519

        _RELEASE_KEY = ed25519.Ed25519PrivateKey.generate()
    return _RELEASE_KEY


def release_public_key_b64() -> str:
    from cryptography.hazmat.primitives import serialization

    raw = release_key().public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def agent_build(version: str) -> bytes:
    """A tiny stand-in for a dvic-agent executable: a script with the version stamp
    (marker, version, NUL padding to 64 bytes; Spec/updates.md)."""
    stamp = b"DVIC-AGENT-VERSION:" + version.encode()
    return b"#!/bin/sh\nexit 0\n" + stamp + b"\0" * (64 - len(stamp))


def sign_build(build: bytes) -> str:
    return release_key().sign(hashlib.sha256(build).digest()).hex()


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


ROLE_RANK = {"viewer": 0, "operator": 1, "admin": 2}


# --------------------------------------------------------------------------- the spec itself


def test_spec_is_valid_openapi_3_1():
    from openapi_spec_validator import validate

    assert SPEC["openapi"].startswith("3.1")
    validate(SPEC)


def test_every_operation_states_its_role():
    allowed = {"admin", "operator", "viewer", "none", "device"}
    for method, path, op in OPERATIONS:
        role = op.get("x-dvic-role")
        where = f"{method} {path}"
        assert role in allowed, f"{where}: x-dvic-role {role!r}"
        assert op.get("operationId"), where
        assert op.get("description", "").startswith(f"Role: {role}"), f"{where}: description must start with 'Role: {role}'"
        responses = op["responses"]
        if role in ROLE_RANK:
            assert "401" in responses, f"{where}: a {role} call documents 401"
            assert op.get("security", SPEC["security"]) == [{"session": []}], where
        if role in ("operator", "admin"):
            assert "403" in responses, f"{where}: a {role} call documents 403"
        if role == "none":
            assert op.get("security") == [], f"{where}: a public call has security: []"
        for status, response in responses.items():
            response = resolve(response)
            if status.startswith(("4", "5")):
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, f"{where} {status}: errors use the Error schema"


# --------------------------------------------------------------------------- flows


def test_health_and_prometheus(api):
    answer = api.call("GET", "/healthz", expect=200)
    assert answer.json == {"status": "ok"}
    exposition = api.call("GET", "/metrics", expect=200).body.decode()
    assert "# TYPE dvic_agent_connections gauge" in exposition
    for line in exposition.splitlines():
        if line and not line.startswith("#"):
            assert re.match(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? -?[0-9.eE+-]+|[+-]?Inf|NaN$', line), line
    # A token is neither needed nor harmful on the public calls.
    api.call("GET", "/healthz", token="dvt_not-a-token", expect=200)


def test_login_logout_and_me(api, state):
    api.call("POST", "/v1/login", json_body={"username": "admin", "password": "wrong-password"}, expect=401, code="bad_credentials")
    api.call("POST", "/v1/login", json_body={"username": "nobody", "password": "wrong-password"}, expect=401, code="bad_credentials")
    answer = api.call("POST", "/v1/login", json_body={"username": "admin", "password": ADMIN_PASSWORD}, expect=200)
    assert answer.json["role"] == "admin"
    state["admin"] = answer.json["token"]
    me = api.call("GET", "/v1/me", token=state["admin"], expect=200).json
    assert me["username"] == "admin" and me["role"] == "admin"

    spare = api.call("POST", "/v1/login", json_body={"username": "admin", "password": ADMIN_PASSWORD}, expect=200).json["token"]
    api.call("POST", "/v1/logout", token=spare, expect=204)
    api.call("GET", "/v1/me", token=spare, expect=401, code="unauthorized")
    api.call("POST", "/v1/logout", token=spare, expect=401, code="unauthorized")
    # Logging one session out leaves the others.
    api.call("GET", "/v1/me", token=state["admin"], expect=200)


def test_users(api, state):
    admin = state["admin"]
    for name, role in (("op-alice", "operator"), ("view-bob", "viewer")):
        user = api.call("POST", "/v1/users", token=admin, json_body={"username": name, "password": f"{name}-password", "role": role}, expect=201).json
        assert user["username"] == name and user["role"] == role
        assert abs(parse_time(user["createdAt"]) - datetime.now(timezone.utc)) < timedelta(minutes=5)
        login = api.call("POST", "/v1/login", json_body={"username": name, "password": f"{name}-password"}, expect=200).json
        assert login["role"] == role
        state[role] = login["token"]
    listed = api.call("GET", "/v1/users", token=admin, expect=200).json
    assert {u["username"]: u["role"] for u in listed} == {"admin": "admin", "op-alice": "operator", "view-bob": "viewer"}
    api.call("POST", "/v1/users", token=admin, json_body={"username": "op-alice", "password": "another-password", "role": "viewer"}, expect=409, code="conflict")
    api.call("POST", "/v1/users", token=admin, json_body={"username": "carol", "password": "carol-password", "role": "root"}, expect=400, code="invalid_request")
    api.call("POST", "/v1/users", token=admin, json_body={"username": "carol", "password": "short", "role": "viewer"}, expect=400, code="invalid_request")
    api.call("POST", "/v1/users", token=admin, json_body={"username": "bad name!", "password": "carol-password", "role": "viewer"}, expect=400, code="invalid_request")
    api.call("POST", "/v1/users", token=admin, json_body={"username": "c" * 65, "password": "carol-password", "role": "viewer"}, expect=400, code="invalid_request")
    api.call("POST", "/v1/users", token=admin, json_body={"username": "carol", "password": "x" * 73, "role": "viewer"}, expect=400, code="invalid_request")
    me = api.call("GET", "/v1/me", token=state["viewer"], expect=200).json
    assert me["username"] == "view-bob" and me["role"] == "viewer"


def test_me_created_at_is_the_users(api, state):
    users = {u["username"]: u for u in api.call("GET", "/v1/users", token=state["admin"], expect=200).json}
    me = api.call("GET", "/v1/me", token=state["operator"], expect=200).json
    settle(None, [] if me["createdAt"] == users["op-alice"]["createdAt"] else [f"createdAt {me['createdAt']}"], "GET /v1/me")


def placeholder_path(path: str) -> str:
    return re.sub(r"\{[^/]+\}", "nonexistent-id", path)


def test_role_boundaries(api, state):
    """Every operation that needs a role: 401 without a token or with a bad one, 403 for each role below it."""
    users_before = api.call("GET", "/v1/users", token=state["admin"], expect=200).json
    checked = 0
    for method, path, op in OPERATIONS:
        role = op["x-dvic-role"]
        if role not in ROLE_RANK:
            continue
        target = placeholder_path(path)
        body = {} if "requestBody" in op else None
        api.call(method, target, json_body=body, expect=401, code="unauthorized")
        api.call(method, target, json_body=body, token="dvt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", expect=401, code="unauthorized")
        api.call(method, target, json_body=body, headers={"Authorization": "Basic YWRtaW46YWRtaW4="}, expect=401, code="unauthorized")
        for lower, rank in ROLE_RANK.items():
            if rank < ROLE_RANK[role]:
                api.call(method, target, json_body=body, token=state[lower], expect=403, code="forbidden")
                checked += 1
    assert checked >= 10
    # The named boundaries of the brief.
    api.call("POST", "/v1/commands", token=state["viewer"], json_body={"targets": {"all": True}, "command": "id"}, expect=403, code="forbidden")
    api.call("POST", "/v1/users", token=state["operator"], json_body={"username": "mallory", "password": "mallory-password", "role": "admin"}, expect=403, code="forbidden")
    assert api.call("GET", "/v1/users", token=state["admin"], expect=200).json == users_before
    # A device token is not a session.
    api.call("GET", "/v1/nodes", token="dvd_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", expect=401, code="unauthorized")


def test_enrollment_and_enroll(api, state):
    admin = state["admin"]
    made = api.call("POST", "/v1/enrollments", token=admin, json_body={"name": "pi-lab-1", "tags": ["lab", "pi"], "ttlSeconds": 600}, expect=201).json
    assert made["token"].startswith("dve_") and made["token"] in made["installCommand"]
    expires = parse_time(made["expiresAt"])
    assert timedelta(seconds=540) < expires - datetime.now(timezone.utc) < timedelta(seconds=660)

    key = ed25519_public_key_b64()
    enrolled = api.call("POST", "/v1/enroll", json_body={"token": made["token"], "publicKey": key, "hostname": "raspberrypi"}, expect=201).json
    assert enrolled["nodeID"].startswith("n-") and enrolled["name"] == "pi-lab-1"
    state["agent"] = enrolled["nodeID"]
    api.call("POST", "/v1/enroll", json_body={"token": made["token"], "publicKey": key}, expect=409, code="enrollment_used")
    api.call("POST", "/v1/enroll", json_body={"token": "dve_unknown", "publicKey": key}, expect=401, code="enrollment_unknown")

    # Without an enrollment name, the agent's own name or hostname is used; the default TTL is an hour.
    plain = api.call("POST", "/v1/enrollments", token=admin, json_body={}, expect=201).json
    assert timedelta(minutes=55) < parse_time(plain["expiresAt"]) - datetime.now(timezone.utc) < timedelta(minutes=65)
    second = api.call("POST", "/v1/enroll", json_body={"token": plain["token"], "publicKey": ed25519_public_key_b64(), "hostname": "jetson-7"}, expect=201).json
    assert second["name"] == "jetson-7"
    state["agent2"] = second["nodeID"]

    # Bad keys, bad TTLs.
    other = api.call("POST", "/v1/enrollments", token=admin, json_body={"name": "spare"}, expect=201).json["token"]
    api.call("POST", "/v1/enroll", json_body={"token": other, "publicKey": base64.b64encode(b"x" * 31).decode()}, expect=400, code="invalid_request")
    api.call("POST", "/v1/enroll", json_body={"token": other, "publicKey": "not base64!"}, expect=400, code="invalid_request")
    for ttl in (0, -5, 2592001):
        api.call("POST", "/v1/enrollments", token=admin, json_body={"ttlSeconds": ttl}, expect=400, code="invalid_request")

    # An expired token.
    short = api.call("POST", "/v1/enrollments", token=admin, json_body={"ttlSeconds": 1}, expect=201).json["token"]
    time.sleep(1.3)
    api.call("POST", "/v1/enroll", json_body={"token": short, "publicKey": ed25519_public_key_b64()}, expect=401, code="enrollment_expired")


def test_nodes(api, state):
    viewer = state["viewer"]
    nodes = api.call("GET", "/v1/nodes", token=viewer, expect=200).json
    agent = next(n for n in nodes if n["id"] == state["agent"])
    assert agent["kind"] == "agent" and agent["status"] == "offline" and sorted(agent["tags"]) == ["lab", "pi"]
    assert "lastSeen" not in agent  # never seen
    tagged = api.call("GET", "/v1/nodes", token=viewer, query={"tag": "lab"}, expect=200).json
    assert [n["id"] for n in tagged] == [state["agent"]]
    assert state["agent"] in [n["id"] for n in api.call("GET", "/v1/nodes", token=viewer, query={"status": "offline"}, expect=200).json]
    assert state["agent"] not in [n["id"] for n in api.call("GET", "/v1/nodes", token=viewer, query={"status": "online"}, expect=200).json]
    assert api.call("GET", "/v1/nodes", token=viewer, query={"tag": "nobody-has-this"}, expect=200).json == []

    detail = api.call("GET", f"/v1/nodes/{state['agent']}", token=viewer, expect=200).json
    assert detail["id"] == state["agent"] and detail["metrics"] == {} and detail["containers"] == []
    api.call("GET", "/v1/nodes/n-doesnotexist", token=viewer, expect=404, code="not_found")
    api.call("GET", f"/v1/nodes/{state['agent']}/metrics", token=viewer, expect=200)


def keepalive(api, token, body=None, raw=None, **kwargs):
    return api.call("POST", "/v1/keepalive", token=token, json_body=body, body=raw, **kwargs)


def test_devices_and_keepalives(api, state):
    admin = state["admin"]
    device = api.call("POST", "/v1/devices", token=admin, json_body={"name": "esp32-door", "tags": ["mcu"]}, expect=201).json
    assert device["id"].startswith("d-") and device["token"].startswith("dvd_")
    other = api.call("POST", "/v1/devices", token=admin, json_body={"name": "esp32-window"}, expect=201).json
    state["device"], state["device_token"] = device["id"], device["token"]
    state["device2"], state["device2_token"] = other["id"], other["token"]
    api.call("POST", "/v1/devices", token=admin, json_body={"name": ""}, expect=400, code="invalid_request")
    api.call("POST", "/v1/devices", token=admin, json_body={"name": "x" * 129}, expect=400, code="invalid_request")

    good = {"uptime_ms": 123456, "seq": 17, "metrics": {"temp_c": 41.5, "rssi_dbm": -61, "heap_free": 201344},
            "logs": [{"level": "info", "msg": "booted"}, {"level": "WARNING", "msg": "battery low"}], "extra": "ignored"}
    answer = keepalive(api, device["token"], good, expect=200).json
    assert answer == {"ok": True, "interval_s": 10}
    keepalive(api, device["token"], {}, expect=200)  # every field is optional

    node = api.call("GET", f"/v1/nodes/{device['id']}", token=state["viewer"], expect=200).json
    assert node["kind"] == "device" and node["status"] == "online" and "lastSeen" in node
    assert node["metrics"]["temp_c"] == 41.5 and node["metrics"]["uptime_ms"] == 123456 and "metricsAt" in node

    # Refusals: 400 / 401 / 413, each with its code.
    token = device["token"]
    keepalive(api, token, raw=b"{not json", expect=400, code="malformed_json")
    keepalive(api, token, raw=b"[1, 2]", expect=400, code="malformed_json")
    keepalive(api, token, raw=b"", expect=400, code="malformed_json")
    keepalive(api, token, raw=b"\xff\xfe\x00", expect=400, code="malformed_json")
    for bad in (
        {"uptime_ms": -1}, {"seq": 1.5}, {"seq": 2 ** 53 + 2}, {"uptime_ms": "12"},
        {"metrics": {"bad name": 1}}, {"metrics": {"x": "1"}}, {"metrics": {"x": 1e16}},
        {"metrics": {f"m{i}": i for i in range(65)}},
        {"logs": [{"level": "info"}]}, {"logs": [{"msg": "x", "level": "loud"}]},
        {"logs": [{"msg": "x"}] * 33}, {"logs": [{"msg": "x" * 4097}]}, {"logs": "booted"},
    ):
        keepalive(api, token, bad, expect=400, code="invalid_field")
    keepalive(api, None, good, expect=401, code="unauthorized")
    keepalive(api, "dvd_wrong", good, expect=401, code="unauthorized")
    keepalive(api, state["admin"], good, expect=401, code="unauthorized")
    padded = json.dumps({"seq": 18, "metrics": {"temp_c": 42.0}}).encode()
    keepalive(api, token, raw=padded + b" " * (16384 - len(padded)), expect=200)  # exactly at the limit
    keepalive(api, token, raw=padded + b" " * (16385 - len(padded)), expect=413, code="body_too_large")
    keepalive(api, token, raw=b"{" + b" " * 300_000 + b"}", expect=413, code="body_too_large")
    keepalive(api, "dvd_wrong", raw=b" " * 20000, expect=401, code="unauthorized")  # the token first

    # Nothing of the other device was touched.
    untouched = api.call("GET", f"/v1/nodes/{other['id']}", token=state["viewer"], expect=200).json
    assert untouched["status"] == "offline" and untouched["metrics"] == {} and "lastSeen" not in untouched
    names = api.call("GET", f"/v1/nodes/{other['id']}/metrics", token=state["viewer"], expect=200).json
    assert names == {"names": []}

    # Resending the same seq without a reboot stores its logs once.
    resend = {"uptime_ms": 200000, "seq": 40, "logs": [{"msg": "resentlogline"}]}
    keepalive(api, token, resend, expect=200)
    keepalive(api, token, resend, expect=200)
    entries = api.call("GET", "/v1/logs", token=state["viewer"], query={"q": "resentlogline"}, expect=200).json["entries"]
    assert len(entries) == 1, entries


def test_node_metrics(api, state):
    viewer, device = state["viewer"], state["device"]
    path = f"/v1/nodes/{device}/metrics"
    names = api.call("GET", path, token=viewer, expect=200).json["names"]
    assert {"temp_c", "rssi_dbm", "heap_free", "uptime_ms"} <= set(names)
    series = api.call("GET", path, token=viewer, query={"name": "temp_c"}, expect=200).json
    assert series["name"] == "temp_c" and series["points"], series
    assert all(isinstance(t, str) and isinstance(v, (int, float)) for t, v in series["points"])
    assert all(41.5 <= v <= 42.0 for _, v in series["points"]), series  # raw points or 10 s averages
    now = datetime.now(timezone.utc)
    for since, until in (
        ("10m", "0s"),
        (rfc3339(now - timedelta(minutes=10)), rfc3339(now + timedelta(minutes=1))),
        (str(int((now - timedelta(minutes=10)).timestamp() * 1000)), str(int((now + timedelta(minutes=1)).timestamp() * 1000))),
        ("2026-01-01T00:00:00Z", None),
    ):
        query = {"name": "temp_c", "since": since, "step": "10s"}
        if until:
            query["until"] = until
        answer = api.call("GET", path, token=viewer, query=query, expect=200).json
        # A range longer than two days is served from the 5-minute roll-ups.
        assert answer["step"] == (300000 if since.startswith("2026-01-01") else 10000)
    assert api.call("GET", path, token=viewer, query={"name": "never-had-this"}, expect=200).json["points"] == []
    api.call("GET", path, token=viewer, query={"name": "temp_c", "since": "1m", "until": "10m"}, expect=400, code="invalid_request")
    api.call("GET", path, token=viewer, query={"name": "temp_c", "since": "yesterday"}, expect=400, code="invalid_request")
    api.call("GET", path, token=viewer, query={"name": "temp_c", "step": "fast"}, expect=400, code="invalid_request")
    api.call("GET", path, token=viewer, query={"name": "temp_c", "step": "-5s"}, expect=400, code="invalid_request")
    api.call("GET", "/v1/nodes/d-doesnotexist/metrics", token=viewer, expect=404, code="not_found")
    api.call("GET", "/v1/nodes/d-doesnotexist/metrics", token=viewer, query={"name": "temp_c"}, expect=404, code="not_found")


def test_logs(api, state):
    viewer, device = state["viewer"], state["device"]
    everything = api.call("GET", "/v1/logs", token=viewer, expect=200).json["entries"]
    booted = [e for e in everything if e["text"] == "booted"]
    assert len(booted) == 1 and booted[0]["node"] == device and booted[0]["stream"] == "device" and booted[0]["level"] == "info"
    warned = [e for e in everything if e["text"] == "battery low"]
    assert warned and warned[0]["level"] == "warn"
    times = [parse_time(e["ts"]) for e in everything]
    assert times == sorted(times, reverse=True), "newest first"

    now = datetime.now(timezone.utc)
    full = api.call("GET", "/v1/logs", token=viewer, query=[
        ("node", device), ("node", state["agent"]), ("stream", "device"), ("stream", "demo:none"),
        ("level", "info"), ("q", "booted"), ("since", "1h"), ("until", rfc3339(now + timedelta(minutes=1))), ("limit", "50"),
    ], expect=200).json["entries"]
    assert [e["text"] for e in full] == ["booted"]
    assert [e["text"] for e in api.call("GET", "/v1/logs", token=viewer, query={"level": "warning"}, expect=200).json["entries"]] == ["battery low"]
    assert api.call("GET", "/v1/logs", token=viewer, query={"level": "ERROR"}, expect=200).json["entries"] == []
    assert api.call("GET", "/v1/logs", token=viewer, query={"node": state["agent"]}, expect=200).json["entries"] == []
    epoch_ms = str(int((now - timedelta(hours=1)).timestamp() * 1000))
    assert len(api.call("GET", "/v1/logs", token=viewer, query={"since": epoch_ms, "q": "booted"}, expect=200).json["entries"]) == 1
    assert api.call("GET", "/v1/logs", token=viewer, query={"until": "2000-01-01T00:00:00Z"}, expect=200).json["entries"] == []
    assert len(api.call("GET", "/v1/logs", token=viewer, query={"limit": "1"}, expect=200).json["entries"]) == 1
    # Query syntax is never interpreted: operators and quotes are just separators.
    for text in ('"booted', "booted OR nothing", "NEAR(booted)", "boot*", "'; DROP TABLE logs; --", "*"):
        api.call("GET", "/v1/logs", token=viewer, query={"q": text}, expect=200)
    api.call("GET", "/v1/logs", token=viewer, query={"level": "loud"}, expect=400, code="invalid_request")
    api.call("GET", "/v1/logs", token=viewer, query={"limit": "0"}, expect=400, code="invalid_request")
    api.call("GET", "/v1/logs", token=viewer, query={"since": "last tuesday"}, expect=400, code="invalid_request")
    api.call("GET", "/v1/logs", token=viewer, query={"until": "10 minutes"}, expect=400, code="invalid_request")


def test_log_counts(api, state):
    admin, device = state["admin"], state["device"]
    streams = api.call("GET", "/v1/admin/log-counts", token=admin, expect=200).json["streams"]
    mine = [s for s in streams if s["node"] == device]
    stored = [e for e in api.call("GET", "/v1/logs", token=admin, query={"node": device}, expect=200).json["entries"]]
    assert len(mine) == 1 and mine[0]["stream"] == "device", mine
    assert mine[0]["rows"] == mine[0]["distinctSeqs"] == len(stored)
    assert mine[0]["minSeq"] == min(e["seq"] for e in stored) and mine[0]["maxSeq"] == max(e["seq"] for e in stored)
    assert api.call("GET", "/v1/admin/log-counts", token=admin, query={"node": device}, expect=200).json["streams"] == mine
    assert api.call("GET", "/v1/admin/log-counts", token=admin, query={"node": "nonexistent-id"}, expect=200).json["streams"] == []


def test_commands(api, state):
    operator, viewer, agent = state["operator"], state["viewer"], state["agent"]
    started = api.call("POST", "/v1/commands", token=operator, json_body={"targets": {"nodes": [agent]}, "command": "uname -a", "timeoutSeconds": 30}, expect=202).json
    command_id = started["id"]
    state["command"] = command_id
    deadline = time.monotonic() + 10
    while True:
        command = api.call("GET", f"/v1/commands/{command_id}", token=viewer, expect=200).json
        if command["state"] == "done" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert command["state"] == "done" and command["command"] == "uname -a" and command["actor"] == "op-alice"
    assert command["total"] == 1 and command["done"] == 1
    (result,) = command["results"]
    assert result["node"] == agent and result["reason"] == "lost" and result["state"] == "done" and "exitCode" not in result

    by_tag = api.call("POST", "/v1/commands", token=operator, json_body={"targets": {"tags": ["pi"]}, "argv": ["uname", "-a"]}, expect=202).json
    tagged = api.call("GET", f"/v1/commands/{by_tag['id']}", token=viewer, expect=200).json
    assert [r["node"] for r in tagged["results"]] == [agent]
    everyone = api.call("POST", "/v1/commands", token=state["admin"], json_body={"targets": {"all": True}, "command": "true", "timeoutSeconds": 0.5}, expect=202).json
    results = api.call("GET", f"/v1/commands/{everyone['id']}", token=viewer, expect=200).json["results"]
    assert {r["node"] for r in results} == {agent, state["agent2"]}, "devices do not run commands"

    api.call("POST", f"/v1/commands/{command_id}/cancel", token=operator, expect=202)
    api.call("POST", "/v1/commands/c-doesnotexist/cancel", token=operator, expect=404, code="not_found")
    api.call("GET", "/v1/commands/c-doesnotexist", token=viewer, expect=404, code="not_found")

    for body, status, code in (
        ({"targets": {"nodes": ["n-doesnotexist"]}, "command": "id"}, 404, "no_targets"),
        ({"targets": {"nodes": [state["device"]]}, "command": "id"}, 404, "no_targets"),
        ({"targets": {"tags": ["nobody-has-this"]}, "command": "id"}, 404, "no_targets"),
        ({"targets": {}, "command": "id"}, 400, "invalid_request"),
        ({"targets": {"all": False, "nodes": []}, "command": "id"}, 400, "invalid_request"),
        ({"targets": {"all": True}}, 400, "invalid_request"),
        ({"targets": {"all": True}, "command": ""}, 400, "invalid_request"),
        ({"targets": {"all": True}, "argv": []}, 400, "invalid_request"),
        ({"targets": {"all": True}, "command": "id", "timeoutSeconds": 0}, 400, "invalid_request"),
        ({"targets": {"all": True}, "command": "id", "timeoutSeconds": 86401}, 400, "invalid_request"),
    ):
        api.call("POST", "/v1/commands", token=operator, json_body=body, expect=status, code=code)


def test_agent_builds_downloads_and_updates(api, state):
    admin, operator, viewer = state["admin"], state["operator"], state["viewer"]
    listed = api.call("GET", "/v1/agent/builds", token=viewer, expect=200).json
    assert listed["builds"] == [] and listed["releaseKey"] == release_public_key_b64()
    octets = {"Content-Type": "application/octet-stream"}

    build = agent_build("0.9.0")
    api.call("POST", "/v1/agent/builds", token=admin, body=build, headers=octets, expect=400, code="unsigned_build")
    api.call("POST", "/v1/agent/builds", token=admin, body=build + b"x", headers=octets, query={"signature": sign_build(build)}, expect=400, code="bad_signature")
    api.call("POST", "/v1/agent/builds", token=admin, body=b"#!/bin/sh\n", headers=octets, query={"signature": sign_build(b"#!/bin/sh\n")}, expect=400, code="invalid_build")
    api.call("POST", "/v1/agent/builds", token=admin, body=build, headers=octets, query={"signature": sign_build(build), "version": "1.0"}, expect=400, code="invalid_build")
    stored = api.call("POST", "/v1/agent/builds", token=admin, body=build, headers=octets, query={"signature": sign_build(build)}, expect=201).json
    assert stored["version"] == "0.9.0" and stored["signed"] and stored["sha256"] == hashlib.sha256(build).hexdigest() and stored["size"] == len(build)
    other = build + b"\n"
    api.call("POST", "/v1/agent/builds", token=admin, body=other, headers=octets, query={"signature": sign_build(other)}, expect=409, code="conflict")
    assert [b["version"] for b in api.call("GET", "/v1/agent/builds", token=viewer, expect=200).json["builds"]] == ["0.9.0"]

    grant = api.call("POST", "/v1/agent/downloads", token=admin, json_body={"version": "0.9.0", "ttlSeconds": 60}, expect=201).json
    assert grant["url"] == f"/v1/agent/download?token={grant['token']}" and grant["sha256"] == stored["sha256"]
    fetched = api.call("GET", "/v1/agent/download", query={"token": grant["token"]}, expect=200)
    assert fetched.body == build and fetched.headers.get("Content-Length") == str(len(build))
    api.call("GET", "/v1/agent/download", query={"token": grant["token"]}, expect=401, code="download_token_unknown")
    api.call("GET", "/v1/agent/download", query={"token": "made-up"}, expect=401, code="download_token_unknown")
    short = api.call("POST", "/v1/agent/downloads", token=admin, json_body={"ttlSeconds": 1}, expect=201).json
    assert short["version"] == "0.9.0", "without a version: the newest signed build"
    time.sleep(1.2)
    api.call("GET", "/v1/agent/download", query={"token": short["token"]}, expect=401, code="download_token_expired")
    api.call("POST", "/v1/agent/downloads", token=admin, json_body={"version": "9.9.9"}, expect=404, code="no_build")
    for body in ({"ttlSeconds": 0}, {"version": 5}, {"ttlSeconds": "60"}, {"ttlSeconds": 1.5}):
        api.call("POST", "/v1/agent/downloads", token=admin, json_body=body, expect=400, code="invalid_request")
    api.call("POST", "/v1/agent/downloads", token=admin, body=b'{"version": "' + b"x" * (256 * 1024) + b'"}', expect=413, code="body_too_large")

    # The agent node is offline, so its offer cannot be delivered: the rollout fails at once.
    started = api.call("POST", "/v1/updates", token=operator, json_body={"targets": {"nodes": [state["agent"]]}, "batchSize": 1, "timeoutSeconds": 30}, expect=202).json
    deadline = time.monotonic() + 10
    while True:
        rollout = api.call("GET", f"/v1/updates/{started['id']}", token=viewer, expect=200).json
        if rollout["state"] != "running" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert rollout["state"] == "failed" and rollout["version"] == "0.9.0" and rollout["actor"] == "op-alice"
    (node,) = rollout["nodes"]
    assert node["node"] == state["agent"] and node["state"] == "failed" and "offline" in node["message"]
    assert api.call("GET", "/v1/updates", token=viewer, expect=200).json[0]["id"] == started["id"]
    api.call("GET", "/v1/updates/upd-unknown", token=viewer, expect=404, code="not_found")
    for body, status, code in (
        ({"targets": {"tags": ["nobody-has-this"]}}, 404, "no_targets"),
        ({"targets": {"all": True}, "version": "9.9.9"}, 404, "no_build"),
        ({"targets": {}}, 400, "invalid_request"),
        ({"targets": {"all": True}, "batchSize": 0}, 400, "invalid_request"),
        ({"targets": {"all": True}, "timeoutSeconds": 0}, 400, "invalid_request"),
    ):
        api.call("POST", "/v1/updates", token=operator, json_body=body, expect=status, code=code)


def test_audit(api, state):
    operator = state["operator"]
    entries = api.call("GET", "/v1/audit", token=operator, expect=200).json["entries"]
    actions = {e["action"] for e in entries}
    for action in ("user.login", "user.create", "enrollment.create", "node.enroll", "device.create", "command.run", "command.cancel"):
        assert action in actions, (action, sorted(actions))
    times = [parse_time(e["at"]) for e in entries]
    assert times == sorted(times, reverse=True), "newest first"
    mine = api.call("GET", "/v1/audit", token=operator, query={"actor": "op-alice"}, expect=200).json["entries"]
    assert mine and {e["actor"] for e in mine} == {"op-alice"}
    assert len(api.call("GET", "/v1/audit", token=operator, query={"limit": "2"}, expect=200).json["entries"]) == 2
    recent = api.call("GET", "/v1/audit", token=operator, query={"since": "1h", "until": rfc3339(datetime.now(timezone.utc) + timedelta(minutes=1))}, expect=200).json
    assert len(recent["entries"]) == len(entries)
    assert api.call("GET", "/v1/audit", token=operator, query={"until": "2000-01-01T00:00:00.000Z"}, expect=200).json["entries"] == []
    api.call("GET", "/v1/audit", token=operator, query={"since": "soon"}, expect=400, code="invalid_request")


def test_websocket_upgrades(api, state):
    status, _, sock = api.upgrade("/v1/agent", expect=101)
    with sock:
        opcode, payload = ws_receive(sock)
        assert opcode == 0x2, "frames travel in binary messages"
        length, flags, message_type = struct.unpack(">IBB", payload[:6])
        assert length == len(payload) - 4 and flags >> 4 == 1 and message_type == 0x01, "the first frame is a challenge"

    status, _, sock = api.upgrade("/v1/stream", expect=101)
    with sock:
        token = state["viewer"].encode()
        ws_send_binary(sock, frame(0x40, varint(len(token)) + token))  # streamAuth
        opcode, payload = ws_receive(sock)
        assert opcode == 0x2
        _, flags, message_type = struct.unpack(">IBB", payload[:6])
        assert message_type == 0x41, f"streamReady expected, got type {message_type:#x}"
        assert flags & 1 == 0
        role, _ = read_string(payload, 6)
        assert role == "viewer"

    # A browser page of the server's own address may open a stream.
    status, _, sock = api.upgrade("/v1/stream", origin=f"http://127.0.0.1:{api.server.port}", expect=101)
    sock.close()


def test_websocket_foreign_origin_refused(api):
    _, _, sock = api.upgrade("/v1/stream", origin="http://evil.example", expect=400, deviation="websocket-origin-refused-without-body")
    sock.close()


def test_websocket_plain_get(api):
    problems: list[str] = []
    for path in ("/v1/agent", "/v1/stream"):
        api.call("GET", path, expect=426, collect=problems)
    settle(None, problems, "plain GET of the WebSocket endpoints")


# --------------------------------------------------------------------------- malformed input

JSON_BODY_CALLS = {
    "/v1/login": None,
    "/v1/users": "admin",
    "/v1/commands": "operator",
    "/v1/enrollments": "admin",
    "/v1/enroll": None,
    "/v1/devices": "admin",
    "/v1/installs": "admin",
    "/v1/updates": "operator",
}

WRONG_TYPES = {
    "/v1/login": [{"username": 1, "password": "x"}, {"username": "admin"}, {"username": None, "password": None}],
    "/v1/users": [{"username": "dave", "password": "dave-password"}, {"username": "dave", "password": 12345678, "role": "viewer"}],
    "/v1/commands": [{"targets": "all", "command": "id"}, {"targets": {"all": True}, "command": "id", "timeoutSeconds": "5"},
                     {"command": "id"}, {"targets": {"nodes": "n-1"}, "command": "id"}, {"targets": {"all": True}, "argv": "ls"}],
    "/v1/enrollments": [{"ttlSeconds": 1.5}, {"ttlSeconds": "60"}, {"tags": "lab"}, {"name": 7}],
    "/v1/enroll": [{"token": "dve_x"}, {"token": 5, "publicKey": "AAAA"}],
    "/v1/devices": [{}, {"name": 5}, {"name": "esp", "tags": [1]}],
    "/v1/installs": [{}, {"ip": "10.0.0.1", "user": "pi"}, {"ip": "10.0.0.1", "user": "pi", "password": 5},
                     {"ip": "10.0.0.1", "user": "pi", "password": "x", "port": 70000},
                     {"ip": "10.0.0.1", "user": "pi", "password": "x", "timeoutSeconds": 1},
                     {"ip": "10.0.0.1", "user": "p i", "password": "x"}, {"ip": "", "user": "pi", "password": "x"},
                     {"ip": "10.0.0.1", "user": "pi", "password": "x", "prefix": "relative/dir"},
                     {"ip": "10.0.0.1", "user": "pi", "password": "two\nlines"}],
    "/v1/updates": [{}, {"targets": "all"}, {"targets": {"all": True}, "batchSize": "5"}, {"targets": {"all": True}, "version": 1}],
}

MALFORMED_BODIES = [
    b"{not json",
    b'{"username": "adm',
    b"[]",
    b"42",
    b"null",
    b"",
    b'{"name": "\xff\xfe"}',
    b"{" + b'"a":' * 40_000 + b"1" + b"}" * 40_000,
    b"[" * 100_000 + b"]" * 100_000,
]


@pytest.mark.parametrize("path", list(JSON_BODY_CALLS))
def test_malformed_json_body_is_400(api, state, path):
    """Not JSON, not an object, wrong or missing members: 400 every time, never 5xx."""
    role = JSON_BODY_CALLS[path]
    token = state[role] if role else None
    problems: list[str] = []
    bodies = MALFORMED_BODIES + [json.dumps(body).encode() for body in WRONG_TYPES[path]]
    for body in bodies:
        api.call("POST", path, token=token, body=body, expect=400, collect=problems)
    api.call("GET", "/healthz", expect=200)  # still up
    settle(None, problems, f"POST {path} with {len(bodies)} malformed bodies")


def test_oversized_body_is_413(api, state):
    """Over 256 KiB: 413 on every JSON call, before the body is parsed."""
    problems: list[str] = []
    body = b'{"name": "' + b"x" * (256 * 1024) + b'"}'
    for path, role in JSON_BODY_CALLS.items():
        api.call("POST", path, token=state[role] if role else None, body=body, expect=413, collect=problems)
    # 4 MiB too, sent whole (the server may stop reading early).
    api.call("POST", "/v1/devices", token=state["admin"], body=b" " * (4 << 20), expect=413, collect=problems)
    settle(None, problems, "oversized JSON bodies")


def test_body_at_the_limit_is_read(api, state):
    # 256 KiB exactly is accepted and parsed (here: refused for its content, not its size).
    prefix = b'{"name": "'
    body = prefix + b"x" * (256 * 1024 - len(prefix) - 2) + b'"}'
    assert len(body) == 256 * 1024
    api.call("POST", "/v1/devices", token=state["admin"], body=body, expect=400, code="invalid_request")


def test_installs_and_the_install_script(api, state):
    """The install script renders for a live enrollment token (JSON errors otherwise); an SSH
    install to a closed port fails as `unreachable`; a source node that is offline is 409."""
    admin = state["admin"]
    made = api.call("POST", "/v1/enrollments", token=admin, json_body={"name": "scripted", "ttlSeconds": 600}, expect=201).json
    script = api.call("GET", "/install.sh", query={"token": made["token"]}, expect=200)
    text = script.body.decode()
    assert text.startswith("#!/bin/sh") and made["token"] in text and "/v1/agent/download?token=" in text
    assert "DVIC_SHA256=" in text and "systemctl" in text
    api.call("GET", "/install.sh", expect=400, code="invalid_request")
    api.call("GET", "/install.sh", query={"token": "dve_unknown"}, expect=401, code="enrollment_unknown")
    short = api.call("POST", "/v1/enrollments", token=admin, json_body={"ttlSeconds": 1}, expect=201).json["token"]
    time.sleep(1.3)
    api.call("GET", "/install.sh", query={"token": short}, expect=410, code="enrollment_expired")

    # A server with no agent binary to hand out says so.
    bare = start_server(["--agent-binary", "/nonexistent/dvic-agent"])
    try:
        other = Api(bare, api.coverage)
        bare_admin = other.call("POST", "/v1/login", json_body={"username": "admin", "password": ADMIN_PASSWORD}, expect=200).json["token"]
        bare_token = other.call("POST", "/v1/enrollments", token=bare_admin, json_body={}, expect=201).json["token"]
        other.call("GET", "/install.sh", query={"token": bare_token}, expect=503, code="no_agent_build")
    finally:
        stop(bare)
        bare.cleanup()

    # Port 9 on loopback: nothing listens, so the server's own SSH client reports unreachable.
    secret = "never-stored-" + secrets.token_hex(8)
    job = api.call("POST", "/v1/installs", token=admin, json_body={
        "ip": "127.0.0.1", "port": 9, "user": "pi", "password": secret, "via": "server", "name": "nowhere", "timeoutSeconds": 30,
    }, expect=202).json
    assert job["state"] == "running" and job["via"] == "server" and job["total"] == 6
    deadline = time.time() + 30
    while job["state"] == "running" and time.time() < deadline:
        time.sleep(0.2)
        job = api.call("GET", f"/v1/installs/{job['id']}", token=admin, expect=200).json
    assert job["state"] == "failed" and job["failure"] == "unreachable", job
    listed = api.call("GET", "/v1/installs", token=admin, expect=200).json["jobs"]
    assert listed[0]["id"] == job["id"]
    audit = api.call("GET", "/v1/audit", token=admin, query={"limit": "200"}, expect=200)
    assert b"install.start" in audit.body and secret.encode() not in audit.body

    # The enrolled-but-never-connected node of the enrollment test is offline: not a source.
    api.call("POST", "/v1/installs", token=admin, json_body={
        "ip": "127.0.0.1", "user": "pi", "password": "x", "via": state["agent"]}, expect=409, code="source_unavailable")
    api.call("POST", "/v1/installs", token=admin, json_body={
        "ip": "127.0.0.1", "user": "pi", "password": "x", "via": "no-such-node"}, expect=400, code="invalid_request")


def test_unknown_ids_are_404(api, state):
    admin = state["admin"]
    for method, path in (
        ("GET", "/v1/nodes/n-unknown"), ("DELETE", "/v1/nodes/n-unknown"), ("GET", "/v1/nodes/n-unknown/metrics"),
        ("GET", "/v1/commands/c-unknown"), ("POST", "/v1/commands/c-unknown/cancel"), ("GET", "/v1/installs/inst-unknown"),
        ("GET", "/v1/nodes/%2E%2E"), ("GET", "/v1/nodes/" + "z" * 2000), ("GET", "/v1/nodes/%00"),
    ):
        api.call(method, path, token=admin, expect=404, code="not_found")


def test_odd_queries_never_5xx(api, state):
    viewer = state["viewer"]
    for query in (
        {"limit": "abc"}, {"limit": "-1"}, {"limit": "99999999999999999999"}, {"since": ""}, {"since": "1e400"},
        {"since": "99999999999999999999"}, {"since": "-1"}, {"since": "1000000000d"}, {"until": "nan"},
        {"q": "x" * 5000}, {"q": "\u00e9t\u00e9 \u4e2d\u6587 \U0001F600"}, {"node": ""}, {"stream": ""},
    ):
        answer = api.call("GET", "/v1/logs", token=viewer, query=query)
        assert answer.status in (200, 400), (query, answer.status)
    for query in ({"limit": "abc"}, {"limit": "-1"}, {"actor": ""}, {"since": "2026-13-45T99:99:99Z"}):
        answer = api.call("GET", "/v1/audit", token=state["operator"], query=query)
        assert answer.status in (200, 400), (query, answer.status)
    for query in ({"status": "bogus"}, {"tag": ""}):
        assert api.call("GET", "/v1/nodes", token=viewer, query=query, expect=200).json is not None
    for query in ({"name": "temp_c", "step": "1e300"}, {"name": "temp_c", "step": "0"}, {"name": "", "since": "0"}):
        answer = api.call("GET", f"/v1/nodes/{state['device']}/metrics", token=viewer, query=query)
        assert answer.status in (200, 400), (query, answer.status)


# --------------------------------------------------------------------------- deletion and the end


def test_delete_node(api, state):
    admin = state["admin"]
    api.call("DELETE", f"/v1/nodes/{state['agent2']}", token=admin, expect=204)
    api.call("GET", f"/v1/nodes/{state['agent2']}", token=admin, expect=404, code="not_found")
    api.call("DELETE", f"/v1/nodes/{state['agent2']}", token=admin, expect=404, code="not_found")

    # A deleted device's token stops working, its series leave /metrics, and the other device stays.
    assert f'node="{state["device"]}"' in api.call("GET", "/metrics", expect=200).body.decode()
    api.call("DELETE", f"/v1/nodes/{state['device']}", token=admin, expect=204)
    keepalive(api, state["device_token"], {"seq": 99}, expect=401, code="unauthorized")
    exposition = api.call("GET", "/metrics", expect=200).body.decode()
    assert f'node="{state["device"]}"' not in exposition
    assert f'dvic_node_up{{node="{state["device2"]}"' in exposition
    keepalive(api, state["device2_token"], {"seq": 1}, expect=200)
    remaining = {n["id"] for n in api.call("GET", "/v1/nodes", token=state["viewer"], expect=200).json}
    assert remaining == {state["agent"], state["device2"]}
    # The command run on a node stays readable.
    api.call("GET", f"/v1/commands/{state['command']}", token=state["viewer"], expect=200)


def test_zz_every_operation_exercised(api, coverage, request):
    """Every operation ran, succeeded at least once, and produced every status it documents."""
    if request.config.option.keyword or request.config.option.markexpr:
        pytest.skip("a selection ran: coverage is checked on full runs only")
    documented = {op["operationId"] for _, _, op in OPERATIONS}
    missing = sorted(documented - set(coverage.statuses))
    assert not missing, f"operations never exercised: {missing}"
    unsuccessful = sorted(op for op in documented if not any(s < 300 for s in coverage.statuses[op]))
    assert not unsuccessful, f"operations never answered with success: {unsuccessful}"
    not_seen = []
    for method, path, op in OPERATIONS:
        for status in op["responses"]:
            if int(status) not in coverage.statuses[op["operationId"]]:
                not_seen.append(f"{op['operationId']} {status}")
    assert not not_seen, f"documented answers never produced (test them or drop them): {not_seen}"


def stop(server: Server, timeout: float = 15) -> int | None:
    """SIGTERM; the exit code, or None (and the process killed) after `timeout` seconds."""
    server.process.send_signal(signal.SIGTERM)
    try:
        return server.process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()
        return None


def test_zz_server_stops_cleanly_on_sigterm(server):
    code = stop(server)
    assert code is not None, f"dvic-server did not exit within 15 s of SIGTERM:\n{server.log_tail()}"
    assert code == 0, f"dvic-server exited {code}:\n{server.log_tail()}"


def answer_closes(ws: WebSocket) -> threading.Thread:
    """Behaves as a live client: reads everything, answers a close frame with one."""
    def run() -> None:
        try:
            while True:
                opcode, payload = ws_receive(ws)
                if opcode == 0x8:
                    mask = os.urandom(4)
                    ws.sock.sendall(bytes([0x88, 0x80 | len(payload[:125])]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload[:125])))
                    ws.close()
                    return
        except OSError:
            return
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def connect_clients(api: Api) -> list[WebSocket]:
    """An agent that got its challenge and a dashboard that got streamReady."""
    token = api.call("POST", "/v1/login", json_body={"username": "admin", "password": ADMIN_PASSWORD}, expect=200).json["token"].encode()
    _, _, agent = api.upgrade("/v1/agent", expect=101)
    assert ws_receive(agent)[0] == 0x2  # the challenge
    _, _, stream = api.upgrade("/v1/stream", expect=101)
    ws_send_binary(stream, frame(0x40, varint(len(token)) + token))
    assert ws_receive(stream)[0] == 0x2  # streamReady
    return [agent, stream]


@pytest.mark.parametrize("peers", ["answering", "silent"])
def test_zz_server_stops_on_sigterm_with_clients_connected(peers):
    """Another server, with an agent and a dashboard connected: exit 0 within 15 s of
    SIGTERM, whether the peers answer the server's close frames or have gone silent."""
    second = start_server()
    sockets: list[WebSocket] = []
    try:
        sockets = connect_clients(Api(second, Coverage()))
        if peers == "answering":
            for ws in sockets:
                answer_closes(ws)
        started = time.monotonic()
        code = stop(second)
        waited = time.monotonic() - started
    finally:
        for ws in sockets:
            ws.close()
        log = second.log_tail()
        second.cleanup()
    problems = [] if code is not None else [f"no exit within 15 s of SIGTERM (waited {waited:.1f} s)"]
    settle(None, problems, f"SIGTERM with {peers} WebSocket peers")
    assert code == 0, f"dvic-server exited {code}:\n{log}"
