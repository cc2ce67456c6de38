"""The playground in headless Chromium: train four λ on the circle, move a slider, switch to the digits, export.

Needs Debian's ``chromium`` and ``chromium-driver`` (``/usr/bin``) and selenium (:mod:`tests.chromium`);
skips, saying why, where they are absent. The server
is the real one (uvicorn on a free port of 127.0.0.1). Screenshots are saved in a temporary folder
whose path the test prints.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest

from tests.chromium import IMAGES_JS, driver, requires_browser, screenshot

pytest.importorskip("uvicorn", reason="the explore extra (pip install 'reglab[explore]') is not installed")
pytest.importorskip("selenium", reason="selenium is not installed")

pytestmark = [requires_browser, pytest.mark.slow]  # skips, with the reason, without chromium, its driver or selenium


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
    browser = driver(tmp_path_factory.mktemp("chromium-profile"), window="1500,1100")
    yield browser
    browser.quit()


def wait_for(browser, script: str, seconds: float = 60.0):
    """Poll ``script`` (returning a value) until it is truthy; return it."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        value = browser.execute_script(script)
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"waited {seconds} s for: {script}")


def severe(browser) -> list:
    return [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]


def test_four_lambdas_on_the_circle_then_the_digits_then_an_export(server, browser, tmp_path_factory):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    shots = tmp_path_factory.mktemp("screenshots")
    print(f"\nscreenshots: {shots}")
    browser.get(f"{server}/?data=circle&noise=0.1&hidden=8,8&lmbda=0,0.1,0.3,1")  # the page's state is its URL
    wait_for(browser, "return window.explore && window.explore.options !== null && explore.columns.length === 4")
    assert browser.find_element(By.ID, "hidden").get_attribute("value") == "8,8"

    browser.find_element(By.ID, "play").click()
    wait_for(browser, "return explore.drawn.boundary >= 8 && explore.points.length >= 4 && explore.latest.epoch >= 2")
    assert browser.find_element(By.ID, "play").text.endswith("pause")
    painted = browser.execute_script("""const c = document.getElementById('view-0').getContext('2d');
      return Array.from(c.getImageData(0, 0, 240, 240).data).some((v, i) => i % 4 !== 3 && v !== 255);""")
    assert painted, "the decision boundary of column 0 is blank"
    screenshot(browser, shots / "circle.png")
    assert (shots / "circle.png").stat().st_size > 10_000

    assert browser.execute_script("return explore.latest.point.penalty[3]") > 0  # (a large λ on 250 points would
    # decay the weights to float32's 0 within the hundreds of epochs a slow machine may train before this line)
    slider = browser.find_element(By.ID, "lambda-3")
    slider.send_keys(Keys.HOME)  # column 3's slider to its leftmost position: λ 1 → 0, applied between mini-batches
    wait_for(browser, "return explore.events.length >= 1 && explore.latest.columns[3].lmbda === 0")
    penalty = browser.execute_script("return explore.columns[3].cost.data[3]")
    assert max(penalty) > 0 and penalty[-1] == 0  # the penalty curve drops to 0 at the change, and stays there
    assert browser.execute_script("const p = explore.latest.point.penalty; return p[1] > 0 && p[2] > 0")  # others go on
    assert browser.find_element(By.CSS_SELECTOR, "#columns .column:nth-child(4) h2").text.startswith("λ = 0")
    assert "lmbda=0%2C0.1%2C0.3%2C0&" in browser.current_url
    screenshot(browser, shots / "circle-lambda-moved.png")
    assert severe(browser) == []

    eta = browser.find_element(By.ID, "eta")  # a bad value: the server's one line, in the page; nothing changes
    eta.clear()
    eta.send_keys("-1", Keys.TAB)
    message = wait_for(browser, "const e = document.getElementById('error'); return !e.hidden && e.textContent")
    assert message == "eta must be a number in [0, 1000], got -1"
    assert browser.execute_script("return explore.latest.columns[0].eta") == 0.5
    eta.clear()
    eta.send_keys("0.5", Keys.TAB)
    wait_for(browser, "return document.getElementById('error').hidden")
    time.sleep(0.5)  # the console's entries arrive on their own
    logged = severe(browser)
    assert logged and all("/api/change" in e["message"] and " 400 " in e["message"] for e in logged), logged
    assert (shots / "circle-lambda-moved.png").stat().st_size > 10_000

    Select(browser.find_element(By.ID, "data")).select_by_value("digits")
    wait_for(browser, "return explore.session && explore.session.data === 'digits' && explore.drawn.tiles >= 8")
    assert browser.execute_script("return explore.latest.tiles.shape.join('x')") == "8x8"
    screenshot(browser, shots / "digits.png")
    assert (shots / "digits.png").stat().st_size > 10_000

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
    assert (shots / "report.png").stat().st_size > 10_000
