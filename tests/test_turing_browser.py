"""The visual Turing test page works in a real browser: answers are clicked, the score appears.

Drives headless Chromium with Selenium through Debian's chromedriver (``/usr/bin/chromedriver``;
``MINIGAN_CHROMEDRIVER`` names another, ``MINIGAN_CHROMIUM`` the browser), so nothing is
downloaded. Clicks and key presses are WebDriver input actions: the browser receives real mouse
and keyboard events at the buttons' on-screen centres, not JavaScript ``click()`` calls. The
page's own JavaScript p-value is checked against ``scipy.stats.binomtest``.

Skipped when Selenium, Chromium or chromedriver is missing, unless ``MINIGAN_REQUIRE_BROWSER=1``
(CI) makes that a failure.
"""
import json
import os
import shutil

import numpy as np
import pytest
from scipy.stats import binomtest

from minigan.experiments.turing_page import make_turing_page

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1200,1000"]
TIMEOUT = 30.0
N = 6  # trials of each kind


def find_program(variable, names):
    if os.environ.get(variable):
        return os.environ[variable]
    return next((shutil.which(name) for name in names if shutil.which(name)), None)


def missing(reason):
    if os.environ.get("MINIGAN_REQUIRE_BROWSER") == "1":
        pytest.fail(reason + "; MINIGAN_REQUIRE_BROWSER=1 forbids skipping")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        missing("Selenium is not installed (pip install -e \".[dev]\")")
    binary = find_program("MINIGAN_CHROMIUM", ("chromium", "chromium-browser", "google-chrome"))
    driver_path = find_program("MINIGAN_CHROMEDRIVER", ("chromedriver",))
    if binary is None or driver_path is None:
        missing("no Chromium or chromedriver found (apt-get install -y chromium chromium-driver;"
                " or set MINIGAN_CHROMIUM and MINIGAN_CHROMEDRIVER)")
    folder = tmp_path_factory.mktemp("chromium")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in FLAGS + [f"--user-data-dir={folder / 'profile'}"]:
        options.add_argument(flag)
    service = Service(driver_path, log_output=str(folder / "chromedriver.log"))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(TIMEOUT)
    yield driver
    driver.quit()  # only the browser this test started


@pytest.fixture()
def page(tmp_path):
    """A page of 6 'real' (light) and 6 'refined' (dark) images; returns (url, truths)."""
    rng = np.random.default_rng(0)
    real = rng.uniform(0.0, 1.0, (N + 2, 1, 35, 55)).astype(np.float32)
    refined = rng.uniform(-1.0, 0.0, (N + 2, 1, 35, 55)).astype(np.float32)
    html = make_turing_page(real, refined, n=N, seed=3, examples=2)
    path = tmp_path / "turing.html"
    path.write_text(html, encoding="utf-8")
    start = html.index("const TRIALS = ") + len("const TRIALS = ")
    trials = json.JSONDecoder().raw_decode(html[start:])[0]
    return path.as_uri(), [t["truth"] for t in trials]


def wait_until(browser, condition):
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(browser, TIMEOUT, poll_frequency=0.02).until(condition)


def element(browser, element_id):
    from selenium.webdriver.common.by import By
    return browser.find_element(By.ID, element_id)


def test_clicked_answers_give_the_score_and_p_value(browser, page):
    from selenium.webdriver.support import expected_conditions as shown
    url, truths = page
    browser.get(url)
    assert not element(browser, "result").is_displayed()
    other = {"real": "refined", "refined": "real"}
    chosen = [truth if i % 4 else other[truth] for i, truth in enumerate(truths)]  # 3 of 4 right
    for i, choice in enumerate(chosen):
        assert element(browser, "progress").text == f"Image {i + 1} of {2 * N}"
        element(browser, f"answer-{choice}").click()  # a real click at the button's centre
        if i + 1 < len(chosen):
            wait_until(browser, lambda b, i=i: element(b, "progress").text
                       == f"Image {i + 2} of {2 * N}")
    wait_until(browser, shown.visibility_of(element(browser, "result")))

    correct = sum(c == t for c, t in zip(chosen, truths))
    result = element(browser, "result")
    assert int(result.get_attribute("data-correct")) == correct == 9
    assert int(result.get_attribute("data-total")) == 2 * N
    expected = binomtest(correct, 2 * N, 0.5, alternative="greater").pvalue
    assert float(result.get_attribute("data-p-value")) == pytest.approx(expected, rel=1e-9)
    score = element(browser, "score").text
    assert f"{correct} times out of {2 * N}" in score and "p = 0.073" in score
    cells = [int(element(browser, cell).text)
             for cell in ("real-real", "real-refined", "refined-real", "refined-refined")]
    expected_cells = [sum(t == a and c == b for c, t in zip(chosen, truths))
                      for a in ("real", "refined") for b in ("real", "refined")]
    assert cells == expected_cells and sum(cells) == 2 * N


def test_keys_r_and_f_answer_too(browser, page):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.support import expected_conditions as shown
    url, truths = page
    browser.get(url)
    for truth in truths:  # real key presses, sent to the page
        ActionChains(browser).send_keys("r" if truth == "real" else "f").perform()
    wait_until(browser, shown.visibility_of(element(browser, "result")))
    assert int(element(browser, "result").get_attribute("data-correct")) == 2 * N


def test_every_image_is_embedded_and_decodes(browser, page):
    from selenium.webdriver.common.by import By
    url, _ = page
    browser.get(url)
    images = browser.find_elements(By.TAG_NAME, "img")
    assert len(images) == 1 + 2 * 2  # the image under test + 2 examples of each kind
    for image in images:
        assert image.get_attribute("src").startswith("data:image/png;base64,")
        assert browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth",
                                      image) == 55


@pytest.mark.parametrize("k, n", [(0, 1), (1, 1), (9, 12), (0, 40), (28, 40), (40, 40),
                                  (517, 1000), (162, 200), (1000, 1000)])
def test_the_pages_p_value_is_scipys(browser, page, k, n):
    """The page's JavaScript P(X >= k), X ~ Binomial(n, 1/2), against scipy."""
    browser.get(page[0])
    value = browser.execute_script("return binomialPValueGreater(arguments[0], arguments[1])",
                                   k, n)
    expected = binomtest(k, n, 0.5, alternative="greater").pvalue
    assert value == pytest.approx(expected, rel=1e-9, abs=1e-300)
