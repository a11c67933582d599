"""Without the vendor folder (tools/vendor-js not run), the page still works and says
what to install. Chart.js and xterm.css still come from Debian's own folders when those
packages are there; the xterm.js bundle has no such fallback."""

from __future__ import annotations

import os

from playwright.sync_api import expect

from conftest import ADMIN_PASSWORD, Server, sign_in


def test_the_page_says_what_is_missing(browser, workdir, artifacts, monkeypatch):
    empty = workdir / "no-vendor"
    empty.mkdir()
    monkeypatch.setenv("DVIC_VENDOR_DIR", str(empty))
    server = Server(workdir / "no-vendor-server", artifacts, name="no-vendor-server")
    context = browser.new_context()
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        server.admin.post("/v1/devices", {"name": "esp32-alone"})
        sign_in(page, server.base, "admin", ADMIN_PASSWORD)
        notice = page.get_by_test_id("vendor-missing")
        expect(notice.filter(has_text="xterm.js")).to_have_count(1)
        expect(notice.filter(has_text="tools/vendor-js")).not_to_have_count(0)
        expect(page.get_by_test_id("node-card")).to_have_count(1)
        assert not errors, errors
    finally:
        context.close()
        server.stop()
