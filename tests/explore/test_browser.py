"""The playground in headless Chromium: train four λ on the circle, move a slider, switch to the digits, export.

Needs Debian's ``chromium`` and ``chromium-driver`` (``/usr/bin``) and selenium, as
``tests/studies/test_reports_browser.py`` does; skips, saying why, where they are absent. The server
is the real one (uvicorn on a free port of 127.0.0.1). Screenshots are saved in a temporary folder
whose path the test prints.
"""

from __future__ import annotations

import base64
import socket
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("uvicorn", reason="the explore extra (pip install 'reglab[explore]') is not installed")
pytest.importorskip("selenium", reason="selenium is not installed")

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
pytestmark = [
    pytest.mark.skipif(not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
                       reason=f"{CHROMIUM} or {CHROMEDRIVER} not found (Debian's chromium, chromium-driver)"),
    pytest.mark.slow,
]
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
         "--window-size=1500,1100")
IMAGES_JS = """return Array.from(document.images).map(img => ({alt: img.alt, complete: img.complete,
  naturalWidth: img.naturalWidth, width: img.getBoundingClientRect().width}));"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    import uvicorn

    from reglab.explore.server import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path_factory.mktemp("explore")
    app = create_app(tmp_path_factory.mktemp("data"), out, port=port)
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="auto"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    while not srv.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    yield driver
    driver.quit()


def wait_for(browser, script: str, seconds: float = 60.0):
    """Poll ``script`` (returning a value) until it is truthy; return it."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        value = browser.execute_script(script)
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"waited {seconds} s for: {script}")


def screenshot(browser, path: Path) -> None:
    width, height = browser.execute_script("const e = document.documentElement; return [e.scrollWidth, e.scrollHeight];")
    shot = browser.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True,
                                   "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}})
    path.write_bytes(base64.b64decode(shot["data"]))
    assert path.stat().st_size > 10_000


def severe(browser) -> list:
    return [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]


def test_four_lambdas_on_the_circle_then_the_digits_then_an_export(server, browser, tmp_path_factory):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    shots = tmp_path_factory.mktemp("screenshots")
    print(f"\nscreenshots: {shots}")
    browser.get(f"{server}/?data=circle&noise=0.1&hidden=8,8&lmbda=0,0.1,1,10")  # the page's state is its URL
    wait_for(browser, "return window.explore && window.explore.options !== null && explore.columns.length === 4")
    assert browser.find_element(By.ID, "hidden").get_attribute("value") == "8,8"

    browser.find_element(By.ID, "play").click()
    wait_for(browser, "return explore.drawn.boundary >= 8 && explore.points.length >= 4 && explore.latest.epoch >= 2")
    assert browser.find_element(By.ID, "play").text.endswith("pause")
    painted = browser.execute_script("""const c = document.getElementById('view-0').getContext('2d');
      return Array.from(c.getImageData(0, 0, 240, 240).data).some((v, i) => i % 4 !== 3 && v !== 255);""")
    assert painted, "the decision boundary of column 0 is blank"
    screenshot(browser, shots / "circle.png")

    before = browser.execute_script("return explore.latest.point.penalty[3]")
    slider = browser.find_element(By.ID, "lambda-3")
    slider.send_keys(*[Keys.ARROW_RIGHT] * 3)  # λ 10 → about 14: three changes, each applied between mini-batches
    wait_for(browser, "return explore.events.length >= 1 && explore.latest.columns[3].lmbda > 10")
    after = browser.execute_script("return explore.latest.point.penalty[3]")
    assert after > before
    curve = browser.execute_script("return explore.columns[3].cost.data[3].filter(v => v !== null)")
    assert max(curve) >= after and "lmbda=0%2C0.1%2C1%2C1" in browser.current_url
    screenshot(browser, shots / "circle-lambda-moved.png")

    Select(browser.find_element(By.ID, "data")).select_by_value("digits")
    wait_for(browser, "return explore.session && explore.session.data === 'digits' && explore.drawn.tiles >= 8")
    assert browser.execute_script("return explore.latest.tiles.shape.join('x')") == "8x8"
    screenshot(browser, shots / "digits.png")

    browser.find_element(By.ID, "export").click()
    link = wait_for(browser, "const a = document.getElementById('report-link'); return a && a.href", 120)
    resources = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert resources and all(r.startswith(server) for r in resources), resources
    assert severe(browser) == []

    browser.get(link)
    images = browser.execute_script(IMAGES_JS)
    assert len(images) == 5
    assert all(img["complete"] and img["naturalWidth"] > 0 and img["width"] > 0 for img in images), images
    assert severe(browser) == []
    screenshot(browser, shots / "report.png")
