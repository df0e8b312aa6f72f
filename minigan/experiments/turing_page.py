"""The paper's "visual Turing test" (section 3.1, Table 1) as one self-contained HTML page.

A person sees ``n`` real(-style) and ``n`` refined images, one at a time in a random order, and
answers "real" or "refined" for each; labelled examples of both kinds stay on screen the whole
time (the paper showed 20). At the end the page reports the accuracy, the confusion matrix in
the form of Table 1, and the one-sided exact binomial p-value of the number correct against
chance (H0: P(correct) = 1/2; the paper: 517 of 1000, p = 0.148), computed in JavaScript: the
same number as ``scipy.stats.binomtest(k, n, 0.5, "greater").pvalue``, which the browser test
holds it to.

Everything is inside the file: the images as base64 PNG data URIs, the true answers as JSON
(so the page needs no server; a participant who reads the source can cheat, which is fine for
a teaching tool), and the script. Nothing is fetched from the network.
"""
import base64
import html
import io
import json
from typing import Optional, Tuple

import numpy as np

from minigan.io.png import to_uint8
from minigan.simgan.models import Refiner

DISPLAY_SCALE = 6      # CSS pixels per image pixel for the image under test
EXAMPLE_SCALE = 2      # ... for the labelled examples


def png_data_uri(image):
    """One ``(1, H, W)`` or ``(H, W)`` image in [-1, 1] -> ``'data:image/png;base64,...'``."""
    from PIL import Image
    buffer = io.BytesIO()
    Image.fromarray(to_uint8(np.asarray(image).reshape(1, *np.shape(image)[-2:]))[0]).save(
        buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def make_turing_page(real: np.ndarray, refined: np.ndarray, n: int, seed: int = 0,
                     examples: int = 10, title: str = "Real or refined?") -> str:
    """Build the page; returns the HTML text.

    ``real``, ``refined``: ``(M, 1, H, W)`` in [-1, 1] with ``M >= n + examples``. The trials
    are ``n`` images of each, drawn without replacement by ``numpy.random.default_rng(seed)``
    and shuffled together; ``examples`` further images of each are the labelled examples.
    """
    real, refined = np.asarray(real), np.asarray(refined)
    if n < 1 or examples < 0:
        raise ValueError(f"make_turing_page: need n >= 1 and examples >= 0, got n={n}, "
                         f"examples={examples}")
    for name, images in (("real", real), ("refined", refined)):
        if images.ndim != 4 or images.shape[1] != 1:
            raise ValueError(f"make_turing_page: {name} images must be (M, 1, H, W), got "
                             f"shape {images.shape}")
        if len(images) < n + examples:
            raise ValueError(f"make_turing_page: {len(images)} {name} images are too few for "
                             f"n={n} trials plus {examples} examples")
    rng = np.random.default_rng(seed)
    picks = {name: rng.permutation(len(images))[:n + examples]
             for name, images in (("real", real), ("refined", refined))}
    trials = [{"truth": name, "src": png_data_uri(images[i])}
              for name, images in (("real", real), ("refined", refined)) for i in picks[name][:n]]
    trials = [trials[i] for i in rng.permutation(len(trials))]
    shown = {name: [png_data_uri(images[i]) for i in picks[name][n:]]
             for name, images in (("real", real), ("refined", refined))}

    height, width = real.shape[2:]
    replacements = {
        "__TITLE__": html.escape(title),
        "__COUNT__": str(2 * n),
        "__N__": str(n),
        "__EXAMPLES_REAL__": _example_row(shown["real"], "real"),
        "__EXAMPLES_REFINED__": _example_row(shown["refined"], "refined"),
        "__BIG_W__": str(width * DISPLAY_SCALE),
        "__BIG_H__": str(height * DISPLAY_SCALE),
        "__SMALL_W__": str(width * EXAMPLE_SCALE),
        # "</" would end the <script> element early; JSON allows "<\/" for it.
        "__TRIALS_JSON__": json.dumps(trials).replace("</", "<\\/"),
    }
    page = _TEMPLATE
    for key, value in replacements.items():
        page = page.replace(key, value)
    return page


def load_turing_images(refined: str, real: str, count: int, seed: int = 0,
                       refiner: Optional[Refiner] = None, device: Optional[str] = None,
                       skip_bad: bool = False) -> Tuple[np.ndarray, np.ndarray]:
    """``(refined_images, real_images)``, ``count`` of each, from two data source specs
    (``minigan.data.sources``: ``builtin:photo``, ``folder:DIR``, ``mpiigaze:DIR`` ...).

    ``refiner``: when given, the ``refined`` source holds *synthetic* images and they are
    refined here. Built-in sources render from ``seed`` (refined) and ``seed + 1`` (real), so
    the two sets never show the same eye.
    """
    from minigan.data.sources import load_source
    from minigan.experiments.eval_data import refine_all

    refined_images = load_source(refined, n=count, seed=seed, skip_bad=skip_bad).images
    real_images = load_source(real, n=count, seed=seed + 1, skip_bad=skip_bad).images
    if refiner is not None:
        refined_images = refine_all(refiner, refined_images, device=device)
    return refined_images, real_images


def _example_row(uris, kind):
    if not uris:
        return "<p>(none)</p>"
    return "".join(f'<img class="example" src="{uri}" alt="{kind} example">' for uri in uris)


_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>__TITLE__</title>
<style>
  body { font-family: sans-serif; max-width: 60em; margin: 1em auto; color: #222; }
  img { image-rendering: pixelated; }
  img.example { width: __SMALL_W__px; margin: 2px; }
  #subject { width: __BIG_W__px; height: __BIG_H__px; display: block; margin: 1em 0; }
  button { font-size: 1.2em; padding: 0.4em 1.5em; margin-right: 1em; }
  table { border-collapse: collapse; margin: 1em 0; }
  td, th { border: 1px solid #999; padding: 0.3em 0.8em; text-align: right; }
  .examples { display: flex; gap: 2em; }
  textarea { width: 100%; height: 6em; }
</style>
</head>
<body>
<h1>__TITLE__</h1>
<p>You will see __COUNT__ eye images, one at a time: __N__ real images and __N__ refined
synthetic images, in a random order. For each, click <b>Real</b> or <b>Refined</b> (keys R and F).
Labelled examples of both kinds stay below while you work.</p>
<div id="trial">
  <p id="progress"></p>
  <img id="subject" alt="image to classify">
  <button id="answer-real" type="button">Real</button>
  <button id="answer-refined" type="button">Refined</button>
</div>
<div id="result" hidden>
  <h2>Your result</h2>
  <p id="score"></p>
  <table>
    <tr><th></th><th>Selected as real</th><th>Selected as refined</th></tr>
    <tr><th>Ground truth real</th><td id="real-real"></td><td id="real-refined"></td></tr>
    <tr><th>Ground truth refined</th><td id="refined-real"></td><td id="refined-refined"></td></tr>
  </table>
  <p>Your answers (copy them to pool several people's results):</p>
  <textarea id="answers" readonly></textarea>
</div>
<h2>Examples</h2>
<div class="examples">
  <div><h3>Real</h3>__EXAMPLES_REAL__</div>
  <div><h3>Refined</h3>__EXAMPLES_REFINED__</div>
</div>
<script>
"use strict";
const TRIALS = __TRIALS_JSON__;
const answers = [];

// P(X >= k) for X ~ Binomial(n, 1/2): the chance of k or more correct by guessing.
function binomialPValueGreater(k, n) {
  const logFactorial = [0];
  for (let i = 1; i <= n; i++) logFactorial.push(logFactorial[i - 1] + Math.log(i));
  let total = 0;
  for (let i = k; i <= n; i++) {
    total += Math.exp(logFactorial[n] - logFactorial[i] - logFactorial[n - i] + n * Math.log(0.5));
  }
  return Math.min(1, total);
}

function formatP(p) {
  return p < 0.001 ? p.toExponential(2) : p.toFixed(3);
}

function showTrial() {
  const i = answers.length;
  document.getElementById("progress").textContent = "Image " + (i + 1) + " of " + TRIALS.length;
  document.getElementById("subject").src = TRIALS[i].src;
}

function showResult() {
  const counts = {"real-real": 0, "real-refined": 0, "refined-real": 0, "refined-refined": 0};
  let correct = 0;
  TRIALS.forEach(function (trial, i) {
    counts[trial.truth + "-" + answers[i]] += 1;
    if (trial.truth === answers[i]) correct += 1;
  });
  const total = TRIALS.length;
  const p = binomialPValueGreater(correct, total);
  for (const key in counts) document.getElementById(key).textContent = counts[key];
  const result = document.getElementById("result");
  result.dataset.correct = correct;
  result.dataset.total = total;
  result.dataset.pValue = p;
  document.getElementById("score").textContent =
    "You chose the correct label " + correct + " times out of " + total + " (" +
    (100 * correct / total).toFixed(1) + "%; chance is 50%). One-sided binomial test " +
    "against guessing: p = " + formatP(p) + ".";
  document.getElementById("answers").value = JSON.stringify(
    {correct: correct, total: total, p_value: p, answers: answers,
     truth: TRIALS.map(function (t) { return t.truth; })});
  document.getElementById("trial").hidden = true;
  result.hidden = false;
}

function answer(choice) {
  if (answers.length >= TRIALS.length) return;
  answers.push(choice);
  if (answers.length < TRIALS.length) showTrial(); else showResult();
}

["real", "refined"].forEach(function (choice) {
  document.getElementById("answer-" + choice).addEventListener("click", function () {
    answer(choice);
  });
});
document.addEventListener("keydown", function (event) {
  if (event.key === "r" || event.key === "R") answer("real");
  if (event.key === "f" || event.key === "F") answer("refined");
});
showTrial();
</script>
</body>
</html>
"""
