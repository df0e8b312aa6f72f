"""Run the gaze study of ``gaze_study_protocol``: SimGAN runs, then one gaze estimator per row,
replicate seed and estimator seed; every finished piece is kept, so a stopped run goes on.

    config = StudyConfig.preset("cpu")
    result = run_study(config, "runs/gaze_study")     # -> summary (gaze_study_report)

Folder ``OUT``:

    protocol.json                      the config (a folder made with another one is refused)
    simgan/<run>/seed_<s>/             SimGAN run folders (resumed from their checkpoints)
    parts/seed_<s>/<row>__est<k>.json  one estimator's test metrics, with what it was computed
                                       from (``io.memo``): read back, not redone
    results.json, table.md, cumulative_error.png, samples.png     written last

Work goes one replicate at a time; a line per finished job gives the job's ETA. Each job
records its wall and CPU seconds, so the report can say what the whole protocol cost.
"""
import errno
import json
import os
import time

import numpy as np

from minigan.backend import resolve_device
from minigan.data.degrade import degrade
from minigan.data.eye_styles import ALL_FACTORS
from minigan.data.eyes import render_eyes
from minigan.data.normalize import normalize
from minigan.experiments import metrics
from minigan.experiments.eval_data import data_seed, refine_all
from minigan.experiments.gaze_estimator import predict_gaze, train_gaze_estimator
from minigan.io.atomic import write_json
from minigan.io.folders import claim_folder
from minigan.io.inputs import open_regular
from minigan.io.memo import checksum, computed_once
from minigan.io.progress import LogLines, Progress
from minigan.pipelines.training_data import load_training_data
from minigan.simgan import load_refiner, train
from minigan.simgan.checkpoint import read_checkpoint
from minigan.simgan.config import TrainConfig
from minigan.simgan.run_folder import RunFolder

SIMGAN_COST = 5.0
STUDY_JOB = "gaze study"
PROTOCOL_FILE = "protocol.json"
CLAIMS_FILES = ("claims_protocol.json", "claims.md", "claims.json")  # a confirmatory run's


def run_name(arm):
    """Folder of an arm's runs: 'simgan', or its config changes ('use_history=False', ...)."""
    parts = [f"{field}={value}" for field, value in arm.changes] + (["authors"] if arm.authors
                                                                     else [])
    return ",".join(parts) or "simgan"


def row_key(arm, iteration):
    """Key of a refined training set: ``<run>.<weights>@<iteration>``."""
    return f"{run_name(arm)}.{arm.weights}@{iteration}"


def arm_iterations(config, arm):
    """The iterations at which an arm is evaluated: SimGAN's curve, an ablation's last one."""
    last = config.simgan_config(arm, 0).steps
    return config.checkpoints if arm.name == "SimGAN" else (last,)


def checkpoint_path(run_dir, iteration, steps):
    """The snapshot of ``iteration`` in a run folder (the last iteration: last.npz)."""
    folder = RunFolder(run_dir)
    return folder.last_checkpoint if iteration == steps else folder.snapshot_path(iteration)


def _check_protocol(out_dir, config):
    """Write ``protocol.json`` or check that the one there is this protocol (ablations, simgan,
    factors and the device may differ: they add rows or move the computation, they change no
    result)."""
    protocol = {k: v for k, v in config.to_dict().items()
                if k not in ("ablations", "simgan", "factors", "device")}
    protocol = json.loads(json.dumps(protocol))
    path = os.path.join(out_dir, PROTOCOL_FILE)
    if os.path.lexists(path):
        try:
            with open_regular(path, "r") as handle:
                found = json.load(handle)
        except (OSError, ValueError):
            found = None
        if found != protocol:
            changed = sorted(k for k in protocol if not isinstance(found, dict)
                             or found.get(k) != protocol[k])
            raise ValueError(f"{out_dir} holds a gaze study with another protocol (it differs in "
                             f"{', '.join(changed) or 'format'}); choose another output folder, "
                             "or the settings it was made with")
    else:
        write_json(path, protocol)


