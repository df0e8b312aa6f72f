"""A training run as a user starts it: a new run in a new folder, or the run in a folder resumed.

    with RunFolder("runs/eyes").claim(resume=False):      # this process's alone from here
        plan = new_run(TrainConfig.cpu_preset(), "runs/eyes")   # refuses a folder with a run
        train_run(plan)                                     # loads the data, then trains
    with RunFolder("runs/eyes").claim(resume=True):
        plan = resumed_run("runs/eyes", {"steps": 600})     # that run's config, changed

The plan is made while the folder is held, so what it read (the checkpoint, config.json) is
what the run continues. A run folder may be resumed whenever it holds a ``config.json``: from
``checkpoints/last.npz`` when there is one, or from the beginning when the run was stopped
before writing it (its run id is kept, its log restarts, and since nothing was trained yet any
setting may change, a smaller batch after running out of memory included). Either way the
result is the run that was never interrupted (see ``simgan.trainer``).
"""
import contextlib
import dataclasses
import errno
import itertools
import os
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Union

from minigan.io.folders import FolderInUse
from minigan.io.progress import format_seconds
from minigan.pipelines.training_data import load_training_data
from minigan.simgan.checkpoint import PHASES, read_checkpoint
from minigan.simgan.config import TrainConfig
from minigan.simgan.run_folder import RunFolder
from minigan.simgan.trainer import train

RUN_FIELDS = frozenset(f.name for f in dataclasses.fields(TrainConfig))


@dataclass
class RunPlan:
    """What to train and where: ``done`` holds the checkpoint's step counters (None: none)."""

    config: TrainConfig
    out: str
    resume: bool = False
    run_id: Optional[str] = None
    done: Optional[dict] = None

    @property
    def totals(self):
        cfg = self.config
        return dict(zip(PHASES, (cfg.pretrain_refiner_steps, cfg.pretrain_discriminator_steps,
                                 cfg.steps)))

    @property
    def complete(self):
        """True when the checkpoint already holds every step the config asks for."""
        return self.done is not None and all(self.done[p] >= n for p, n in self.totals.items())


@contextlib.contextmanager
def claim_new_run_folder(base):
    """Hold the first of ``base``, ``base-2``, ``base-3``, ... that is free (a folder another
    process makes or holds meanwhile is passed over); yields its path (as ``base`` is
    spelled)."""
    for number in itertools.count(1):
        path = base if number == 1 else f"{base}-{number}"
        if os.path.lexists(path):
            continue
        try:
            claim = RunFolder(path).claim(resume=False)
        except (FileExistsError, FolderInUse):
            continue
        with claim:
            yield path
        return


def new_run(config: TrainConfig, out: Union[str, os.PathLike]) -> RunPlan:
    """A run that starts from scratch in ``out``; FileExistsError when it holds a run."""
    if RunFolder(out).holds_run():
        raise FileExistsError(errno.EEXIST, "already holds a run (resume it, or start the new "
                                            "one in another folder)", os.fspath(out))
    return RunPlan(config, os.fspath(out))


def resumed_run(out: Union[str, os.PathLike], changes: Dict[str, Any]) -> RunPlan:
    """The run in folder ``out`` with ``changes`` to its config (only ``RESUMABLE`` fields
    when it has a checkpoint); FileNotFoundError when there is no run to resume, ValueError
    naming the file when its checkpoint or config.json is not a run's."""
    folder = RunFolder(out)
    if not os.path.isdir(folder.path):
        raise FileNotFoundError(errno.ENOENT, "no such run folder", folder.path)
    if os.path.lexists(folder.last_checkpoint):
        meta = read_checkpoint(folder.last_checkpoint)[0]
        saved = TrainConfig.from_dict(meta["config"]).resumed_with(**changes)
        run_id, done = meta["run_id"], {p: meta["counters"][p] for p in PHASES}
    else:
        written = folder.read_config()
        if written is None:
            raise FileNotFoundError(errno.ENOENT, "the folder holds no run (neither "
                                    "checkpoints/last.npz nor config.json)", folder.path)
        missing = sorted(RUN_FIELDS - set(written))
        if missing:
            raise ValueError(f"{folder.config_path} is not a minigan run's config: it lacks "
                             f"{', '.join(missing[:4])}{', ...' if len(missing) > 4 else ''}")
        try:
            saved = TrainConfig.from_dict({k: v for k, v in written.items() if k in RUN_FIELDS})
        except ValueError as error:
            raise ValueError(f"{folder.config_path}: {error}") from None
        saved = saved.replace(**changes)  # nothing trained yet: every setting may change
        run_id, done = written.get("run_id"), None
        if run_id is not None and not isinstance(run_id, str):
            raise ValueError(f"{folder.config_path}: run_id must be a string, got {run_id!r}")
    return RunPlan(saved, folder.path, True, run_id, done)


def train_run(plan: RunPlan, skip_bad: bool = False, progress: Optional[bool] = True,
              status_every: float = 30.0, log: Optional[Callable[[str], None]] = None) -> str:
    """Load the data ``plan.config`` names and train (or go on training) into ``plan.out``.

    ``log``: a callable told what is loaded and which bad files were skipped.
    """
    log = log or (lambda message: None)
    cfg = plan.config
    with RunFolder(plan.out).claim(plan.resume):
        log(f"loading data: {cfg.synthetic} ({cfg.n_synthetic}) and {cfg.real} ({cfg.n_real})")
        synthetic, real = load_training_data(cfg, skip_bad=skip_bad)
        for name, data in (("synthetic", synthetic), ("real", real)):
            for error in getattr(data, "skipped", []):
                log(f"skipped a bad {name} file: {error}")
        return train(plan.config, synthetic, real, plan.out, progress=progress,
                     resume=plan.resume, status_every=status_every, run_id=plan.run_id)


def format_summary(out: Union[str, os.PathLike], wall_s: Optional[float] = None,
                   last: int = 50) -> str:
    """What a finished run hands the user: averages of its last iterations, time, file paths."""
    summary = RunFolder(out).summary(last=last)
    lines = [f"done: {out}"]
    if summary["means"]:
        figures = ", ".join(f"{key} {value:.3g}" for key, value in summary["means"].items())
        lines.append(f"  mean of the last {summary['iterations_averaged']} iterations: {figures}")
    times = []
    if wall_s is not None:
        times.append(f"{format_seconds(wall_s)} in this session")
    if summary["elapsed_s"] is not None:
        times.append(f"{format_seconds(summary['elapsed_s'])} of training steps in all")
    if times:
        lines.append(f"  time: {', '.join(times)}")
    lines.append(f"  samples: {summary['grid']}")
    lines.append(f"  loss curve: {summary['loss_curve']}")
    snapshots = summary["snapshots"]
    lines.append(f"  checkpoint: {summary['checkpoint']}"
                 + (f" (and {len(snapshots)} earlier: {os.path.dirname(snapshots[0])}/"
                    "iteration_*.npz)" if snapshots else ""))
    return "\n".join(lines)
