"""The homeworks: which functions and kernels each task stubs, its marker, points, device and
time limit. Student trees, markers and grades are all generated from this table.

A task's ``stub`` targets are ``path::qualified_name`` relative to the checkout:

* ``minigan/reference/conv_spec.py::im2col`` (or ``Class.method``): a Python function, of the
  library or of a tutorial step (``tutorials/step10_train_a_cnn.py::train_step``); the student
  gets its signature and docstring (the specification) and a body that raises
  ``NotImplementedError`` naming the task;
* ``kernels/maxpool2d.cu::max_pool2d_forward``: a ``__global__ void`` kernel; the student gets
  its signature and a body that returns at once, so its outputs stay unwritten (NaN on the
  emulator).

Every test of a task carries its marker (``@pytest.mark.task2_1``; ``pytest -m task2_1`` runs
them); ``tests/conftest.py`` registers the markers from this table and pytest runs with
``--strict-markers``. ``requires`` names the tasks of the same homework whose code the task's
tests also run (a student tree fails them until those are done too; grading takes them from
the reference, so nothing cascades). ``device`` is where the task's tests run when graded:
``cpu`` (NumPy) or ``emulator`` (the CUDA kernels on the CPU emulator, needing only g++).

Points are earned test by test: each test function of the task (``tests/FILE.py::name``; its
parametrized cases share it equally) has weight 1 unless ``weights`` gives it another, and a
task earns ``points * (weight of the passed cases) / (total weight)``. ``notes`` is text for
HOMEWORK.md that belongs to the task's specification (what its docstrings cannot say). A task's
tests run with ``timeout_s`` of wall-clock time, ``CPU_SECONDS_PER_SECOND * timeout_s`` of CPU
time per process, ``memory_mb`` of address space and files of at most ``file_mb``.
"""
from typing import NamedTuple, Tuple

DEVICES = ("cpu", "emulator")
CPU_SECONDS_PER_SECOND = 4   # a process may compute on 4 cores for the whole time limit


class Task(NamedTuple):
    id: str                   # "2.1": homework 2, task 1
    title: str
    points: int
    device: str               # "cpu" | "emulator"
    timeout_s: int            # time limit of the task's tests when graded
    stub: Tuple[str, ...]     # "path::qualified_name" of every function or kernel to write
    requires: Tuple[str, ...] = ()
    weights: Tuple[Tuple[str, float], ...] = ()   # ("tests/FILE.py::test_name", weight)
    notes: str = ""
    memory_mb: int = 4096
    file_mb: int = 256

    @property
    def cpu_s(self):
        return CPU_SECONDS_PER_SECOND * self.timeout_s

    def weight(self, test_function):
        """The weight of ``test_function`` (``tests/FILE.py::name``) in this task's points."""
        return dict(self.weights).get(test_function, 1.0)

    @property
    def homework(self):
        return int(self.id.split(".")[0])

    @property
    def marker(self):
        return "task" + self.id.replace(".", "_")


class Homework(NamedTuple):
    number: int
    title: str
    steps: Tuple[int, ...]    # the tutorial steps that teach it (tutorials/stepNN_*.py)
    tasks: Tuple[Task, ...]

    @property
    def points(self):
        return sum(task.points for task in self.tasks)


TENSOR = "minigan/autograd/tensor.py::"
ELEMENTWISE = "minigan/functional/elementwise.py::"
REDUCE = "minigan/functional/reduce.py::"
SHAPE = "minigan/functional/shape.py::"
CONV = "minigan/reference/conv_spec.py::"
POOL = "minigan/reference/pool_spec.py::"
XENT = "minigan/reference/xent_spec.py::"
MODULE = "minigan/nn/module.py::"
STEP10 = "tutorials/step10_train_a_cnn.py::"
LOSSES = "minigan/simgan/losses.py::"
TRAINER = "minigan/simgan/trainer.py::"
METRICS = "minigan/experiments/metrics.py::"


def _backwards(prefix, *classes):
    return tuple(f"{prefix}{name}.backward" for name in classes)


