"""The dashboard against a live fleet: a real dvic-server, three agents, real Chromium.

The tests share one fleet and run in file order; the last one kills an agent.
Every view is photographed (artifacts; docs/screenshots with DVIC_UPDATE_SCREENSHOTS=1).
"""

from __future__ import annotations

import json
import os
import re
import signal
import time
import urllib.request

import pytest
from playwright.sync_api import expect

from conftest import ADMIN_PASSWORD, VIEWER_PASSWORD, Client, sign_in, write_record


def open_node(page, fleet, index: int, tab: str | None = None):
    agent = fleet["agents"][index]
    page.locator(f'[data-testid="node-card"][data-node-id="{agent.node_id}"]').click()
    page.locator(".view.node .node-header h2").wait_for()
    if tab:
        page.get_by_test_id(f"tab-{tab}").click()
    return agent


def test_login_shows_the_role(page, fleet, shots):
    base = fleet["server"].base
    page.goto(base + "/")
    expect(page.get_by_test_id("login-submit")).to_be_visible()
    page.get_by_test_id("login-username").fill("admin")
    page.get_by_test_id("login-password").fill("wrong password")
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("login-error")).to_contain_text("Wrong")
    page.get_by_test_id("login-password").fill("")
    shots.take(page, "login")
    page.get_by_test_id("login-password").fill(ADMIN_PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("user-role")).to_have_text("admin")
    # The token lives in memory only.
    assert page.evaluate("() => localStorage.length + sessionStorage.length") == 0
    assert page.evaluate("() => document.cookie") == ""


def test_three_nodes_are_online(page, fleet, shots):
    sign_in(page, fleet["server"].base, "admin", ADMIN_PASSWORD)
    cards = page.get_by_test_id("node-card")
    expect(cards).to_have_count(3)
    expect(page.locator('[data-testid="node-card"][data-status="online"]')).to_have_count(3)
    for agent in fleet["agents"]:
        expect(page.locator(f'[data-testid="node-card"][data-node-id="{agent.node_id}"]')).to_contain_text(agent.name)
    # The exited demo stands out; sparklines and last log lines fill in live.
    expect(page.locator('[data-testid="demo-state"][data-state="exited"]')).to_have_count(1)
    expect(page.locator('[data-testid="demo-state"][data-state="running"]')).to_have_count(1)
    expect(page.locator(f'[data-node-id="{fleet["agents"][1].node_id}"] [data-testid="last-log"]')).to_contain_text("CUDA out of memory")
    expect(page.locator('[data-testid="node-card"] .metric .value').first).to_have_text(re.compile(r"\d+%"))
    # Filters.
    page.get_by_test_id("fleet-filter").fill("jetson")
    expect(cards).to_have_count(1)
    page.get_by_test_id("fleet-filter").fill("")
    page.get_by_test_id("fleet-tag").select_option("camera")
    expect(cards).to_have_count(2)
    page.get_by_test_id("fleet-tag").select_option("")
    expect(cards).to_have_count(3)
    time.sleep(3)  # a few seconds of sparklines for the picture
    shots.take(page, "fleet")


def test_a_chart_shows_points(page, fleet, shots):
    sign_in(page, fleet["server"].base, "admin", ADMIN_PASSWORD)
    open_node(page, fleet, 0)
    cpu = page.locator('[data-testid="chart"][data-metric="cpu.total"]')
    expect(cpu).to_be_visible()
    expect(cpu).not_to_have_attribute("data-points", "0")
    points = int(cpu.get_attribute("data-points"))
    page.wait_for_function(
        """n => Number(document.querySelector('[data-testid="chart"][data-metric="cpu.total"]').dataset.points) > n""",
        arg=points, timeout=10000)  # and it grows live
    # History through the range picker (roll-ups).
    page.locator('[data-testid="range-picker"] button[data-range="1h"]').click()
    expect(cpu).not_to_have_attribute("data-points", "0")
    page.locator('[data-testid="range-picker"] button[data-range="live"]').click()
    time.sleep(2)
    shots.take(page, "node-metrics")
    page.get_by_test_id("tab-processes").click()
    expect(page.get_by_test_id("demo-table")).to_contain_text("camera-demo")
    shots.take(page, "node-demos")
    page.get_by_test_id("tab-inventory").click()
    expect(page.get_by_test_id("inventory")).to_contain_text("kernel")
    shots.take(page, "node-inventory")


