"""Browser tests of the dashboard: a real dvic-server, three agents, Debian's chromium
driven by Playwright (PyPI) in headless mode.

Environment:
  DVIC_SERVER_BIN           the server to test (default .build/debug/dvic-server)
  DVIC_TEST_AGENT           an agent executable with dvic-agent's flags, or `python`
                            for the stand-in sim_agent.py (default: .build/debug/dvic-agent
                            when it is built, else the stand-in)
  DVIC_VENDOR_DIR           the vendor folder (default .build-vendor; tools/vendor-js)
  DVIC_TEST_ARTIFACTS       where screenshots and logs go (default: a new temp dir)
  DVIC_UPDATE_SCREENSHOTS=1 also copy the screenshots to docs/screenshots/
  CHROMIUM                  the browser (default /usr/bin/chromium)
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

# The agents the tests run, all with dvic-agent's command line (CONTRACT.md): the real
# dvic-agent when it is built (tools/test builds it), else the Python stand-in.
# DVIC_TEST_AGENT=python forces the stand-in; DVIC_TEST_AGENT=PATH names another agent.
REAL_AGENT = ROOT / ".build" / "debug" / "dvic-agent"
STAND_IN = [sys.executable, str(HERE / "sim_agent.py")]
AGENT_COMMAND = [str(REAL_AGENT)] if REAL_AGENT.exists() else STAND_IN
if os.environ.get("DVIC_TEST_AGENT"):
    AGENT_COMMAND = STAND_IN if os.environ["DVIC_TEST_AGENT"] == "python" else [os.environ["DVIC_TEST_AGENT"]]

SERVER_BIN = Path(os.environ.get("DVIC_SERVER_BIN", ROOT / ".build" / "debug" / "dvic-server"))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ADMIN_PASSWORD = "browser-test-admin"
VIEWER_PASSWORD = "browser-test-viewer"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rfc3339(ms: float | None = None) -> str:
    t = datetime.fromtimestamp((ms if ms is not None else time.time() * 1000) / 1000, tz=timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


class Client:
    """The REST API, as a test needs it."""

    def __init__(self, base: str, token: str | None = None):
        self.base = base
        self.token = token

    def call(self, method: str, path: str, body=None, token: str | None = None):
        headers = {"Content-Type": "application/json"}
        token = token or self.token
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                text = response.read()
                return response.status, (json.loads(text) if text else None)
        except urllib.error.HTTPError as error:
            text = error.read()
            return error.code, (json.loads(text) if text else None)

    def get(self, path):
        status, body = self.call("GET", path)
        assert status == 200, (path, status, body)
        return body

    def post(self, path, body):
        status, answer = self.call("POST", path, body)
        assert status in (200, 201, 202), (path, status, answer)
        return answer

    @classmethod
    def login(cls, base: str, username: str, password: str) -> "Client":
        client = cls(base)
        status, body = client.call("POST", "/v1/login", {"username": username, "password": password})
        assert status == 200, body
        client.token = body["token"]
        return client


class Server:
    def __init__(self, workdir: Path, artifacts: Path, name: str = "server", extra_args: tuple[str, ...] = ()):
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = artifacts / f"{name}.log"
        env = dict(os.environ, DVIC_ADMIN_PASSWORD=ADMIN_PASSWORD)
        env.setdefault("DVIC_VENDOR_DIR", str(ROOT / ".build-vendor"))
        if not SERVER_BIN.exists():
            pytest.exit(f"{SERVER_BIN} is missing: build it first (swift build --product dvic-server)", returncode=2)
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [str(SERVER_BIN), "--host", "127.0.0.1", "--port", str(self.port), "--data", str(workdir / "data"),
             "--no-local-agent", *extra_args],
            stdout=self.log, stderr=subprocess.STDOUT, env=env, cwd=workdir)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dvic-server exited: {self.log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError("dvic-server did not start")
        self.admin = Client.login(self.base, "admin", ADMIN_PASSWORD)

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


class Agent:
    def __init__(self, server: Server, workdir: Path, artifacts: Path, name: str, tags: list[str]):
        self.name = name
        self.state = workdir / name / "state"
        self.log_dir = workdir / name / "logs"
        self.log_dir.mkdir(parents=True)
        self.log_path = artifacts / f"agent-{name}.log"
        enrollment = server.admin.post("/v1/enrollments", {"name": name, "tags": tags, "ttlSeconds": 600})
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            AGENT_COMMAND + ["--server", server.base, "--enroll-token", enrollment["token"], "--state", str(self.state),
                             "--log-dir", str(self.log_dir), "--interval", "1", "--name", name]
            + [arg for tag in tags for arg in ("--tag", tag)],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.node_id = None

    def kill(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.log.close()

    def demo_log(self, token: str, name: str, pid: int) -> Path:
        """A demo log file as the demo libraries write it (CONTRACT.md)."""
        path = self.log_dir / f"dvic_log_{token}"
        header = {"dvic_log": 1, "pid": pid, "exe": "/usr/bin/python3", "argv": ["python3", f"{name}.py"],
                  "user": "lab", "name": name, "started": rfc3339()}
        path.write_text(json.dumps(header) + "\n")
        return path


def write_record(path: Path, level: str, message: str):
    with open(path, "a") as f:
        f.write(f"{rfc3339()} {level.upper()} {message}\n")


@pytest.fixture(scope="session")
def artifacts() -> Path:
    configured = os.environ.get("DVIC_TEST_ARTIFACTS")
    path = Path(configured) if configured else Path(tempfile.mkdtemp(prefix="dvic-browser-"))
    path.mkdir(parents=True, exist_ok=True)
    print(f"\nbrowser test artifacts: {path}; agents: {' '.join(AGENT_COMMAND)}", file=sys.stderr)
    return path


@pytest.fixture(scope="session")
def workdir():
    path = Path(tempfile.mkdtemp(prefix="dvic-browser-work-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def fleet(workdir, artifacts):
    """A server and three agents, all online, with demo log files: one demo running on
    the first machine, one that has exited on the second."""
    server = Server(workdir / "server", artifacts)
    demo_process = subprocess.Popen(["sleep", "3600"])
    agents = [
        Agent(server, workdir, artifacts, "lab-pi-1", ["lab-a", "camera"]),
        Agent(server, workdir, artifacts, "lab-pi-2", ["lab-a", "robot"]),
        Agent(server, workdir, artifacts, "lab-jetson-3", ["lab-b", "camera"]),
    ]
    camera = agents[0].demo_log("camdemo01", "camera-demo", demo_process.pid)
    write_record(camera, "info", "camera ready: 1920x1080 @ 30 fps")
    write_record(camera, "warn", "fps dropped to 24 (thermal throttling)")
    gone = subprocess.Popen(["true"])
    gone.wait()
    tracker = agents[1].demo_log("tracker0001", "tracker", gone.pid)
    write_record(tracker, "info", "tracker started")
    write_record(tracker, "error", "tracker crashed: CUDA out of memory")
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            nodes = server.admin.get("/v1/nodes")
            online = {n["name"]: n for n in nodes if n["status"] == "online"}
            if len(online) == 3:
                for agent in agents:
                    agent.node_id = online[agent.name]["id"]
                break
            time.sleep(0.3)
        else:
            raise RuntimeError(f"agents did not come online: {server.admin.get('/v1/nodes')}")
        yield {"server": server, "agents": agents, "camera_log": camera, "demo": demo_process, "workdir": workdir}
    finally:
        for agent in agents:
            agent.kill()
        demo_process.kill()
        server.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.exit(f"{CHROMIUM} is missing: apt-get install chromium", returncode=2)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield browser
        browser.close()


class Shots:
    """Screenshots as test artifacts; with DVIC_UPDATE_SCREENSHOTS=1 also the README's."""

    def __init__(self, artifacts: Path):
        self.dir = artifacts / "screenshots"
        self.dir.mkdir(exist_ok=True)
        self.docs = ROOT / "docs" / "screenshots" if os.environ.get("DVIC_UPDATE_SCREENSHOTS") == "1" else None

    def take(self, page, name: str, full_page: bool = False):
        path = self.dir / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        if self.docs:
            self.docs.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, self.docs / f"{name}.png")
        return path


@pytest.fixture(scope="session")
def shots(artifacts):
    return Shots(artifacts)


def new_page(browser, artifacts, request):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.set_default_timeout(15000)
    return context, page, problems


@pytest.fixture
def page(browser, artifacts, request):
    context, page, problems = new_page(browser, artifacts, request)
    yield page
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        page.screenshot(path=str(artifacts / f"failed-{request.node.name}.png"))
    context.close()
    assert not [p for p in problems if "page error" in p], problems


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def sign_in(page, base: str, username: str, password: str):
    page.goto(base + "/")
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill(password)
    page.get_by_test_id("login-submit").click()
    page.get_by_test_id("user-role").wait_for()