class GazeStudy:
    """One gaze study folder: the jobs of ``config`` and where their results go."""

    def __init__(self, config, out_dir, log=print, progress=False, status_every=60.0):
        self.config, self.out = config, os.fspath(out_dir)
        self.log = log or (lambda message: None)
        self.progress, self.status_every = progress, status_every
        self.device = resolve_device(config.device)
        self.runs = {}          # run name -> arm that trains it (first arm with that config)
        for arm in config.arms():
            self.runs.setdefault(run_name(arm), arm)

    # -- what there is to do -------------------------------------------------------------------
    def arm_seeds(self, arm):
        return self.config.seeds if arm.name == "SimGAN" else self.config.ablation_seeds

    def estimator_count(self, arm=None):
        c = self.config
        return c.estimator_seeds if arm is None or arm.name == "SimGAN" \
            else c.ablation_estimator_seeds

    def jobs(self, seed):
        """``[(row key, arm or None, iteration or None, estimator k)]`` of one replicate."""
        jobs = [(row, None, None, k) for row in self.config.control_rows()
                for k in range(self.config.estimator_seeds)]
        done = set()
        for arm in self.config.arms():
            if seed not in self.arm_seeds(arm):
                continue
            for iteration in arm_iterations(self.config, arm):
                key = row_key(arm, iteration)
                for k in range(self.estimator_count(arm)):
                    if (key, k) not in done:
                        done.add((key, k))
                        jobs.append((key, arm, iteration, k))
        return jobs

    def run_dir(self, name, seed):
        return os.path.join(self.out, "simgan", name, f"seed_{seed}")

    def part_path(self, seed, key, k):
        safe = key.replace("/", "_").replace(" ", "_").replace(":", "-")
        return os.path.join(self.out, "parts", f"seed_{seed}", f"{safe}__est{k}.json")

    def runs_of(self, seed):
        return [name for name, arm in self.runs.items() if seed in self.arm_seeds(arm)]

    def run_finished(self, name, seed):
        arm = self.runs[name]
        steps = self.config.simgan_config(arm, seed).steps
        paths = [checkpoint_path(self.run_dir(name, seed), i, steps)
                 for i in arm_iterations(self.config, arm)]
        return all(os.path.exists(p) for p in paths) and _run_complete(self.run_dir(name, seed))

    # -- doing it ------------------------------------------------------------------------------
    def claim(self):
        """Hold the study folder for this process: new, empty (but for a confirmatory run's
        ``CLAIMS_FILES``), or a study of this protocol."""
        def usable(claim):
            others = [n for n in claim.names() if n not in CLAIMS_FILES]
            if others and not os.path.lexists(os.path.join(claim.path, PROTOCOL_FILE)):
                raise FileExistsError(errno.EEXIST, "holds files that are not a gaze study's "
                                      f"({', '.join(claim.names()[:3])}); nothing was written: "
                                      "choose a new or empty folder", claim.path)
            _check_protocol(claim.path, self.config)
        return claim_folder(self.out, STUDY_JOB, usable)

    def run(self):
        """Do every job not done yet; returns ``{(seed, row key): [metrics per estimator]}`` and
        ``{(seed, row key): pupil shift}`` and the samples of the first replicate."""
        seeds = self.config.seeds
        runs_total = sum(len(self.runs_of(s)) for s in seeds)
        runs_done = sum(self.run_finished(n, s) for s in seeds for n in self.runs_of(s))
        jobs = {s: self.jobs(s) for s in seeds}
        jobs_total = sum(len(j) for j in jobs.values())
        jobs_done = sum(os.path.exists(self.part_path(s, key, k))
                        for s in seeds for key, _, _, k in jobs[s])
        # a run costs about as much as SIMGAN_COST estimators until both kinds have been timed
        self.status = Progress("gaze study", {"SimGAN runs": (runs_total, runs_done, SIMGAN_COST),
                                             "gaze estimators": (jobs_total, jobs_done, 1.0)},
                               bar=False, every_s=0, stream=LogLines(self.log))
        if runs_done or jobs_done:
            self.log(f"{runs_done} of {runs_total} SimGAN runs and {jobs_done} of {jobs_total} "
                     "estimators were finished before: read back, not redone")
        results, shifts, samples = {}, {}, None
        for seed in seeds:
            data = self.replicate_data(seed)
            for name in self.runs_of(seed):
                self.train_run(name, seed)
            sets = {}
            for key, arm, iteration, k in jobs[seed]:
                if key not in sets:
                    sets[key] = self.training_set(data, key, arm, iteration, seed)
                    # the photo row holds other eyes: no pupil to compare
                    shifts[(seed, key)] = (None if key == "photo"
                                           else self.pupil_shift(data, sets[key]))
                value = self.estimator_job(data, sets[key], seed, key, k)
                results.setdefault((seed, key), []).append(value)
            if samples is None:
                samples = self.samples(data, sets)
        self.status.close()
        return results, shifts, samples

    def replicate_data(self, seed):
        """The eyes of replicate ``seed``: training eyes (synthetic, their gaze, photo-style
        ones with the same gaze) and the test set, all normalized for the estimator."""
        c, train_seed, test_seed = self.config, data_seed("train", seed), data_seed("test", seed)
        self.log(f"replicate {seed}: rendering {c.train_n} training eyes in both styles (seed "
                 f"{train_seed}) and {c.test_n} photo test eyes (seed {test_seed})")
        synthetic = render_eyes(c.train_n, "synthetic", seed=train_seed)
        photo = render_eyes(c.train_n, "photo", seed=train_seed)
        if not np.allclose(photo.gaze, synthetic.gaze, atol=1e-6):
            raise RuntimeError("the renderer no longer draws the same gaze in both styles")
        test = render_eyes(c.test_n, "photo", seed=test_seed)
        return {"seed": seed, "synthetic": synthetic.images, "gaze": synthetic.gaze,
                "params": synthetic.params, "train_seed": train_seed,
                "photo": photo.images, "test": normalize(test.images, c.normalization),
                "test_raw": test.images, "test_gaze": test.gaze,
                "degraded": degrade(synthetic.images, seed=data_seed("degrade", seed))}

    def train_run(self, name, seed):
        if self.run_finished(name, seed):
            return
        arm = self.runs[name]
        config = self.config.simgan_config(arm, seed)
        run_dir = self.run_dir(name, seed)
        self.status.start("SimGAN runs")
        self.log(f"replicate {seed}: training SimGAN '{name}' ({config.steps} iterations, "
                 f"K_g = {config.k_g}, K_d = {config.k_d}) in {run_dir}")
        train(config, *load_training_data(config), run_dir, progress=self.progress,
              resume=True, status_every=self.status_every)
        self.status.advance()

    def training_set(self, data, key, arm, iteration, seed):
        """The raw (un-normalized) training images of a row."""
        if arm is None:
            return data[key] if key in data else self.photo_look(data, key)
        config = self.config.simgan_config(arm, seed)
        path = checkpoint_path(self.run_dir(run_name(arm), seed), iteration, config.steps)
        refiner = load_refiner(path, device=self.device, average=arm.weights == "average")
        return refine_all(refiner, data["synthetic"], device=self.device)

    def photo_look(self, data, key):
        """The synthetic eyes (their geometry and labels) drawn in the photo style: all of its
        factors (``perfect``), all but one (``without:X``) or one alone (``only:X``)."""
        kind, _, factor = key.partition(":")
        factors = {"perfect": ALL_FACTORS, "only": (factor,),
                   "without": tuple(f for f in ALL_FACTORS if f != factor)}[kind]
        eyes = render_eyes(len(data["synthetic"]), "photo", seed=data["train_seed"],
                           params=data["params"], factors=factors)
        return eyes.images

    def pupil_shift(self, data, images):
        n = min(self.config.pupil_n, len(images))
        shift = metrics.pupil_shift(data["synthetic"][:n], images[:n])
        return {"mean": float(shift.mean()), "std": float(shift.std())}

    def estimator_job(self, data, images, seed, key, k):
        """Train one estimator on ``images`` (normalized) and test it; read back when done."""
        c = self.config
        x = normalize(images, c.normalization)
        estimator_seed = c.estimator_seed(seed, k)
        memo = {"protocol": {name: value for name, value in c.to_dict().items()
                             if name in ("normalization", "steps", "batch_size", "lr",
                                         "estimator")},
                "train": checksum(x), "gaze": checksum(data["gaze"]),
                "test": checksum(data["test"]), "estimator_seed": estimator_seed}
        path = self.part_path(seed, key, k)
        fresh = not os.path.exists(path)
        if fresh:
            self.status.start("gaze estimators")

        def compute():
            wall, cpu = time.perf_counter(), time.process_time()
            model, _ = train_gaze_estimator(x, data["gaze"], steps=c.steps,
                                            batch_size=c.batch_size, lr=c.lr, preset=c.estimator,
                                            seed=estimator_seed, device=self.device)
            errors = metrics.angular_error(predict_gaze(model, data["test"]), data["test_gaze"])
            _, curve = metrics.cumulative_error_curve(errors)
            return {"mean_error": float(errors.mean()), "median_error": float(np.median(errors)),
                    "percent_within_7": metrics.percent_within(errors, 7.0),
                    "curve": [round(float(p), 3) for p in curve],
                    "seconds": round(time.perf_counter() - wall, 2),
                    "cpu_seconds": round(time.process_time() - cpu, 2)}

        value, reused = computed_once(path, memo, compute)
        if fresh and not reused:
            self.status.advance(figures={"row": key, "seed": seed, "est": k,
                                         "error": value["mean_error"]})
        return value

    def samples(self, data, sets):
        """Eight eyes of each training set of the first replicate, and of the test set."""
        shown = {key: images[:8] for key, images in sets.items()}
        shown["test"] = data["test_raw"][:8]
        return shown


def _run_complete(run_dir):
    """True when the run folder's last checkpoint holds every step its config asks for."""
    path = RunFolder(run_dir).last_checkpoint
    if not os.path.exists(path):
        return False
    try:
        meta = read_checkpoint(path)[0]
    except (OSError, ValueError):
        return False
    config = TrainConfig.from_dict(meta["config"])
    totals = (config.pretrain_refiner_steps, config.pretrain_discriminator_steps, config.steps)
    done = [int(meta["counters"][p]) for p in ("pretrain_refiner", "pretrain_discriminator",
                                               "adversarial")]
    return all(d >= t for d, t in zip(done, totals))