def test_a_log_line_reaches_the_live_tail_within_two_seconds(page, fleet, shots):
    sign_in(page, fleet["server"].base, "admin", ADMIN_PASSWORD)
    open_node(page, fleet, 0, "logs")
    lines = page.get_by_test_id("log-line")
    expect(lines.filter(has_text="camera ready")).to_have_count(1)
    expect(page.locator(".log-status")).to_contain_text("Live")
    marker = f"frame {int(time.time() * 1000)} decoded in 12 ms"
    started = time.monotonic()
    write_record(fleet["camera_log"], "info", marker)
    expect(lines.filter(has_text=marker)).to_have_count(1, timeout=2000)
    elapsed = time.monotonic() - started
    assert elapsed < 2.0, f"the line took {elapsed:.2f} s"
    write_record(fleet["camera_log"], "error", "lost the camera: /dev/video0 disconnected")
    expect(lines.filter(has_text="/dev/video0")).to_have_count(1)
    shots.take(page, "node-logs")
    # The level filter and the full-text search over history.
    page.get_by_test_id("log-level").select_option("error")
    expect(lines.filter(has_text="/dev/video0")).to_have_count(1)
    expect(lines.filter(has_text=marker)).to_have_count(0)
    page.get_by_test_id("log-level").select_option("trace")
    page.get_by_test_id("log-search").fill("thermal throttling")
    page.get_by_test_id("log-search").press("Enter")
    expect(lines).to_have_count(1)
    expect(lines.first).to_contain_text("fps dropped to 24")
    shots.take(page, "node-log-search")


def test_uname_on_all_three(page, fleet, shots):
    sign_in(page, fleet["server"].base, "admin", ADMIN_PASSWORD)
    page.get_by_test_id("nav-run").click()
    page.get_by_test_id("target-mode-all").check()
    expect(page.get_by_test_id("target-summary")).to_contain_text("3 nodes selected")
    page.get_by_test_id("command-input").fill("uname -a")
    page.get_by_test_id("command-run").click()
    results = page.get_by_test_id("command-result")
    expect(results).to_have_count(3)
    expect(page.locator('[data-testid="command-result"][data-exit-code="0"]')).to_have_count(3)
    for agent in fleet["agents"]:
        row = page.locator(f'[data-testid="command-result"][data-node-id="{agent.node_id}"]')
        expect(row).to_have_attribute("data-exit-code", "0")
        expect(row.get_by_test_id("command-output")).to_contain_text("Linux")
    expect(page.get_by_test_id("command-progress")).to_contain_text("3 / 3 done")
    shots.take(page, "run-on-many")
    # A failing command by tag, then a re-run on the failed ones only.
    page.get_by_test_id("target-tags").wait_for(state="hidden")
    page.locator('input[name="target-mode"][value="tags"]').check()
    page.get_by_test_id("target-tags").get_by_text("camera").click()
    expect(page.get_by_test_id("target-summary")).to_contain_text("2 nodes selected")
    page.get_by_test_id("command-input").fill("test $(hostname) = nowhere")
    page.get_by_test_id("command-run").click()
    expect(page.locator('[data-testid="command-result"][data-exit-code="1"]')).to_have_count(2)
    page.get_by_test_id("command-rerun-failed").click()
    expect(page.get_by_test_id("command-progress")).to_contain_text("2 / 2 done")


