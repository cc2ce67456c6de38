"""Headless Chromium for the tests that open pages in a real browser (study reports, the playground).

Needs Debian's ``chromium`` and ``chromium-driver`` packages (``/usr/bin/chromium``,
``/usr/bin/chromedriver``, or either on ``PATH``) and the ``selenium`` Python package; where one is
missing, or the driver cannot start the browser, the tests skip and say which (:data:`requires_browser`,
:func:`driver`), they never error. Nothing is downloaded: the driver is given explicitly, so Selenium
Manager is never asked for one, and the browser runs with networking features off.
"""

from __future__ import annotations

import base64
import os
import shutil
from pathlib import Path

import pytest


def executable(name: str) -> Path | None:
    """``/usr/bin/NAME`` or ``NAME`` on ``PATH``, if it is a file that can be run (a dangling link is not)."""
    for candidate in (Path("/usr/bin") / name, shutil.which(name)):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate)
    return None


def missing_browser(chromium: Path | None, driver: Path | None) -> str | None:
    """Why the browser tests cannot run here, or ``None``."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "the selenium package is not installed (the browser extra): pages not checked in a browser"
    if chromium is None:
        return "chromium not found (Debian package 'chromium'): pages not checked in a browser"
    if driver is None:
        return ("chromedriver not found (Debian package 'chromium-driver', /usr/bin/chromedriver): pages not "
                "checked in a browser")
    return None


_found = executable("chromium"), executable("chromedriver")
CHROMIUM = _found[0] or Path("/usr/bin/chromium")
CHROMEDRIVER = _found[1] or Path("/usr/bin/chromedriver")
#: Why the browser tests skip here (``None``: they run).
MISSING = missing_browser(*_found)
#: The mark of a test module that needs the browser: skipped, with the reason, where it is missing.
requires_browser = pytest.mark.skipif(MISSING is not None, reason=str(MISSING))

FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--window-size=1200,900",
)

#: For each <img>: whether it loaded, its natural size and its size on the page.
IMAGES_JS = """
return Array.from(document.images).map(img => {
  const box = img.getBoundingClientRect();
  return {alt: img.alt, complete: img.complete, naturalWidth: img.naturalWidth,
          naturalHeight: img.naturalHeight, width: box.width, height: box.height};
});
"""


def driver(profile: Path, window: str = "1200,900"):
    """A headless Chromium with its profile in ``profile``, logging the console (``get_log("browser")``)."""
    from selenium import webdriver
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag if not flag.startswith("--window-size") else f"--window-size={window}")
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        return webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    except (WebDriverException, OSError) as exc:  # a driver of another version than the browser, say
        pytest.skip(f"{CHROMEDRIVER} could not start {CHROMIUM}: {str(exc).splitlines()[0]}")


def screenshot(browser, path: Path) -> None:
    """The whole page, beyond the window, by the DevTools protocol's Page.captureScreenshot."""
    width, height = browser.execute_script(
        "const e = document.documentElement; return [e.scrollWidth, e.scrollHeight];")
    shot = browser.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
    })
    path.write_bytes(base64.b64decode(shot["data"]))
