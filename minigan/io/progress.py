"""Where a long job is: a progress bar per phase, or plain status lines, with one ETA for the job.

    progress = Progress("train", {"pretrain R": (100, 0, 32), "adversarial": (300, 0, 160)})
    progress.start("pretrain R")
    for step in ...:
        progress.advance(figures={"R": 0.52, "img/s": 210})
    progress.close()

Each phase is ``(total steps, steps already done, cost of one step)``; the cost is any unit that
is proportional to a step's time (e.g. images through the networks). The ETA of the whole job
adds, over the phases, the steps left times the seconds per step: measured for a phase that has
run in this process, else its cost times the seconds per unit of cost measured so far.

``bar=True`` draws a tqdm bar per phase (the figures and the job's ETA in its postfix);
``bar=False`` prints a plain line every ``every_s`` seconds and at the end of each phase, so a
log of a run without a terminal still says where it is (``every_s=None``: silent).
"""
import sys
import time


def format_seconds(seconds):
    """``75 -> '1:15'``, ``3725 -> '1:02:05'``; None -> '?'."""
    if seconds is None:
        return "?"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def _figure(value):
    if isinstance(value, float):
        return f"{value:.0f}" if abs(value) >= 1000 else f"{value:.3g}"
    return str(value)


class Progress:
    """Progress of a job made of phases of counted steps (see the module docstring)."""

    def __init__(self, title, phases, bar=True, every_s=30.0, stream=None, clock=time.monotonic):
        self.title, self.bar, self.every_s = title, bar, every_s
        self.stream = stream if stream is not None else sys.stderr
        self.clock = clock
        self.phases = {name: {"total": int(total), "done": int(done), "cost": float(cost),
                              "seconds": 0.0, "timed": 0}
                       for name, (total, done, cost) in phases.items()}
        self.started = self.last_line = self.mark = clock()
        self.current, self._bar = None, None

    # -- what the job reports -----------------------------------------------------------------
    def start(self, name):
        """Begin (or continue) phase ``name``."""
        self._close_bar()
        self.current, self.mark = name, self.clock()
        phase = self.phases[name]
        if self.bar:
            from tqdm import tqdm
            self._bar = tqdm(total=phase["total"], initial=phase["done"], unit="step",
                             dynamic_ncols=True, desc=name, file=self.stream)

    def advance(self, n=1, figures=None):
        """``n`` more steps of the current phase are done; ``figures``: {name: value} to show."""
        now = self.clock()
        phase = self.phases[self.current]
        phase["seconds"] += now - self.mark
        phase["timed"] += n
        phase["done"] += n
        self.mark = now
        figures = dict(figures or {})
        if self._bar is not None:
            self._bar.update(n)
            shown = {key: _figure(value) for key, value in figures.items()}
            shown["ETA"] = format_seconds(self.eta_s())
            self._bar.set_postfix(shown, refresh=False)
        elif self.every_s is not None and (now - self.last_line >= self.every_s
                                           or phase["done"] >= phase["total"]):
            self.write(self.status_line(figures))
            self.last_line = now

    def write(self, message):
        """Print one line without breaking a progress bar."""
        if self._bar is not None:
            self._bar.write(message, file=self.stream)
        else:
            print(message, file=self.stream, flush=True)

    def close(self):
        self._close_bar()

    # -- what the user sees -------------------------------------------------------------------
    def status_line(self, figures=None):
        """``train: adversarial 120/300 (62% of the job) | R 95.3 | elapsed 1:30 | ETA 0:55``."""
        phase = self.phases[self.current]
        parts = [f"{self.title}: {self.current} {phase['done']}/{phase['total']} "
                 f"({100 * self.fraction_done():.0f}% of the job)"]
        if figures:
            parts.append(" ".join(f"{key} {_figure(value)}" for key, value in figures.items()))
        parts.append(f"elapsed {format_seconds(self.clock() - self.started)}")
        parts.append(f"ETA {format_seconds(self.eta_s())}")
        return " | ".join(parts)

    def fraction_done(self):
        """Done / total work, weighting each phase's steps by their cost."""
        total = sum(p["total"] * p["cost"] for p in self.phases.values())
        done = sum(min(p["done"], p["total"]) * p["cost"] for p in self.phases.values())
        return done / total if total else 1.0

    def eta_s(self):
        """Seconds until every phase is done, or None before anything was timed."""
        timed = [p for p in self.phases.values() if p["timed"]]
        units = sum(p["timed"] * p["cost"] for p in timed)
        per_unit = sum(p["seconds"] for p in timed) / units if units else None
        left = 0.0
        for phase in self.phases.values():
            steps = phase["total"] - phase["done"]
            if steps <= 0:
                continue
            if phase["timed"]:
                left += steps * phase["seconds"] / phase["timed"]
            elif per_unit is not None:
                left += steps * phase["cost"] * per_unit
            else:
                return None
        return left

    def _close_bar(self):
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class LogLines:
    """A file-like ``write`` that hands each whole line to ``log`` (a callable), so a
    ``Progress`` can print through a program's own log function."""

    def __init__(self, log):
        self.log = log

    def write(self, text):
        if text.strip():
            self.log(text.rstrip("\n"))

    def flush(self):
        pass
