"""``--device``, whose default comes from the environment variable ``MINIGAN_DEVICE``.

Names are resolved only by ``minigan.backend.resolve_device``; a name it refuses, or a device
that cannot be used here, is a ``UsageError`` naming where the name came from (the flag or the
variable) and the names allowed. The resolved device becomes the default device of the process,
so every tensor and layer the program makes lands there.
"""
import os

from minigan.backend import CHOICES, ENVIRONMENT_VARIABLE, resolve_device, set_default_device
from minigan.cli.arguments import Parser
from minigan.cli.program import UsageError

DEVICE_ENV = ENVIRONMENT_VARIABLE
DEVICE_CHOICES = CHOICES


def add_device(parser):
    """Add ``--device {auto,cpu,cuda,emulator}`` (default: $MINIGAN_DEVICE, else auto)."""
    env = os.environ.get(DEVICE_ENV)
    shown = f"{env} (from {DEVICE_ENV})" if env else f"auto ({DEVICE_ENV} is not set)"
    parser.add_argument("--device", choices=DEVICE_CHOICES,
                        help=f"where to compute; auto: a GPU when one is usable, else the CPU "
                             f"(default: {shown})")


def requested_device(args):
    """``(name, source)``: the device asked for, and the flag or variable that asked."""
    if getattr(args, "device", None):
        return args.device, "--device"
    env = os.environ.get(DEVICE_ENV)
    if env is not None:
        return env, DEVICE_ENV
    return "auto", "--device"


def device_from(args):
    """The device the program computes on (``resolve_device`` of the request), made the default.

    Raises UsageError for an unknown name or a device that cannot be used here.
    """
    name, source = requested_device(args)
    try:
        device = resolve_device(name, source=source)
    except ValueError as error:       # the message names the allowed values
        raise UsageError(str(error)) from None
    except RuntimeError as error:     # a known device that cannot run here
        raise UsageError(f"{error} (allowed: {', '.join(DEVICE_CHOICES)})") from None
    set_default_device(device)
    return device


def preset_for(args, gpu, cpu):
    """``args.preset`` when given and not ``auto``, else ``gpu`` where a GPU will compute and
    ``cpu`` elsewhere (also when the device cannot be used: ``--help`` still works)."""
    preset = getattr(args, "preset", None)
    if preset and preset != "auto":
        return preset
    try:
        return gpu if device_from(args) == "cuda" else cpu
    except UsageError:
        return cpu


def preset_in_argv(prog, presets, gpu, cpu, argv):
    """The preset a command line will use (``--preset``, else ``preset_for``), read before the
    full parse so that ``--help`` can show that preset's values as the defaults."""
    early = Parser(prog, add_help=False)
    early.add_argument("--preset", choices=sorted(presets))
    add_device(early)
    return preset_for(early.parse_known_args(argv)[0], gpu, cpu)
