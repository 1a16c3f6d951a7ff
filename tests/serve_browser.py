"""A real browser on `dltui serve`: start the server, open its page in headless Chromium
(Selenium), read the terminal's text, type keys. Used by test_serve.py and screenshots/serve.py.

textual-serve draws into xterm.js on a canvas, and keeps its Terminal object in a closure. A
script run before the page's own sets a one-shot setter for `terminal` on Object.prototype: the
page's `this.terminal = new Terminal(...)` then also hands the object to `window.__dltuiTerm`,
whose buffer is the screen's text, row by row, exactly as xterm.js holds it.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CAPTURE_TERMINAL = """
Object.defineProperty(Object.prototype, 'terminal', {
  configurable: true,
  set(value) {
    Object.defineProperty(this, 'terminal', {
      value, writable: true, configurable: true, enumerable: true});
    if (this.websocket_url !== undefined) window.__dltuiTerm = value;
  },
});
"""
READ_SCREEN = """
const term = window.__dltuiTerm;
if (!term) return null;
const buffer = term.buffer.active, rows = [];
for (let y = 0; y < buffer.length; y++) {
  const line = buffer.getLine(y);
  if (line) rows.push(line.translateToString(true));
}
return rows.join('\\n');
"""


def missing() -> str | None:
    """Why no browser test can run here, or None."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    if chromium() is None:
        return "no chromium here (apt-get install chromium chromium-driver)"
    if shutil.which("chromedriver") is None:
        return "no chromedriver here (apt-get install chromium-driver)"
    return None


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(args: list[str], port: int, log: Path, timeout: float = 60) -> subprocess.Popen:
    """`dltui serve ARGS --port PORT` in a process of its own, once it accepts connections."""
    with log.open("wb") as sink:
        server = subprocess.Popen(
            [sys.executable, "-m", "dltui", "serve", *args, "--port", str(port)],
            stdout=sink,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"dltui serve exited ({server.returncode}): {log.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError(f"dltui serve did not listen on port {port}: {log.read_text()}")


def stop_server(server: subprocess.Popen) -> None:
    server.terminate()  # as ctrl+c: textual-serve tells each tab's app to quit
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def open_browser(width: int = 1400, height: int = 900):
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = chromium()
    for arg in (
        "--headless=new",
        "--no-sandbox",  # root in a container
        "--disable-dev-shm-usage",
        f"--window-size={width},{height}",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": CAPTURE_TERMINAL})
    return driver


def screen(driver) -> str:
    """The terminal's text as the page shows it ('' before it has drawn)."""
    return driver.execute_script(READ_SCREEN) or ""


def wait_for(driver, predicate, timeout: float = 60, what: str = "the screen") -> str:
    """The screen's text once `predicate(text)` holds; AssertionError with it if never."""
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = screen(driver)
        if predicate(text):
            return text
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}; the page shows:\n{text}")


def press(driver, keys: str) -> None:
    """Type into the terminal: xterm.js reads keys from its helper textarea, which newer
    Chromiums call not interactable (it is hidden), so focus it and type as a keyboard does."""
    from selenium.webdriver.common.action_chains import ActionChains

    focus(driver)
    ActionChains(driver).send_keys(keys).perform()


def focus(driver) -> None:
    """Give the terminal the keyboard, as a click would: Textual shows the footer's keys only
    while the app has focus."""
    driver.execute_script("document.querySelector('.xterm-helper-textarea').focus()")
