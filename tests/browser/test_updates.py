"""An agent update started from the dashboard's Updates view: a real dvic-agent, a build of
it stamped with another version and signed with a release key, a rollout to it, and the
new version on its fleet card. Its own server (started with --release-key) and agent, so
the shared fleet of test_dashboard.py is not touched."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import signal
import subprocess
import time
import urllib.request

import pytest
from playwright.sync_api import expect

from conftest import ADMIN_PASSWORD, REAL_AGENT, Server, sign_in

pytestmark = pytest.mark.skipif(not REAL_AGENT.exists(), reason="needs the real dvic-agent (swift build)")

MARKER = b"DVIC-AGENT-VERSION:"


def restamp(binary: bytes, version: str) -> bytes:
    """The executable with its 64-byte version stamp rewritten (Spec/updates.md)."""
    at = binary.index(MARKER)
    stamp = MARKER + version.encode()
    return binary[:at] + stamp + b"\0" * (64 - len(stamp)) + binary[at + 64:]


def upload(server: Server, build: bytes, signature: str) -> dict:
    request = urllib.request.Request(
        f"{server.base}/v1/agent/builds?signature={signature}", data=build, method="POST",
        headers={"Authorization": f"Bearer {server.admin.token}", "Content-Type": "application/octet-stream"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def test_a_rollout_from_the_updates_view(page, workdir, artifacts, shots):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    key = ed25519.Ed25519PrivateKey.generate()
    public = base64.b64encode(key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)).decode()
    home = workdir / "updates"
    (home / "bin").mkdir(parents=True)
    (home / "logs").mkdir()
    (home / "release.pub").write_text(public + "\n")
    server = Server(home / "server", artifacts, name="update-server", extra_args=("--release-key", str(home / "release.pub")))
    agent = None
    try:
        original = REAL_AGENT.read_bytes()
        executable = home / "bin" / "dvic-agent"
        executable.write_bytes(original)
        executable.chmod(0o755)
        build = restamp(original, "0.1.0-ui")
        stored = upload(server, build, key.sign(hashlib.sha256(build).digest()).hex())
        assert stored["version"] == "0.1.0-ui" and stored["signed"]

        token = server.admin.post("/v1/enrollments", {"name": "lab-update-1", "ttlSeconds": 600})["token"]
        log = open(artifacts / "agent-lab-update-1.log", "w")
        agent = subprocess.Popen(
            [str(executable), "--server", server.base, "--enroll-token", token, "--state", str(home / "state"),
             "--log-dir", str(home / "logs"), "--name", "lab-update-1", "--journald-units", "-",
             "--release-key", public, "--update-timeout", "30"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=dict(os.environ, DVIC_NO_TRIM="1"))
        deadline = time.time() + 60
        node = None
        while time.time() < deadline and node is None:
            node = next((n for n in server.admin.get("/v1/nodes") if n["status"] == "online"), None)
            time.sleep(0.3)
        assert node is not None, "the agent did not come online"

        sign_in(page, server.base, "admin", ADMIN_PASSWORD)
        card = page.locator(f'[data-testid="node-card"][data-node-id="{node["id"]}"]')
        expect(card).to_have_attribute("data-agent-version", node["agentVersion"])
        page.get_by_test_id("nav-updates").click()
        expect(page.locator('[data-testid="build-row"][data-version="0.1.0-ui"][data-signed="true"]')).to_have_count(1)
        expect(page.get_by_test_id("release-key")).to_contain_text(public)
        page.get_by_test_id("update-targets").select_option("nodes")
        page.get_by_test_id("update-target-value").fill("lab-update-1")
        page.get_by_test_id("update-version").select_option("0.1.0-ui")
        page.get_by_test_id("update-batch").fill("1")
        page.get_by_test_id("update-start").click()
        rollout = page.get_by_test_id("update-rollout").first
        expect(rollout).to_have_attribute("data-state", "running", timeout=10_000)
        shots.take(page, "updates-running")
        expect(rollout).to_have_attribute("data-state", "succeeded", timeout=120_000)
        expect(rollout.locator(f'[data-testid="update-node"][data-node-id="{node["id"]}"]')).to_have_attribute("data-state", "succeeded")
        expect(rollout.get_by_test_id("update-progress")).to_contain_text("1 / 1 done")
        shots.take(page, "updates")

        # The same process (exec in place), now the new build, shows its version live.
        assert agent.poll() is None
        assert executable.read_bytes() == build
        page.get_by_test_id("nav-fleet").click()
        expect(card).to_have_attribute("data-agent-version", "0.1.0-ui", timeout=30_000)
        card.click()
        expect(page.get_by_test_id("agent-version")).to_have_attribute("data-version", "0.1.0-ui")
    finally:
        if agent is not None and agent.poll() is None:
            os.killpg(agent.pid, signal.SIGKILL)
            agent.wait()
        server.stop()
