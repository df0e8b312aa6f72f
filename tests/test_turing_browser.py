"""The visual Turing test page works in a real browser: answers are clicked, the score appears.

Drives headless Chromium over the Chrome DevTools Protocol on ``--remote-debugging-pipe``
(JSON messages separated by NUL bytes on file descriptors 3 and 4), so the test needs the
``chromium`` package and nothing from PyPI. Clicks are real mouse events dispatched at the
buttons' on-screen centres (``Input.dispatchMouseEvent``), not JavaScript ``click()`` calls.

Skipped when no Chromium is found, unless ``MINIGAN_REQUIRE_BROWSER=1`` (CI) makes that a
failure. ``MINIGAN_CHROMIUM`` names the browser binary when it is not on PATH.
"""
import fcntl
import json
import os
import select
import shutil
import subprocess
import time

import numpy as np
import pytest

from minigan.experiments.metrics import binomial_p_value
from minigan.experiments.turing_page import make_turing_page

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--remote-debugging-pipe", "--window-size=1200,1000"]
TIMEOUT = 30.0


def find_chromium():
    named = os.environ.get("MINIGAN_CHROMIUM")
    if named:
        return named
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


class Browser:
    """A headless Chromium and one page in it, driven over the DevTools pipe."""

    def __init__(self, binary, profile_dir, log_path):
        to_browser_r, self.to_browser = os.pipe()
        self.from_browser, from_browser_w = os.pipe()

        def wire_pipes():  # in the child, before exec: the protocol's fixed fds 3 and 4
            # Move both ends above 10 first, so dup2 can never overwrite one with the other.
            read_end = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD, 10)
            write_end = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD, 10)
            os.dup2(read_end, 3)
            os.dup2(write_end, 4)

        self.log_path = log_path
        with open(log_path, "wb") as log:
            self.process = subprocess.Popen(
                [binary, *FLAGS, f"--user-data-dir={profile_dir}", "about:blank"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, close_fds=False,
                preexec_fn=wire_pipes)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self.buffer, self.events, self.next_id = b"", [], 0
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.send("Target.attachToTarget",
                                 {"targetId": target, "flatten": True})["sessionId"]
        self.send("Page.enable", session=True)

    def _read_message(self, deadline):
        while b"\0" not in self.buffer:
            ready, _, _ = select.select([self.from_browser], [], [], max(0, deadline - time.time()))
            chunk = os.read(self.from_browser, 1 << 16) if ready else b""
            if not chunk:
                raise RuntimeError(f"Chromium sent nothing for {TIMEOUT}s or exited; its log:\n"
                                   + open(self.log_path, errors="replace").read()[-2000:])
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method, params=None, session=False):
        """Send one command and return its result (events that arrive meanwhile are kept)."""
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self.session
        os.write(self.to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.time() + TIMEOUT
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method} failed: {reply['error']}")
                return reply["result"]
            self.events.append(reply)

    def wait_event(self, method):
        deadline = time.time() + TIMEOUT
        while True:
            for event in self.events:
                if event.get("method") == method:
                    self.events.remove(event)
                    return event
            self.events.append(self._read_message(deadline))

    def open(self, url):
        self.send("Page.navigate", {"url": url}, session=True)
        self.wait_event("Page.loadEventFired")

    def evaluate(self, expression):
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True},
                           session=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def click(self, element_id):
        """A real left click at the centre of the element with this id."""
        box = self.evaluate(f"(() => {{ const e = document.getElementById({element_id!r});"
                            "e.scrollIntoView({block: 'center'});"
                            "const r = e.getBoundingClientRect();"
                            "return [r.x + r.width / 2, r.y + r.height / 2]; })()")
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", {"type": kind, "x": box[0], "y": box[1],
                                                   "button": "left", "clickCount": 1},
                      session=True)

    def press(self, key):
        for kind in ("keyDown", "keyUp"):
            self.send("Input.dispatchKeyEvent", {"type": kind, "key": key, "text": key},
                      session=True)

    def close(self):
        try:
            self.send("Browser.close")
            self.process.wait(timeout=10)
        except Exception:
            self.process.kill()  # only the browser this test started
            self.process.wait()
        os.close(self.to_browser)
        os.close(self.from_browser)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    binary = find_chromium()
    if binary is None:
        reason = ("no Chromium found (install it: apt-get install -y chromium; or set "
                  "MINIGAN_CHROMIUM to the browser's path)")
        if os.environ.get("MINIGAN_REQUIRE_BROWSER") == "1":
            pytest.fail(reason + "; MINIGAN_REQUIRE_BROWSER=1 forbids skipping")
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("chromium")
    instance = Browser(binary, folder / "profile", folder / "chromium.log")
    yield instance
    instance.close()


N = 6  # trials of each kind


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


def wait_for(browser, expression):
    deadline = time.time() + TIMEOUT
    while not browser.evaluate(expression):
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {expression}")
        time.sleep(0.02)


def test_clicked_answers_give_the_score_and_p_value(browser, page):
    url, truths = page
    browser.open(url)
    assert browser.evaluate("document.getElementById('result').hidden") is True
    other = {"real": "refined", "refined": "real"}
    chosen = [truth if i % 4 else other[truth] for i, truth in enumerate(truths)]  # 3 of 4 right
    for i, choice in enumerate(chosen):
        assert browser.evaluate("document.getElementById('progress').textContent") == \
            f"Image {i + 1} of {2 * N}"
        browser.click(f"answer-{choice}")
        if i + 1 < len(chosen):
            wait_for(browser, f"document.getElementById('progress').textContent"
                              f" === 'Image {i + 2} of {2 * N}'")
    wait_for(browser, "!document.getElementById('result').hidden")

    correct = sum(c == t for c, t in zip(chosen, truths))
    result = browser.evaluate("Object.assign({}, document.getElementById('result').dataset)")
    assert int(result["correct"]) == correct == 9 and int(result["total"]) == 2 * N
    assert float(result["pValue"]) == pytest.approx(binomial_p_value(correct, 2 * N), rel=1e-9)
    score = browser.evaluate("document.getElementById('score').textContent")
    assert f"{correct} times out of {2 * N}" in score and "p = 0.073" in score
    cells = browser.evaluate("['real-real', 'real-refined', 'refined-real', 'refined-refined']"
                             ".map(id => +document.getElementById(id).textContent)")
    expected = [sum(t == a and c == b for c, t in zip(chosen, truths))
                for a in ("real", "refined") for b in ("real", "refined")]
    assert cells == expected and sum(cells) == 2 * N


def test_keys_r_and_f_answer_too(browser, page):
    url, truths = page
    browser.open(url)
    for truth in truths:
        browser.press("r" if truth == "real" else "f")
    wait_for(browser, "!document.getElementById('result').hidden")
    assert browser.evaluate("+document.getElementById('result').dataset.correct") == 2 * N


def test_every_image_is_embedded_and_decodes(browser, page):
    url, _ = page
    browser.open(url)
    images = browser.evaluate("Array.from(document.images).map(i => [i.src.slice(0, 22), "
                              "i.complete && i.naturalWidth])")
    assert len(images) == 1 + 2 * 2  # the image under test + 2 examples of each kind
    assert all(src == "data:image/png;base64," and width == 55 for src, width in images)
