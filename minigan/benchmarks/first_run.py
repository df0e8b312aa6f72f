"""The short summary that ends ``.ci/gpu_first_run.sh``: what each stage of a first GPU run
gave, read back from the files the stages left in one folder, in a few thousand characters
(only the end of a remote run's output may come back).

    stages.tsv      stage, exit code, seconds, time cap (written by the script)
    probe.json      python -m minigan.gpu_probe --json
    tests.log       pytest -m gpu (-m emulator on the emulator)
    bench.json      python -m minigan.bench --json
    run/log.jsonl   the training run's log (images/s per step)
    eval/table.md   evaluate_gaze's table

``summarize(folder, device)`` returns the text (``device``: ``"cuda"``, or ``"emulator"`` for
the rehearsal on minigan's CPU emulator, whose timings are meaningless and whose probe reads
"needs a real GPU" for the facts only a GPU has); a missing or broken file gives a line saying
so.
"""
import json
import os
import re
import statistics

from minigan.benchmarks.gpu import format_summary
from minigan.benchmarks.probe import NEEDS_GPU

HOT = ("conv2d_forward<float", "conv2d_backward_input<float", "conv2d_backward_weight<float")
MARKERS = {"cuda": "gpu", "emulator": "emulator"}   # the pytest marker of each device's tests


