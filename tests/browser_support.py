"""What the browser tests share: Debian's chromium driven by Playwright (never a browser
download), the app on a real HTTP server, and screenshots kept with the test output."""
from __future__ import annotations

import shutil
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

requires_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (apt-get install chromium fonts-noto-cjk)")


@contextmanager
def served(app):
    """The app on 127.0.0.1 at a free port, in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def screenshot(page, tmp_path: Path, name: str) -> None:
    """A full-page screenshot in the test's tmp_path, copied to test-output/ when it exists."""
    target = tmp_path / name
    page.screenshot(path=str(target), full_page=True)
    shared = Path(__file__).resolve().parent.parent / "test-output"
    if shared.is_dir():
        shutil.copy(target, shared / name)


@contextmanager
def browser_page(base: str, outside: list, **page_options):
    """A page of Debian's chromium (closed on the way out); every request it makes to a host
    other than `base` is appended to `outside`, for the test to assert that there is none."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page(locale="zh-CN", **page_options)
            page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(base) else None)
            yield page
        finally:
            browser.close()
