"""Browser tests: Playwright driving Debian's Chromium against the gateway served by gunicorn on the real stack."""
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.support import HUNG_SECONDS, ROOT, free_port, wait_for

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
SCREENSHOTS = Path(os.environ.get("TSUHAN_SCREENSHOTS", ROOT / "var" / "screenshots"))


def _missing():
    """What the browser tests need and this machine lacks: Chromium, and a Japanese font (the layout tests measure
    Japanese text; without one every character is drawn as a box of another width)."""
    missing = [] if Path(CHROMIUM).exists() else ["chromium"]
    try:
        fonts = subprocess.run(["fc-list", ":lang=ja"], capture_output=True, text=True).stdout.strip()
    except OSError:
        fonts = ""
    return missing + ([] if fonts else ["fonts-ipafont-gothic"])


def pytest_collection_modifyitems(config, items):
    if not any("browser" in item.keywords for item in items):
        return
    missing = _missing()
    if not missing:
        return
    install = f"apt-get install -y {' '.join(missing)}"
    if os.environ.get("REQUIRE_BROWSER") == "1":
        raise pytest.UsageError(f"REQUIRE_BROWSER=1 but this machine lacks {', '.join(missing)} ({install})")
    skip = pytest.mark.skip(reason=f"this machine lacks {', '.join(missing)}: {install}")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def gateway_url(stack):
    port = free_port()
    log = open(stack.tmp / "gateway.log", "ab")
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "gateway.wsgi:app", "--bind", f"127.0.0.1:{port}",
                                "--workers", "1", "--threads", "8"], cwd=ROOT, env=stack.env, stdout=log,
                               stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait_for(lambda: urllib.request.urlopen(url + "/healthz", timeout=5).status == 200,
             message="the gateway")
    yield url
    process.terminate()
    process.wait(HUNG_SECONDS)


@pytest.fixture(scope="session")
def browser():
    # Tests wait with Playwright's retrying expect (to_have_text, to_be_visible, to_have_url, ...), never by reading
    # the page right after a click; like every time-out of the suite, these mean "hung", not "slow".
    expect.set_options(timeout=HUNG_SECONDS * 1000)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


def _desktop_page(browser, width, height, locale="ja-JP"):
    context = browser.new_context(viewport={"width": width, "height": height}, locale=locale)
    page = context.new_page()
    page.set_default_timeout(HUNG_SECONDS * 1000)
    page.on("dialog", lambda dialog: dialog.accept())
    return context, page


@pytest.fixture
def page(browser):
    context, page = _desktop_page(browser, 1280, 900)
    yield page
    context.close()


@pytest.fixture
def screen(browser):
    """The operator's screen: 1366×768, where screenshots for review are taken."""
    context, page = _desktop_page(browser, 1366, 768)
    yield page
    context.close()


@pytest.fixture
def english_screen(browser):
    """The operator's screen in a browser set to American English (its own date fields would read mm/dd/yyyy)."""
    context, page = _desktop_page(browser, 1366, 768, locale="en-US")
    yield page
    context.close()


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                  device_scale_factor=2, locale="ja-JP")
    page = context.new_page()
    page.set_default_timeout(HUNG_SECONDS * 1000)
    yield page
    context.close()


def log_in(page, gateway_url, login_id, password):
    page.goto(gateway_url + "/login")
    page.fill("#login_id", login_id)
    page.fill("#password", password)
    page.click("button:has-text('ログイン')")
    expect(page).not_to_have_url(re.compile(r"/login"))


def screenshot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