def test_a_terminal_opens_and_echoes(page, browser, fleet, shots):
    sign_in(page, fleet["server"].base, "admin", ADMIN_PASSWORD)
    open_node(page, fleet, 0)
    page.get_by_test_id("open-terminal").click()
    terminal = page.get_by_test_id("terminal")
    expect(terminal).to_have_count(1)
    rows = terminal.locator(".xterm-rows > div")
    expect(rows.first).to_have_text(re.compile(r"\S"))  # the prompt, whatever the shell
    page.keyboard.type("echo hi\n")
    expect(rows.filter(has_text=re.compile(r"^\s*hi\s*$"))).to_have_count(1)
    page.keyboard.type("echo $((6 * 7))\n")
    expect(rows.filter(has_text=re.compile(r"^\s*42\s*$"))).to_have_count(1)
    shots.take(page, "node-terminal")

    # Someone else joins the same session: they get its scrollback, and both type.
    session = terminal.first.get_attribute("data-session-id")
    other_context = browser.new_context(viewport={"width": 1200, "height": 800})
    other = other_context.new_page()
    try:
        sign_in(other, fleet["server"].base, "admin", ADMIN_PASSWORD)
        open_node(other, fleet, 0, "terminal")
        other.get_by_test_id("terminal-join").select_option(session)
        other.get_by_role("button", name="Join").click()
        joined = other.locator(f'[data-testid="terminal"][data-session-id="{session}"] .xterm-rows > div')
        expect(joined.filter(has_text=re.compile(r"^\s*42\s*$"))).to_have_count(1)
        other.keyboard.type("echo joined\n")
        expect(rows.filter(has_text=re.compile(r"^\s*joined\s*$"))).to_have_count(1)
    finally:
        other_context.close()

    # A second tab, then the window resizes and the terminal follows.
    page.get_by_test_id("new-terminal").click()
    expect(terminal).to_have_count(2)
    active = page.locator('[data-testid="terminal"]:not([hidden])')
    expect(active).to_have_attribute("data-cols", re.compile(r"\d+"))
    cols = int(active.get_attribute("data-cols"))
    page.set_viewport_size({"width": 1000, "height": 800})
    page.wait_for_function(
        "c => Number(document.querySelector('[data-testid=\"terminal\"]:not([hidden])').dataset.cols) < c", arg=cols, timeout=5000)


def test_a_viewer_has_no_command_controls(browser, fleet, artifacts, shots):
    server = fleet["server"]
    status, _ = server.admin.call("POST", "/v1/users", {"username": "visitor", "password": VIEWER_PASSWORD, "role": "viewer"})
    assert status in (201, 409)
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    try:
        sign_in(page, server.base, "visitor", VIEWER_PASSWORD)
        expect(page.get_by_test_id("user-role")).to_have_text("viewer")
        expect(page.get_by_test_id("node-card")).to_have_count(3)
        expect(page.get_by_test_id("nav-run")).to_have_count(0)
        expect(page.get_by_test_id("nav-audit")).to_have_count(0)
        expect(page.get_by_test_id("nav-enroll")).to_have_count(0)
        open_node(page, fleet, 0)
        expect(page.get_by_test_id("chart").first).to_be_visible()
        for testid in ("open-terminal", "command-input", "command-run", "terminal", "tab-command", "tab-terminal"):
            expect(page.get_by_test_id(testid)).to_have_count(0)
        page.goto(server.base + "/#/run")
        expect(page.get_by_test_id("fleet-grid")).to_be_visible()
        expect(page.get_by_test_id("command-input")).to_have_count(0)
        shots.take(page, "viewer")
        # And the server refuses anyway.
        viewer = Client.login(server.base, "visitor", VIEWER_PASSWORD)
        status, body = viewer.call("POST", "/v1/commands", {"targets": {"all": True}, "command": "true"})
        assert status == 403, body
    finally:
        context.close()