def _read_json(path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def _section(title, fn, *args):
    try:
        body = fn(*args)
    except FileNotFoundError as error:
        body = f"(missing: {error.filename})"
    except Exception as error:   # a summary reports what it can
        body = f"(could not read: {type(error).__name__}: {error})"
    return f"== {title}\n{body}"


def stages(folder):
    lines = [f"{'stage':8} {'exit':>4} {'seconds':>8} {'cap':>5}"]
    with open(os.path.join(folder, "stages.tsv"), encoding="utf-8") as handle:
        for row in handle:
            name, code, seconds, cap = row.rstrip("\n").split("\t")
            note = "  TIMED OUT" if code in ("124", "137") else ("" if code == "0" else "  FAILED")
            lines.append(f"{name:8} {code:>4} {seconds:>8} {cap:>5}{note}")
    return "\n".join(lines)


def _rounded(facts):
    """A probe's dict of numbers with 3 significant digits (an error or a skip as it is)."""
    if not isinstance(facts, dict):
        return facts
    return {k: float(f"{v:.3g}") if isinstance(v, float) else v for k, v in facts.items()}


def _versions(facts):
    if not isinstance(facts, dict):
        return f"versions: {facts}"
    known = {k: v for k, v in facts.items() if v != NEEDS_GPU}
    line = f"versions: {_rounded(known)}"
    unknown = [k for k, v in facts.items() if v == NEEDS_GPU]
    return line + (f"; {NEEDS_GPU}: {', '.join(unknown)}" if unknown else "")


def probe(folder):
    facts = _read_json(os.path.join(folder, "probe.json"))
    lines = [_versions(facts.get("versions"))]
    builds = facts.get("kernel_builds", {})
    if "error" in builds:
        lines.append(f"kernel builds: FAILED {builds['error']}")
        builds = {}
    elif "skipped" in builds:
        lines.append(f"kernel builds: {builds['skipped']}")
        builds = {}
    for source, entry in builds.items():
        lines.append(f"compile {source}.cu: {entry['compile_s']:.1f} s")
        for kernel, k in entry["kernels"].items():
            planned, driver = k["blocks_per_sm_plan"], k["blocks_per_sm_driver"]
            if kernel.startswith(HOT) or planned != driver or k["local_bytes"]:
                flag = "" if planned == driver else "  PLAN != DRIVER"
                lines.append(f"  {kernel:46} regs {k['registers']!s:>4} local "
                             f"{k['local_bytes']!s:>4} blocks/SM {planned} (driver {driver}){flag}")
    lines.append(f"launch overhead: {_rounded(facts.get('launch_overhead'))}")
    lines.append(f"bandwidth: {_rounded(facts.get('bandwidth'))}")
    convs = facts.get("convs_vs_reference", {})
    if "layers" in convs:
        lines.append(f"conv passes at batch {convs['batch']}, relative L2 error vs "
                     f"{convs['reference']}: worst fp32 / worst tf32 per layer")
        for layer, passes in convs["layers"].items():
            fp32 = max(e["fp32"] for e in passes.values())
            tf32 = max(e["tf32"] for e in passes.values())
            lines.append(f"  {layer:8} {fp32:.1e} / {tf32:.1e}")
    else:
        lines.append(f"conv passes: {convs}")
    return "\n".join(lines)


def tests(folder):
    with open(os.path.join(folder, "tests.log"), encoding="utf-8", errors="replace") as handle:
        text = handle.read().splitlines()
    failed = [line for line in text if line.startswith(("FAILED", "ERROR"))]
    final = [line for line in text if re.search(r"\b(passed|failed|error)\b.* in [\d.]+s", line)]
    lines = failed[:25] + ([f"... and {len(failed) - 25} more"] if len(failed) > 25 else [])
    return "\n".join(lines + final[-1:]) if final or failed else "\n".join(text[-5:])


def bench(folder):
    report = _read_json(os.path.join(folder, "bench.json"))
    lines = [f"{report['device_name']}, batch {report['batch']}"]
    if report.get("gpu_summary"):
        lines.append(format_summary(report["gpu_summary"]))
    else:
        lines.append(_rows_in_brief(report))
    lines += [f"note: {note}" for note in report.get("notes", [])]
    return "\n".join(lines)


def _rows_in_brief(report):
    """What a benchmark without the GPU summary timed: rows per implementation, the iteration."""
    rows = report.get("rows", [])
    counts = {}
    for row in rows:
        counts[row["impl"]] = counts.get(row["impl"], 0) + 1
    layers = len({row["layer"] for row in rows})
    timed = ", ".join(f"{impl} {n}" for impl, n in counts.items()) or "none"
    lines = [f"rows timed over {layers} layers: {timed}"]
    iteration = ", ".join(f"{r['impl']} {r['ms']:.1f} ms" for r in report.get("iteration", []))
    lines.append(f"whole SimGAN iteration: {iteration or 'not timed'}")
    return "\n".join(lines)


def train(folder):
    with open(os.path.join(folder, "run", "log.jsonl"), encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle if line.strip()]
    lines = []
    for phase in ("pretrain_refiner", "pretrain_discriminator", "adversarial"):
        rows = [r for r in records if r.get("phase") == phase]
        if not rows:
            continue
        rates = [r["images_per_s"] for r in rows[len(rows) // 10:]]   # past the warm-up
        last = rows[-1]
        losses = {k: round(v, 3) for k, v in last.items()
                  if isinstance(v, float) and k not in ("images_per_s", "elapsed_s")}
        lines.append(f"{phase}: {len(rows)} steps, median {statistics.median(rates):.0f} "
                     f"images/s; last {losses}")
    if records:
        lines.append(f"elapsed in steps: {records[-1].get('elapsed_s')} s")
    return "\n".join(lines)


def evaluation(folder):
    with open(os.path.join(folder, "eval", "table.md"), encoding="utf-8") as handle:
        return handle.read().strip()


def summarize(folder, device="cuda"):
    """The first run's summary on ``device``: stages, probe, tests, benchmark, training,
    evaluation."""
    on = "a GPU (cuda)" if device == "cuda" else f"the {device} (timings meaningless)"
    parts = [f"first run on {on}", _section("stages", stages, folder),
             _section("probe", probe, folder),
             _section(f"tests (pytest -m {MARKERS.get(device, device)})", tests, folder),
             _section("benchmark", bench, folder), _section("training", train, folder),
             _section("evaluation", evaluation, folder)]
    return "\n".join(parts) + "\n"