HOMEWORKS = (
    Homework(1, "The engine (autograd)", (1, 2, 3, 4), (
        Task("1.1", "the graph: topological order and Tensor.backward", 25, "cpu", 120,
             (TENSOR + "_topological_order", TENSOR + "Tensor.backward")),
        Task("1.2", "sum_to (broadcasting undone) and the binary backwards", 20, "cpu", 120,
             (ELEMENTWISE + "sum_to",) + _backwards(ELEMENTWISE, "Add", "Sub", "Mul", "Div",
                                                     "Pow"), requires=("1.1",)),
        Task("1.3", "the unary backwards", 15, "cpu", 120,
             _backwards(ELEMENTWISE, "Neg", "Exp", "Log", "Sqrt", "Tanh", "Sigmoid",
                        "LeakyReLU", "Abs", "Clamp"), requires=("1.1",)),
        Task("1.4", "the reduction and shape backwards", 25, "cpu", 120,
             _backwards(REDUCE, "Sum", "Mean", "Amax", "MaxAlongDim")
             + _backwards(SHAPE, "Reshape", "Permute", "BroadcastTo", "Cat", "GetItem", "Clone"),
             requires=("1.1", "1.2")),
        Task("1.5", "the matrix product's backward", 15, "cpu", 120,
             _backwards("minigan/functional/linalg.py::", "MatMul"), requires=("1.1", "1.2")),
    )),
    Homework(2, "Convolution, pooling and the loss on the CPU", (5, 6, 7, 8), (
        Task("2.1", "im2col and the convolution forward pass", 20, "cpu", 120,
             (CONV + "im2col", CONV + "conv2d_forward")),
        Task("2.2", "the convolution backward passes (col2im, the adjoint)", 25, "cpu", 120,
             (CONV + "col2im", CONV + "conv2d_backward_input", CONV + "conv2d_backward_weight",
              CONV + "conv2d_backward_bias"), requires=("2.1",)),
        Task("2.3", "max-pooling with an argmax, forward and backward", 20, "cpu", 120,
             (POOL + "max_pool2d_forward", POOL + "max_pool2d_backward")),
        Task("2.4", "the stable patch-wise softmax cross-entropy and its gradient", 15, "cpu",
             120, (XENT + "patch_cross_entropy_forward",)),
        Task("2.5", "the autograd Functions' backwards: conv2d, max_pool2d, the patch loss", 20,
             "cpu", 120, ("minigan/functional/conv.py::Conv2d.backward",
                          "minigan/functional/pool.py::MaxPool2d.backward",
                          "minigan/functional/loss.py::PatchCrossEntropy.backward"),
             requires=("2.1", "2.2", "2.3", "2.4")),
    )),
    Homework(3, "Training (modules, SGD, Adam)", (9, 10), (
        Task("3.1", "Module: registering parameters and sub-modules, the state dict", 35,
             "cpu", 120, (MODULE + "Module.__setattr__", MODULE + "Module.named_parameters",
                          MODULE + "Module._named_state", MODULE + "Module.state_dict",
                          MODULE + "Module.load_state_dict")),
        Task("3.2", "SGD with momentum, Nesterov momentum and weight decay", 20, "cpu", 120,
             ("minigan/optim/sgd.py::SGD.update",)),
        Task("3.3", "Adam", 20, "cpu", 120, ("minigan/optim/adam.py::Adam.update",)),
        Task("3.4", "the training loop: the step-10 CNN reaches 95% held-out", 25, "cpu", 120,
             (STEP10 + "train_step", STEP10 + "accuracy"), requires=("3.1", "3.2")),
    )),
    Homework(4, "CUDA kernels on the emulator", (12, 13, 14, 15), (
        Task("4.1", "conv forward v1: one thread per output", 25, "emulator", 300,
             ("kernels/dev/conv2d_v1_naive.cu::conv2d_v1_naive",)),
        Task("4.2", "conv forward v2: shared-memory tiles and barriers", 30, "emulator", 300,
             ("kernels/dev/conv2d_v2_tiled.cu::conv2d_v2_tiled",)),
        Task("4.3", "max-pooling kernels: forward with argmax, backward as a gather", 25,
             "emulator", 300, ("kernels/maxpool2d.cu::max_pool2d_forward",
                               "kernels/maxpool2d.cu::max_pool2d_backward")),
        Task("4.4", "the fused patch cross-entropy kernel and its deterministic sum", 20,
             "emulator", 300, ("kernels/patch_xent.cu::patch_xent_forward",
                               "kernels/patch_xent.cu::sum_partials")),
    )),
    Homework(5, "SimGAN (losses, history buffer, Algorithm 1)", (17, 18, 19, 20), (
        Task("5.1", "the losses: local adversarial (per patch), D's and R's, self-regularization",
             20, "cpu", 120, tuple(LOSSES + name for name in (
                 "local_adversarial_loss", "discriminator_loss", "realism_loss", "psi",
                 "self_regularization"))),
        Task("5.2", "the history buffer: drawing from it and pushing into it", 20, "cpu", 120,
             ("minigan/simgan/history.py::ImageHistoryBuffer.sample",
              "minigan/simgan/history.py::ImageHistoryBuffer.push")),
        Task("5.3", "the refiner step of Algorithm 1", 20, "cpu", 180,
             (TRAINER + "Trainer.refiner_step",), requires=("5.1",)),
        Task("5.4", "the discriminator step: half its refined batch from the history", 20,
             "cpu", 180, (TRAINER + "Trainer.discriminator_step",), requires=("5.1", "5.2")),
        Task("5.5", "a tiny run: K_g and K_d steps per iteration, a checkpoint that resumes "
                    "exactly", 20, "cpu", 240,
             (TRAINER + "Trainer.iteration", "minigan/simgan/checkpoint.py::trainer_state"),
             requires=("5.1", "5.2", "5.3", "5.4")),
    )),
    Homework(6, "Experiments (metrics, p-values, the critic)", (21, 22, 23), (
        Task("6.1", "gaze metrics: angular error, % within a threshold, the cumulative curve",
             25, "cpu", 120, tuple(METRICS + name for name in (
                 "angular_error", "percent_within", "cumulative_error_curve"))),
        Task("6.2", "intervals over seeds: the t-interval and the paired t-test", 25, "cpu", 120,
             ("minigan/experiments/statistics.py::t_interval",
              "minigan/experiments/statistics.py::paired_difference")),
        Task("6.3", "the visual Turing test's exact binomial p-value", 20, "cpu", 120,
             (METRICS + "binomial_p_value",)),
        Task("6.4", "the critic: a domain gap measured by a fresh classifier", 30, "cpu", 180,
             ("minigan/experiments/realism.py::Critic.forward",
              "minigan/experiments/realism.py::critic_accuracy")),
    )),
)

