"""Every report of ``reglab study all --quick`` opens in headless Chromium: images load, no console errors.

Needs Debian's ``chromium`` and ``chromium-driver`` packages (``/usr/bin/chromium``,
``/usr/bin/chromedriver``, or either on ``PATH``) and the ``selenium`` Python package; where one
is missing, or the driver cannot start the browser, the tests skip and say which. Nothing is
downloaded: the driver is given explicitly, so Selenium Manager is never asked for one, and the
browser runs with networking features off. A screenshot of each page is saved beside the reports.
"""

from __future__ import annotations

import base64
import os
import shutil
from pathlib import Path

import pytest

from reglab.cli.main import main
from reglab.studies import STUDIES


def executable(name: str) -> Path | None:
    """``/usr/bin/NAME`` or ``NAME`` on ``PATH``, if it is a file that can be run (a dangling link is not)."""
    for candidate in (Path("/usr/bin") / name, shutil.which(name)):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate)
    return None


def missing_browser(chromium: Path | None, driver: Path | None) -> str | None:
    """Why the browser test cannot run here, or ``None``."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "the selenium package is not installed (pip install -e '.[test]'): reports not checked in a browser"
    if chromium is None:
        return "chromium not found (Debian package 'chromium'): reports not checked in a browser"
    if driver is None:
        return ("chromedriver not found (Debian package 'chromium-driver', /usr/bin/chromedriver): reports not "
                "checked in a browser")
    return None


CHROMIUM, CHROMEDRIVER = executable("chromium"), executable("chromedriver")
pytestmark = pytest.mark.skipif(missing_browser(CHROMIUM, CHROMEDRIVER) is not None,
                                reason=str(missing_browser(CHROMIUM, CHROMEDRIVER)))

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


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> Path:
    """``reglab study all --quick`` run once through the CLI's main function; the folder of the reports."""
    out = tmp_path_factory.mktemp("studies")
    assert main(["study", "all", "--quick", "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    except (WebDriverException, OSError) as exc:  # a driver of another version than the browser, say
        pytest.skip(f"{CHROMEDRIVER} could not start {CHROMIUM}: {str(exc).splitlines()[0]}")
    yield driver
    driver.quit()


def open_page(browser, path: Path) -> list[dict]:
    """Load ``path`` by its file:// URL; return the console entries of level SEVERE that it logged."""
    browser.get_log("browser")  # drop what earlier pages logged
    browser.get(path.resolve().as_uri())
    assert browser.execute_script("return document.readyState") == "complete"
    return [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


def screenshot(browser, path: Path) -> None:
    """The whole page, beyond the window, by the DevTools protocol's Page.captureScreenshot."""
    width, height = browser.execute_script(
        "const e = document.documentElement; return [e.scrollWidth, e.scrollHeight];")
    shot = browser.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
    })
    path.write_bytes(base64.b64decode(shot["data"]))


@pytest.mark.parametrize("name", list(STUDIES))
def test_report_opens_with_every_image(name, browser, reports):  # the browser first: it may skip
    errors = open_page(browser, reports / name / "report.html")
    images = browser.execute_script(IMAGES_JS)
    png_files = sorted((reports / name).glob("*.png"))
    assert len(images) == len(png_files) > 0, f"{name}: {len(images)} <img>, {len(png_files)} PNG files"
    for img in images:
        assert img["complete"], f"{name}: image {img['alt']!r} did not finish loading"
        assert img["naturalWidth"] > 0 and img["naturalHeight"] > 0, f"{name}: image {img['alt']!r} is empty"
        assert img["width"] > 0 and img["height"] > 0, f"{name}: image {img['alt']!r} has no size on the page"
    assert errors == [], f"{name}: console errors {errors}"
    shot = reports / f"screenshot-{name}.png"
    screenshot(browser, shot)
    assert shot.stat().st_size > 10_000


def test_index_links_every_report(browser, reports):
    errors = open_page(browser, reports / "index.html")
    links = browser.execute_script("return Array.from(document.links).map(a => a.href)")
    assert errors == []
    assert sorted(links) == sorted((reports / name / "report.html").resolve().as_uri() for name in STUDIES)
    screenshot(browser, reports / "screenshot-index.png")
