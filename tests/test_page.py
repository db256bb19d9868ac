"""The page at ``GET /`` in a real browser: headless Chromium driven by Selenium.

A seed article of ../shared/seeds is pasted and classified; the DOM must show the expected themes
(those of expected.json's ``about`` list that the model returns, compared with what the model gives in
this process, never hard-coded), the themes it names, and the evidence sentences highlighted in the
article.  A screenshot is saved under the test's tmp_path (and to $ARABICTOPICS_PAGE_SCREENSHOT when
set, e.g. ``docs/page.png`` for the README).  Skips only when chromium or chromedriver cannot be found
(CI installs Debian's ``chromium`` and ``chromium-driver``), or the seeds are absent.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason='the [serve] extra is not installed: pip install "arabictopics[serve]"')
pytest.importorskip("uvicorn", reason='the [serve] extra is not installed: pip install "arabictopics[serve]"')
pytest.importorskip("selenium", reason="selenium is not installed: pip install selenium (in the [test] extra)")

import arabictopics
from arabictopics.serve import create_app

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
SEED = "000_2567ffb2ab6c4639.txt"


def _browser() -> tuple[str, str]:
    chromium = next(
        (shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome") if shutil.which(name)), None
    )
    driver = shutil.which("chromedriver") or next(
        (p for p in ("/usr/lib/chromium/chromedriver", "/usr/bin/chromedriver") if os.access(p, os.X_OK)), None
    )
    if chromium is None or driver is None:
        pytest.skip(
            "chromium or chromedriver not found: apt-get install chromium chromium-driver (.ci/run does it when it can)"
        )
    return chromium, driver


@pytest.fixture(scope="module")
def server():
    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(arabictopics.load_model()), host="127.0.0.1", port=port, log_level="warning")
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not instance.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/"
    instance.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    chromium, driver_path = _browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.add_argument("--window-size=1400,1500")
    options.add_argument("--lang=en-US")
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    yield driver
    driver.quit()


def test_page_shows_themes_and_highlighted_evidence(server, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    if not (SEEDS / SEED).exists():
        pytest.skip(f"{SEEDS} is absent (the seed articles live beside the repository)")
    text = (SEEDS / SEED).read_text(encoding="utf-8")
    expected_about = json.loads((SEEDS / "expected.json").read_text(encoding="utf-8"))[SEED]["about"]
    answer = arabictopics.load_model().classify(text)
    about = [label for label in expected_about if label in answer.labels]
    assert about, f"the model returns none of {expected_about} for {SEED}: nothing to check on the page"

    browser.get(server)
    WebDriverWait(browser, 20).until(lambda d: d.find_element(By.ID, "model").text.startswith("Model:"))
    area = browser.find_element(By.ID, "article")
    # Pasting 10 KB key by key is slow in WebDriver: the first words are typed, the rest set as a paste would.
    area.send_keys(text[:20])
    browser.execute_script(
        "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input'));", area, text
    )
    browser.find_element(By.ID, "classify").click()
    WebDriverWait(browser, 30).until(lambda d: d.find_element(By.ID, "results").is_displayed())
    assert "Done" in browser.find_element(By.ID, "status").text

    shown_about = [e.get_attribute("data-theme") for e in browser.find_elements(By.CSS_SELECTOR, "#about .theme")]
    shown_named = [e.get_attribute("data-theme") for e in browser.find_elements(By.CSS_SELECTOR, "#named .theme")]
    for label in about:
        assert label in shown_about, (label, shown_about)
    assert shown_about == list(answer.labels) and shown_named == list(answer.mentions)

    article = browser.find_element(By.ID, "text")
    assert article.get_attribute("dir") == "rtl"
    marks = browser.find_elements(By.CSS_SELECTOR, "#text mark.evidence")
    assert marks, "no evidence sentence is highlighted"
    marked = {label for m in marks for label in m.get_attribute("data-themes").split()}
    for label in about:
        assert label in marked, (label, marked)
        [mark] = [m for m in marks if label in m.get_attribute("data-themes").split()][:1]
        sentence = answer.evidence[label]
        assert mark.get_attribute("textContent").startswith(sentence)
    colours = {m.value_of_css_property("border-bottom-color") for m in marks}
    assert len(colours) == len({m.get_attribute("data-themes").split()[0] for m in marks})  # one colour per theme

    # clicking a theme scrolls its sentence into view
    label = about[-1]
    browser.find_element(By.CSS_SELECTOR, f'#about .theme[data-theme="{label}"]').click()
    target = browser.find_element(By.CSS_SELECTOR, f'#text mark.evidence[data-themes~="{label}"]')
    WebDriverWait(browser, 5).until(
        lambda d: d.execute_script(
            "const r = arguments[0].getBoundingClientRect(), p = arguments[1].getBoundingClientRect();"
            "return r.top >= p.top && r.bottom <= p.bottom + 1 && r.top < window.innerHeight;",
            target,
            article,
        )
    )
    time.sleep(1)  # the smooth scroll and the flash are over
    browser.execute_script(  # the screenshot: the whole page, the article at its first highlight
        "document.querySelectorAll('mark.flash').forEach((m) => m.classList.remove('flash'));"
        "const text = document.getElementById('text'), first = text.querySelector('mark.evidence');"
        "text.scrollTop = first.offsetTop - text.offsetTop - 80;"
    )
    WebDriverWait(browser, 5).until(lambda d: d.execute_script("window.scrollTo(0, 0); return window.scrollY === 0;"))
    shot = tmp_path / "page.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    if os.environ.get("ARABICTOPICS_PAGE_SCREENSHOT"):
        shutil.copyfile(shot, os.environ["ARABICTOPICS_PAGE_SCREENSHOT"])