# Homeworks of the course whose tasks are not in the table yet.
PLANNED = {}


class ManifestError(ValueError):
    """A homework or task that the manifest does not have."""


def homework(number):
    """The ``Homework`` numbered ``number``; ``ManifestError`` naming the ones there are."""
    for hw in HOMEWORKS:
        if hw.number == number:
            return hw
    known = ", ".join(str(hw.number) for hw in HOMEWORKS)
    if number in PLANNED:
        raise ManifestError(f"homework {number} ({PLANNED[number]}) is planned but has no tasks "
                            f"yet; homeworks with tasks: {known}")
    raise ManifestError(f"there is no homework {number}; homeworks with tasks: {known}")


def all_tasks():
    return [task for hw in HOMEWORKS for task in hw.tasks]


def task(task_id):
    for t in all_tasks():
        if t.id == task_id:
            return t
    raise ManifestError(f"there is no task {task_id}")


def split_target(target):
    """``(path, qualified_name)`` of ``"path::qualified_name"``."""
    path, sep, name = target.partition("::")
    if not sep or not path or not name:
        raise ManifestError(f"stub target {target!r} must read 'path::qualified_name'")
    return path, name


def problems():
    """What is wrong with the table's form (duplicate ids, bad devices, ...), one line each."""
    found, seen = [], set()
    for hw in HOMEWORKS:
        for t in hw.tasks:
            where = f"task {t.id}"
            if t.id in seen:
                found.append(f"{where}: duplicate id")
            seen.add(t.id)
            if t.homework != hw.number:
                found.append(f"{where}: listed under homework {hw.number}")
            if t.device not in DEVICES:
                found.append(f"{where}: device {t.device!r} is not one of {DEVICES}")
            if t.points <= 0 or t.timeout_s <= 0 or not t.stub:
                found.append(f"{where}: needs points > 0, timeout_s > 0 and a stub target")
            if t.memory_mb <= 0 or t.file_mb <= 0:
                found.append(f"{where}: needs memory_mb > 0 and file_mb > 0")
            for name, weight in t.weights:
                if "::" not in name or not weight > 0:
                    found.append(f"{where}: weight {name!r}: {weight!r} must name a test as "
                                 f"'tests/FILE.py::test_name' with a weight > 0")
            for other in t.requires:
                if other not in {u.id for u in hw.tasks} or other == t.id:
                    found.append(f"{where}: requires {other}, not another task of homework "
                                 f"{hw.number}")
            for target in t.stub:
                try:
                    split_target(target)
                except ManifestError as error:
                    found.append(f"{where}: {error}")
        if hw.number in PLANNED:
            found.append(f"homework {hw.number} is both planned and listed")
    targets = [target for t in all_tasks() for target in t.stub]
    found += [f"{target} is stubbed by two tasks" for target in sorted(set(targets))
              if targets.count(target) > 1]
    return found
