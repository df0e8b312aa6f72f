"""What every program shares: common flags, number parsers, devices, one-line errors.

    parser = Parser("python -m minigan.refine", __doc__)
    parser.add_argument("--n", type=POSITIVE_INT)
    add_device(parser); add_seed(parser); add_progress(parser)
    args = parser.parse_args(argv)
    device = device_from(args)                      # resolved, or UsageError naming the source

    main = program_main(PROG, _main, __name__)      # ValueError, OSError ... -> one line, exit 2
"""
from minigan.cli.arguments import (COUNT, NON_NEGATIVE, POSITIVE, POSITIVE_INT, SEEDS, Parser,
                                   add_progress, add_seed, check_output, check_source,
                                   progress_bar_wanted,
                                   show_defaults)
from minigan.cli.device import (DEVICE_CHOICES, DEVICE_ENV, add_device, device_from, preset_for,
                                 preset_in_argv)
from minigan.cli.program import UsageError, one_line, program_main, resumable, run_program

__all__ = ["Parser", "POSITIVE_INT", "SEEDS", "COUNT", "POSITIVE", "NON_NEGATIVE", "add_progress",
           "add_seed", "check_output", "check_source", "progress_bar_wanted", "show_defaults",
           "DEVICE_CHOICES", "DEVICE_ENV", "add_device", "device_from", "preset_for",
           "preset_in_argv", "UsageError", "one_line", "program_main", "resumable", "run_program"]