def test_devices(page, fleet, shots):
    server = fleet["server"]
    sign_in(page, server.base, "admin", ADMIN_PASSWORD)
    page.get_by_test_id("nav-devices").click()
    page.get_by_test_id("device-name").fill("esp32-door-sensor")
    page.get_by_test_id("device-create").click()
    curl = page.get_by_test_id("device-curl")
    expect(curl).to_contain_text("/v1/keepalive")
    token = re.search(r"Bearer (\S+?)'", curl.inner_text()).group(1)
    body = json.dumps({"uptime_ms": 81234, "seq": 1, "metrics": {"temp_c": 36.5, "rssi_dbm": -61},
                       "logs": [{"level": "info", "msg": "door closed"}]}).encode()
    request = urllib.request.Request(server.base + "/v1/keepalive", data=body, method="POST",
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert json.loads(response.read())["ok"] is True
    row = page.locator('[data-testid="device-row"]').filter(has_text="esp32-door-sensor")
    expect(row).to_have_attribute("data-status", "online", timeout=15000)
    expect(row).to_contain_text("temp_c", timeout=15000)
    shots.take(page, "devices")


def test_add_a_machine(page, fleet, shots):
    sign_in(page, fleet["server"].base, "admin", ADMIN_PASSWORD)
    page.get_by_test_id("nav-enroll").click()
    page.get_by_test_id("enroll-name").fill("lab-pi-4")
    page.get_by_test_id("enroll-tags").fill("lab-b, camera")
    page.get_by_test_id("enroll-create").click()
    expect(page.get_by_test_id("install-command")).to_contain_text("install.sh?token=dve_")
    shots.take(page, "add-machine")

    # The SSH install, against the throwaway sshd of tools/sshd (tools/test starts it as root).
    ssh = {k: os.environ.get(f"DVIC_TEST_SSH_{k}") for k in ("PORT", "USER", "PASSWORD")}
    form = page.get_by_test_id("ssh-form")
    expect(form.get_by_test_id("ssh-install")).to_be_enabled()
    if not all(ssh.values()):
        if os.environ.get("DVIC_REQUIRE_SSH") == "1":
            pytest.fail("no test sshd: run `eval \"$(tools/sshd start)\"` (tools/test does)")
        return
    source = fleet["agents"][0]
    prefix = fleet["workdir"] / "ssh-installed"

    def install(password: str):
        form.get_by_test_id("ssh-ip").fill("127.0.0.1")
        form.get_by_test_id("ssh-port").fill(ssh["PORT"])
        form.get_by_test_id("ssh-user").fill(ssh["USER"])
        form.get_by_test_id("ssh-password").fill(password)
        form.get_by_test_id("ssh-via").select_option(source.node_id)
        form.get_by_test_id("ssh-name").fill("dashboard-added")
        form.get_by_test_id("ssh-prefix").fill(str(prefix))
        form.get_by_test_id("ssh-install").click()

    # A wrong password: the job fails with its name, and the form is usable again.
    install("not-the-password")
    expect(page.get_by_test_id("install-progress")).to_have_attribute("data-state", "failed", timeout=30000)
    expect(page.get_by_test_id("install-verdict")).to_contain_text("auth_failed")
    expect(page.get_by_test_id("ssh-password")).to_have_value("")

    install(ssh["PASSWORD"])
    progress = page.get_by_test_id("install-progress")
    expect(progress).to_have_attribute("data-state", "succeeded", timeout=120000)
    expect(progress.locator('[data-testid="install-step"][data-state="done"]')).to_have_count(6)
    expect(page.get_by_test_id("install-verdict")).to_contain_text("Installed: dashboard-added is online")
    shots.take(page, "add-machine-ssh")

    # Leave the fleet as the later tests expect it: stop the new agent, forget its node.
    pid_file = prefix / "var" / "lib" / "dvic" / "agent.pid"
    if pid_file.exists():
        try:
            os.kill(int(pid_file.read_text().strip()), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass
    admin = Client.login(fleet["server"].base, "admin", ADMIN_PASSWORD)
    for node in admin.get("/v1/nodes"):
        if node["name"] == "dashboard-added":
            admin.call("DELETE", f"/v1/nodes/{node['id']}")


def test_audit(page, fleet, shots):
    sign_in(page, fleet["server"].base, "admin", ADMIN_PASSWORD)
    page.get_by_test_id("nav-audit").click()
    rows = page.get_by_test_id("audit-row")
    expect(rows.filter(has_text="uname -a")).to_have_count(1)
    expect(page.locator('[data-testid="audit-row"][data-action="terminal.open"]').first).to_be_visible()
    expect(page.locator('[data-testid="audit-row"][data-action="device.create"]')).to_have_count(1)
    shots.take(page, "audit")


def test_killing_an_agent_turns_its_card_offline(page, fleet, shots):
    sign_in(page, fleet["server"].base, "admin", ADMIN_PASSWORD)
    page.get_by_test_id("fleet-status").wait_for()
    victim = fleet["agents"][2]
    card = page.locator(f'[data-testid="node-card"][data-node-id="{victim.node_id}"]')
    expect(card).to_have_attribute("data-status", "online")
    victim.kill()
    expect(card).to_have_attribute("data-status", "offline", timeout=15000)
    expect(page.locator('[data-testid="node-card"][data-kind="agent"][data-status="online"]')).to_have_count(2)
    shots.take(page, "fleet-offline")
