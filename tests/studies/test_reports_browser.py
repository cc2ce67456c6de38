"""Every report of ``reglab study all --quick`` opens in headless Chromium (:mod:`tests.chromium`): images
load, no console errors. A screenshot of each page is saved beside the reports.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reglab.cli.main import main
from reglab.studies import STUDIES
from tests.chromium import IMAGES_JS, driver, requires_browser, screenshot

pytestmark = requires_browser


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> Path:
    """``reglab study all --quick`` run once through the CLI's main function; the folder of the reports."""
    out = tmp_path_factory.mktemp("studies")
    assert main(["study", "all", "--quick", "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    browser = driver(tmp_path_factory.mktemp("chromium-profile"))
    yield browser
    browser.quit()


def open_page(browser, path: Path) -> list[dict]:
    """Load ``path`` by its file:// URL; return the console entries of level SEVERE that it logged."""
    browser.get_log("browser")  # drop what earlier pages logged
    browser.get(path.resolve().as_uri())
    assert browser.execute_script("return document.readyState") == "complete"
    return [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


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
    # a table wider than the page scrolls in its own box: the page itself never scrolls sideways
    page_width, window_width = browser.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth];")
    assert page_width <= window_width, f"{name}: the page is {page_width} px wide in a {window_width} px window"
    shot = reports / f"screenshot-{name}.png"
    screenshot(browser, shot)
    assert shot.stat().st_size > 10_000


def test_index_links_every_report(browser, reports):
    errors = open_page(browser, reports / "index.html")
    links = browser.execute_script("return Array.from(document.links).map(a => a.href)")
    assert errors == []
    assert sorted(links) == sorted((reports / name / "report.html").resolve().as_uri() for name in STUDIES)
    screenshot(browser, reports / "screenshot-index.png")
