#!/usr/bin/env python3
"""A stand-in for dvic-agent (issue #4) for the browser tests: the agent side of the
protocol, for real, on this machine.

Same command line as dvic-agent (CONTRACT.md), so the tests swap it for the real agent
in one line (AGENT_COMMAND in conftest.py):

    sim_agent.py --server URL --enroll-token TOKEN --state DIR --log-dir DIR
                 [--interval SECONDS] [--name NAME] [--tag TAG]...

It enrolls with an Ed25519 key it makes (kept in --state), answers the challenge,
sends inventory and metrics from /proc, follows the demo log files (dvic_log_<token>)
in --log-dir and tells whether their processes run, runs commands with /bin/sh -c, and
opens real terminals (a pty running /bin/sh). Tags come from the enrollment; --tag is
accepted for compatibility.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import fcntl
import json
import os
import platform
import pty
import re
import signal
import socket
import struct
import sys
import termios
import time
import urllib.request
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from websockets.asyncio.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parent))
import wire  # noqa: E402

VERSION = "0.1.0-pysim"
RECORD = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z) (TRACE|DEBUG|INFO|WARN|ERROR|FATAL) (.*)$")
LOG_NAME = re.compile(r"^dvic_log_([A-Za-z0-9_-]{8,64})$")
METRICS = [
    # id, name, unit, scale
    (0, "cpu.total", "%", 1),
    (1, "mem.used", "B", -3),
    (2, "mem.total", "B", -3),
    (3, "mem.available", "B", -3),
    (4, "load.1", "", 2),
    (5, "load.5", "", 2),
    (6, "temp.cpu", "C", 1),
]


def now_ms() -> int:
    return int(time.time() * 1000)


def log(*args):
    print(f"[sim-agent {os.getpid()}]", *args, file=sys.stderr, flush=True)


# ---- identity -------------------------------------------------------------------------

def identity(args) -> tuple[Ed25519PrivateKey, str]:
    state = Path(args.state)
    state.mkdir(parents=True, exist_ok=True)
    key_file, node_file = state / "key", state / "node.json"
    if key_file.exists():
        key = Ed25519PrivateKey.from_private_bytes(key_file.read_bytes())
    else:
        key = Ed25519PrivateKey.generate()
        key_file.write_bytes(key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()))
        key_file.chmod(0o600)
    if node_file.exists():
        return key, json.loads(node_file.read_text())["nodeID"]
    if not args.enroll_token:
        sys.exit("sim-agent: not enrolled yet and no --enroll-token")
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    body = {"token": args.enroll_token, "publicKey": base64.b64encode(public).decode(), "hostname": socket.gethostname()}
    if args.name:
        body["name"] = args.name
    request = urllib.request.Request(
        args.server.rstrip("/") + "/v1/enroll", data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        answer = json.loads(response.read())
    node_file.write_text(json.dumps(answer))
    return key, answer["nodeID"]


# ---- what the machine is ----------------------------------------------------------------

def inventory() -> dict[str, str]:
    attributes = {
        "hostname": socket.gethostname(),
        "kernel": platform.release(),
        "arch": platform.machine(),
        "agent.version": VERSION,
        "cpu.cores": str(os.cpu_count() or 1),
        "systemd": "no",
        "docker": "no",
    }
    try:
        release = dict(
            line.split("=", 1) for line in Path("/etc/os-release").read_text().splitlines() if "=" in line)
        attributes["os.name"] = release.get("NAME", "").strip('"')
        attributes["os.version"] = release.get("VERSION_ID", "").strip('"')
    except OSError:
        pass
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                attributes["cpu.model"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = meminfo()
    if "MemTotal" in memory:
        attributes["memory.total_bytes"] = str(memory["MemTotal"])
    return attributes


def meminfo() -> dict[str, int]:
    out = {}
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            key, value = line.split(":", 1)
            out[key] = int(value.split()[0]) * 1024
    except (OSError, ValueError):
        pass
    return out


class CPU:
    def __init__(self):
        self.previous = self.read()

    @staticmethod
    def read():
        fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
        return sum(fields), idle

    def percent(self) -> float:
        total, idle = self.read()
        dt, di = total - self.previous[0], idle - self.previous[1]
        self.previous = (total, idle)
        return 0.0 if dt <= 0 else max(0.0, min(100.0, 100.0 * (dt - di) / dt))


def temperature() -> float:
    for zone in sorted(Path("/sys/class/thermal").glob("thermal_zone*/temp")):
        try:
            return int(zone.read_text()) / 1000
        except (OSError, ValueError):
            continue
    return 42.0 + 3.0 * ((time.time() / 7) % 1)  # no sensor (containers): a plausible wave


# ---- demo log files ------------------------------------------------------------------------

class DemoLog:
    def __init__(self, path: Path, token: str, stream_id: int):
        self.path = path
        self.key = f"demo:{token}"
        self.stream_id = stream_id
        self.offset = 0
        self.partial = b""
        self.header = None
        self.seq = 0
        self.opened = False
        self.state = None

    def alive(self) -> bool:
        pid = (self.header or {}).get("pid", 0)
        if not pid:
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        try:  # a zombie has exited
            return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
        except (OSError, IndexError):
            return True

    def read_records(self) -> list[dict]:
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            data = f.read(1 << 20)
        self.offset += len(data)
        lines = (self.partial + data).split(b"\n")
        self.partial = lines.pop()
        records = []
        for raw in lines:
            text = raw.decode("utf-8", "replace")
            if self.header is None:
                try:
                    self.header = json.loads(text)
                    continue
                except ValueError:
                    self.header = {}
            match = RECORD.match(text)
            if match:
                stamp, level, message = match.groups()
                message = re.sub(r"\\(\\|n)", lambda m: "\n" if m.group(1) == "n" else "\\", message)
                ts = parse_time(stamp)
                records.append({"timestamp": ts, "severity": level.lower(), "text": message})
            elif text:
                records.append({"timestamp": now_ms(), "severity": "info", "text": text})
        return records


def parse_time(stamp: str) -> int:
    base, _, frac = stamp.rstrip("Z").partition(".")
    seconds = time.mktime(time.strptime(base, "%Y-%m-%dT%H:%M:%S")) - time.timezone
    return int(seconds * 1000) + int((frac + "000")[:3] or 0)


# ---- the agent ------------------------------------------------------------------------------

class Agent:
    def __init__(self, args, key, node_id):
        self.args = args
        self.key = key
        self.node_id = node_id
        self.encoder = wire.Encoder()
        self.ws = None
        self.cpu = CPU()
        self.logs: dict[str, DemoLog] = {}
        self.next_stream = 1
        self.resume: dict[str, int] = {}
        self.commands: dict[str, asyncio.subprocess.Process] = {}
        self.ptys: dict[str, tuple[int, int]] = {}  # session → (pid, master fd)
        self.tasks: set[asyncio.Task] = set()

    async def send(self, *messages):
        if self.ws is not None:
            await self.ws.send(self.encoder.encode(list(messages)))

    def spawn(self, coroutine):
        task = asyncio.create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def run(self):
        url = self.args.server.rstrip("/").replace("http://", "ws://").replace("https://", "wss://") + "/v1/agent"
        backoff = 0.5
        while True:
            try:
                async with connect(url, max_size=4 << 20, open_timeout=10, ping_interval=None) as ws:
                    await self.session(ws)
                    backoff = 0.5
            except Exception as error:  # reconnect, like the real agent
                log("connection ended:", repr(error))
            self.ws = None
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5)

    async def session(self, ws):
        challenge = wire.decode(await ws.recv())[0]
        assert challenge["type"] == "challenge", challenge
        signed = b"dvic-agent-hello-v1\x00" + challenge["nonce"] + self.node_id.encode()
        self.encoder = wire.Encoder()
        await ws.send(self.encoder.encode([{
            "type": "hello", "version": 1, "nodeID": self.node_id, "agentVersion": VERSION,
            "capabilities": ["deflate", "pty"], "signature": self.key.sign(signed)}]))
        welcome = wire.decode(await ws.recv())[0]
        if welcome["type"] != "welcome":
            raise RuntimeError(f"refused: {welcome}")
        self.ws = ws
        self.resume = {r["key"]: r["lastSeq"] for r in welcome["resume"]}
        for demo in self.logs.values():
            demo.opened = False
            demo.state = None
        log("connected as", self.node_id)
        await self.send(
            {"type": "inventory", "attributes": inventory()},
            {"type": "metricDescriptors", "descriptors": [
                {"id": i, "name": n, "unit": u, "scale": s, "kind": "gauge"} for i, n, u, s in METRICS]})
        loops = [asyncio.create_task(self.metrics_loop()), asyncio.create_task(self.logs_loop())]
        try:
            async for data in ws:
                if isinstance(data, str):
                    continue
                for message in wire.decode(data):
                    await self.handle(message)
        finally:
            for task in loops:
                task.cancel()

    async def metrics_loop(self):
        while True:
            memory = meminfo()
            total = memory.get("MemTotal", 0)
            available = memory.get("MemAvailable", 0)
            load = os.getloadavg()
            values = [self.cpu.percent(), float(total - available), float(total), float(available), load[0], load[1], temperature()]
            await self.send({"type": "metricSample", "timestamp": now_ms(),
                             "values": [{"id": i, "value": v} for i, v in enumerate(values)]})
            await asyncio.sleep(self.args.interval)

    async def logs_loop(self):
        directory = Path(self.args.log_dir)
        while True:
            messages = []
            try:
                names = sorted(p.name for p in directory.iterdir())
            except OSError:
                names = []
            for name in names:
                match = LOG_NAME.match(name)
                if not match or name in self.logs:
                    continue
                self.logs[name] = DemoLog(directory / name, match.group(1), self.next_stream)
                self.next_stream += 1
            changed = False
            for demo in self.logs.values():
                try:
                    records = demo.read_records()
                except OSError:
                    continue
                if demo.header is None:
                    continue
                if not demo.opened:
                    h = demo.header
                    messages.append({
                        "type": "logStreamOpen", "streamID": demo.stream_id, "key": demo.key, "source": "demo",
                        "name": h.get("name", ""), "path": str(demo.path), "container": "", "pid": int(h.get("pid", 0)),
                        "exe": h.get("exe", ""), "argv": h.get("argv", []), "user": h.get("user", ""),
                        "started": parse_time(h["started"]) if "started" in h else 0})
                    demo.opened = True
                fresh = []
                for record in records:
                    demo.seq += 1
                    if demo.seq > self.resume.get(demo.key, 0):
                        fresh.append((demo.seq, record))
                if fresh:
                    messages.append({"type": "logBatch", "streamID": demo.stream_id, "firstSeq": fresh[0][0],
                                     "records": [r for _, r in fresh]})
                state = "running" if demo.alive() else "exited"
                if state != demo.state:
                    demo.state = state
                    demo.changed_at = now_ms()
                    changed = True
            if changed:
                messages.append({"type": "processStates", "processes": [
                    {"key": d.key, "name": d.header.get("name", d.key), "pid": int(d.header.get("pid", 0)),
                     "startTicks": 0, "state": d.state, "changedAt": d.changed_at}
                    for d in self.logs.values() if d.header is not None and d.state]})
            if messages:
                await self.send(*messages)
            await asyncio.sleep(0.2)

    async def handle(self, m):
        kind = m["type"]
        if kind == "ping":
            await self.send({"type": "pong", "nonce": m["nonce"]})
        elif kind == "commandRequest":
            self.spawn(self.run_command(m))
        elif kind == "commandCancel":
            process = self.commands.get(m["commandID"])
            if process:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        elif kind == "ptyOpen":
            self.open_pty(m)
        elif kind == "ptyInput":
            entry = self.ptys.get(m["sessionID"])
            if entry:
                os.write(entry[1], m["data"])
        elif kind == "ptyResize":
            entry = self.ptys.get(m["sessionID"])
            if entry:
                fcntl.ioctl(entry[1], termios.TIOCSWINSZ, struct.pack("HHHH", m["rows"], m["cols"], 0, 0))
        elif kind == "ptyClose":
            entry = self.ptys.pop(m["sessionID"], None)
            if entry:
                try:
                    os.kill(entry[0], signal.SIGHUP)
                except ProcessLookupError:
                    pass

    async def run_command(self, m):
        started = time.monotonic()
        command_id = m["commandID"]
        if m["mode"] == "shell":
            process = await asyncio.create_subprocess_exec(
                "/bin/sh", "-c", m["argv"][0], stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                stdin=asyncio.subprocess.DEVNULL, start_new_session=True)
        else:
            process = await asyncio.create_subprocess_exec(
                *m["argv"], stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                stdin=asyncio.subprocess.DEVNULL, start_new_session=True)
        self.commands[command_id] = process

        async def pump(reader, stream):
            while chunk := await reader.read(16384):
                await self.send({"type": "commandOutput", "commandID": command_id, "stream": stream, "data": chunk})

        reason, code, sig = "exited", 0, 0
        try:
            await asyncio.wait_for(asyncio.gather(pump(process.stdout, "stdout"), pump(process.stderr, "stderr"), process.wait()),
                                   timeout=m["timeoutMs"] / 1000)
            code = process.returncode
            if code < 0:
                reason, sig, code = "signaled", -code, -1
        except asyncio.TimeoutError:
            os.killpg(process.pid, signal.SIGKILL)
            reason, code = "timedOut", -1
        finally:
            self.commands.pop(command_id, None)
        await self.send({"type": "commandExit", "commandID": command_id, "reason": reason, "exitCode": code,
                         "signal": sig, "durationMs": int((time.monotonic() - started) * 1000), "message": ""})

    def open_pty(self, m):
        session = m["sessionID"]
        env = dict(os.environ, **m["env"], PS1="$ ")
        argv = m["argv"] or ["/bin/sh"]
        pid, fd = pty.fork()
        if pid == 0:  # child
            try:
                os.execvpe(argv[0], argv, env)
            finally:
                os._exit(127)
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", m["rows"] or 24, m["cols"] or 80, 0, 0))
        self.ptys[session] = (pid, fd)
        loop = asyncio.get_running_loop()

        def readable():
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b""
            if data:
                self.spawn(self.send({"type": "ptyOutput", "sessionID": session, "data": data}))
                return
            loop.remove_reader(fd)
            os.close(fd)
            self.ptys.pop(session, None)
            _, status = os.waitpid(pid, 0)
            code = os.waitstatus_to_exitcode(status)
            self.spawn(self.send({"type": "ptyClose", "sessionID": session, "exitCode": code if code >= 0 else -1,
                                  "reason": "shell exited"}))

        loop.add_reader(fd, readable)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", required=True)
    parser.add_argument("--enroll-token")
    parser.add_argument("--state", default="/var/lib/dvic")
    parser.add_argument("--log-dir", default="/tmp")
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--name")
    parser.add_argument("--tag", action="append", default=[])
    args = parser.parse_args()
    key, node_id = identity(args)
    try:
        asyncio.run(Agent(args, key, node_id).run())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
