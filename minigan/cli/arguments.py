"""Argument parsing shared by the programs: a parser whose errors are one line, whose help shows
the value every flag takes, number types that say what they expected, and the common flags.

A flag whose default comes from a preset keeps ``default=None`` (so the program can tell a
given flag from a preset value); ``show_defaults(parser, {dest: value})`` puts the preset's
value into its help text instead.
"""
import argparse
import math
import os
import sys

from minigan.cli.program import UsageError, one_line
from minigan.data.sources import parse_source
from minigan.io.folders import check_writable_file, check_writable_folder


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Adds ``(default: X)`` to each flag's help: its preset value, else its argparse default."""

    def _get_help_string(self, action):
        text = action.help or ""
        if "default:" in text or action.nargs == 0 or action.default is argparse.SUPPRESS:
            return text
        value = getattr(action, "shown_default", action.default)
        if value is None:
            return text
        if isinstance(value, (list, tuple)):
            value = " ".join(map(str, value)) or "none"
        return f"{text} (default: {str(value).replace('%', '%%')})"


class Parser(argparse.ArgumentParser):
    """``ArgumentParser`` with the project's help format and one-line errors (exit status 2)."""

    def __init__(self, prog, description=None, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(prog=prog, description=description, **kwargs)

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def show_defaults(parser, values):
    """Show ``values[dest]`` as the default of each flag with that ``dest`` in ``--help``."""
    for action in parser._actions:
        if action.dest in values and values[action.dest] is not None:
            action.shown_default = values[action.dest]


def _number(kind, low, strict):
    relation = ">" if strict else ">="
    expected = f"{'an integer' if kind is int else 'a finite number'} {relation} {low:g}"

    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not math.isfinite(value) or value < low or (strict and value == low):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value
    return parse


POSITIVE_INT = _number(int, 1, False)      # 1, 2, ...
COUNT = _number(int, 0, False)             # 0, 1, ...
POSITIVE = _number(float, 0, True)         # finite and > 0
NON_NEGATIVE = _number(float, 0, False)    # finite and >= 0


def SEEDS(text):
    """Seeds from the command line: ``N`` is 0 .. N-1, ``A-B`` is A .. B (both included), and
    a comma joins parts (``7,11``, ``0-2,9``; one seed alone: ``7,``). Distinct, in order."""
    seeds = []
    parts = [part.strip() for part in text.split(",")]
    listed = len(parts) > 1
    for part in (p for p in parts if p or not listed):
        low, dash, high = part.partition("-")
        try:
            if dash:
                chosen = range(int(low), int(high) + 1)
                if int(low) < 0 or int(high) < int(low):
                    raise ValueError
            else:
                value = int(part)
                if value < (0 if listed else 1):
                    raise ValueError
                chosen = [value] if listed else range(value)
        except ValueError:
            seeds = []
            break
        seeds += [s for s in chosen if s not in seeds]
    if not seeds:
        raise argparse.ArgumentTypeError(f"expected seeds as N (0 .. N-1, N >= 1), A-B (A <= B) "
                                         f"or a comma list such as 7,11, got {text!r}")
    return tuple(seeds)


def add_seed(parser, default=0, text="seed of every random draw"):
    parser.add_argument("--seed", type=COUNT, default=default, metavar="N", help=text)


def add_progress(parser):
    """``--no-progress`` (plain status lines instead of a bar) and ``--status-every SECONDS``."""
    parser.add_argument("--no-progress", action="store_true",
                        help="no progress bar: print a plain status line every --status-every "
                             "seconds instead (also the default when stderr is not a terminal)")
    parser.add_argument("--status-every", type=NON_NEGATIVE, default=30.0, metavar="SECONDS",
                        help="seconds between plain status lines (0: after every step)")


def progress_bar_wanted(args, stream=None):
    """True for a progress bar: not switched off, and stderr is a terminal."""
    stream = stream if stream is not None else sys.stderr
    return not args.no_progress and hasattr(stream, "isatty") and stream.isatty()


def check_output(flag, path, kind="folder"):
    """UsageError naming ``flag`` when ``path`` cannot be written as a ``kind`` (folder | file)."""
    try:
        (check_writable_folder if kind == "folder" else check_writable_file)(path)
    except OSError as error:
        named = error.filename is not None and os.path.abspath(error.filename)
        same = named == os.path.abspath(path)
        reason = error.strerror if same else one_line(error)
        raise UsageError(f"{flag} {path}: {reason}") from None


def check_source(flag, spec):
    """UsageError naming ``flag`` when ``spec`` is no data source minigan reads."""
    try:
        parse_source(spec)
    except ValueError as error:
        raise UsageError(f"{flag}: {error}") from None
