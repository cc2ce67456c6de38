"""The browser test skips, with the reason, where Chromium or its driver is missing; it never errors."""

from pathlib import Path

from tests.chromium import executable, missing_browser


def test_chromium_without_its_driver_skips_naming_the_driver(tmp_path):
    dangling = tmp_path / "chromedriver"
    dangling.symlink_to(tmp_path / "gone")  # what a removed package leaves: a link to nothing
    assert executable(str(dangling)) is None
    reason = missing_browser(Path("/usr/bin/true"), None)
    assert "chromedriver not found" in reason and "chromium-driver" in reason


def test_no_chromium_skips_naming_the_package():
    assert "chromium not found (Debian package 'chromium')" in missing_browser(None, None)


def test_with_both_there_is_nothing_missing():
    assert missing_browser(Path("/usr/bin/true"), Path("/usr/bin/true")) is None
