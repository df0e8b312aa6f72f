"""Learning-rate schedules, as ``torch.optim.lr_scheduler``: call ``scheduler.step()`` once
per epoch (or iteration), after ``optimizer.step()``; it sets ``group["lr"]`` in every
parameter group of the optimizer. With base_lr each group's lr when the scheduler was made and
e = ``last_epoch`` (0 after construction, +1 per ``step()``):

    StepLR:             lr = base_lr * gamma ** (e // step_size)
    CosineAnnealingLR:  lr = eta_min + (base_lr - eta_min) (1 + cos(pi e / T_max)) / 2

Both are computed as PyTorch does, from the current lr step by step (so they follow a lr set
by hand, and match PyTorch's values to the last bit of float64).
"""
import math
from typing import Dict, List

import numpy as np

from minigan.autograd.torch_names import missing_attribute
from minigan.optim.optimizer import Optimizer


class LRScheduler:
    """The base class: ``step()``, ``get_last_lr()``, ``state_dict()``/``load_state_dict()``."""

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        for i, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise KeyError(f"param 'initial_lr' is not specified in param_groups[{i}] when "
                               "resuming a scheduler with last_epoch >= 0")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self._initial = True
        self.step()
        self._initial = False

    def step(self) -> None:
        self._step_count += 1
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_lr(self) -> List[float]:
        raise NotImplementedError

    def get_last_lr(self) -> List[float]:
        """The learning rate of each group after the last ``step()``."""
        return list(self._last_lr)

    def state_dict(self) -> Dict[str, np.ndarray]:
        """``{"last_epoch", "step_count", "base_lrs", "last_lr"}`` as NumPy arrays."""
        return {"last_epoch": np.asarray(self.last_epoch),
                "step_count": np.asarray(self._step_count),
                "base_lrs": np.asarray(self.base_lrs, dtype=np.float64),
                "last_lr": np.asarray(self._last_lr, dtype=np.float64)}

    def load_state_dict(self, state: Dict[str, np.ndarray]) -> None:
        missing = sorted({"last_epoch", "step_count", "base_lrs", "last_lr"} - set(state))
        if missing:
            raise KeyError(f"{type(self).__name__}.load_state_dict: missing keys {missing}")
        if len(state["base_lrs"]) != len(self.optimizer.param_groups):
            raise ValueError(f"{type(self).__name__}.load_state_dict: the state has "
                             f"{len(state['base_lrs'])} groups, the optimizer "
                             f"{len(self.optimizer.param_groups)}")
        self.last_epoch, self._step_count = int(state["last_epoch"]), int(state["step_count"])
        self.base_lrs = [float(lr) for lr in state["base_lrs"]]
        self._last_lr = [float(lr) for lr in state["last_lr"]]

    def _lrs(self):
        return [group["lr"] for group in self.optimizer.param_groups]

    def __getattr__(self, name):
        raise missing_attribute("minigan.optim.lr_scheduler", f"'{type(self).__name__}' object",
                                name, dir(type(self)) + list(self.__dict__))


class StepLR(LRScheduler):
    """lr multiplied by ``gamma`` every ``step_size`` epochs."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1):
        if int(step_size) != step_size or step_size < 1:
            raise ValueError(f"StepLR: step_size must be a positive int, got {step_size!r}")
        self.step_size, self.gamma = int(step_size), gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> List[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._lrs()
        return [lr * self.gamma for lr in self._lrs()]


class CosineAnnealingLR(LRScheduler):
    """lr follows half a cosine from base_lr down to ``eta_min`` over ``T_max`` epochs (and
    back up over the next ``T_max``, as in PyTorch)."""

    def __init__(self, optimizer: Optimizer, T_max: int,  # noqa: N803 - PyTorch's name
                 eta_min: float = 0.0, last_epoch: int = -1):
        if T_max < 1:
            raise ValueError(f"CosineAnnealingLR: T_max must be >= 1, got {T_max!r}")
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> List[float]:
        e, t_max, eta_min = self.last_epoch, self.T_max, self.eta_min
        if self._initial:
            return self._lrs()
        if self._step_count == 1 and e > 0:
            return [eta_min + (base - eta_min) * (1 + math.cos(e * math.pi / t_max)) / 2
                    for base in self.base_lrs]
        if (e - 1 - t_max) % (2 * t_max) == 0:
            return [lr + (base - eta_min) * (1 - math.cos(math.pi / t_max)) / 2
                    for lr, base in zip(self._lrs(), self.base_lrs)]
        return [(1 + math.cos(math.pi * e / t_max)) / (1 + math.cos(math.pi * (e - 1) / t_max))
                * (lr - eta_min) + eta_min for lr in self._lrs()]


__all__ = ["LRScheduler", "StepLR", "CosineAnnealingLR"]


def __getattr__(name):
    raise missing_attribute("minigan.optim.lr_scheduler", "module 'minigan.optim.lr_scheduler'",
                            name, __all__)
