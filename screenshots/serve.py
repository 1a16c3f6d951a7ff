"""Screenshot `dltui serve xor` in a real browser (headless Chromium) into screenshots/serve-xor.png.

Run from the repo root: `python screenshots/serve.py`. Needs chromium, chromedriver and selenium
(`apt-get install chromium chromium-driver`, `pip install -e '.[dev]'`); not run in CI. The run
is `--steps 3000 --speed max`: it pauses at its last step, so the picture shows the same trained
net each time (the same one as screenshots/xor.svg).
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

import serve_browser as browser  # the tests' helper, found through the path above

OUT = HERE / "serve-xor.png"


def main() -> int:
    if reason := browser.missing():
        print(f"cannot take the screenshot: {reason}", file=sys.stderr)
        return 1
    port = browser.free_port()
    with tempfile.TemporaryDirectory() as tmp:
        server = browser.start_server(
            ["xor", "--steps", "3000", "--speed", "max"], port, Path(tmp) / "serve.log"
        )
        driver = None
        try:
            driver = browser.open_browser(1400, 860)
            driver.get(f"http://127.0.0.1:{port}/")
            browser.wait_for(
                driver,
                lambda text: re.search(r"step 3,000/3,000 .*done", text) is not None,
                timeout=120,
                what="step 3,000, done",
            )
            browser.focus(driver)  # the footer shows its keys
            browser.wait_for(driver, lambda text: "Quit" in text, what="the footer's keys")
            time.sleep(1)  # the last frame's redraw lands
            driver.save_screenshot(str(OUT))
        finally:
            if driver is not None:
                driver.quit()
            browser.stop_server(server)
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
