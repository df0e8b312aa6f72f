"""A confirmatory protocol: a gaze study and the claims it tests, written down before it runs.

    protocol = load_protocol("minigan/experiments/protocols/confirm_cpu_1.json")
    summary = run_confirmatory(protocol, protocol.study, "runs/confirm")
    summary["claims"]          # one verdict per declared claim (also OUT/claims.md)

The file is JSON:

    {"name": ..., "written": "YYYY-MM-DD", "notes": ...,
     "study": {the StudyConfig fields, without "device"},
     "row": "simgan.average@T"                        the row the claims are about
     "better_than": ["synthetic", "degraded", ...]    rows it must beat on mean error
     "closes_appearance_share": 0.5                   at least this share of synthetic - perfect
     "pupil_shift_at_most": 1.1}                      pixels, mean over the replicates

Each claim is decided by the study's numbers, paired by seed: "better than X" holds when the
95 % t-interval of (row - X) mean error lies below 0; the share claim when the mean share of
the appearance gap closed reaches the bound; the pupil claim when the mean shift is within it.
"""
import dataclasses
import errno
import json
import os
from dataclasses import dataclass
from typing import Any, Dict, List, Tuple

import numpy as np

from minigan.experiments.gaze_study_protocol import StudyConfig
from minigan.experiments.gaze_study_report import main_rows, run_study
from minigan.experiments.gaze_study_run import CLAIMS_FILES
from minigan.experiments.statistics import paired_difference
from minigan.io.atomic import write_json, write_text
from minigan.io.folders import claim_folder
from minigan.io.inputs import open_regular, read_json_or_none

CONFIRMATORY_JOB = "confirmatory gaze study"
KEYS = ("name", "written", "notes", "study", "row", "better_than", "closes_appearance_share",
        "pupil_shift_at_most")


@dataclass(frozen=True)
class Protocol:
    name: str
    written: str
    notes: str
    study: StudyConfig
    row: str
    better_than: Tuple[str, ...]
    closes_appearance_share: float
    pupil_shift_at_most: float


def load_protocol(path) -> Protocol:
    """Read and check a protocol file; ValueError naming the file and what is wrong."""
    try:
        with open_regular(path, "r") as handle:
            values = json.load(handle)
    except (OSError, ValueError) as error:
        raise ValueError(f"{path}: not a readable JSON protocol ({error})") from None
    if not isinstance(values, dict) or set(values) != set(KEYS):
        found = sorted(values) if isinstance(values, dict) else type(values).__name__
        raise ValueError(f"{path}: a protocol has exactly the keys {list(KEYS)}, got {found}")
    study = dict(values["study"])
    if "device" in study:
        raise ValueError(f"{path}: the study may not fix the device (it changes no result)")
    try:
        config = StudyConfig(**study)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path}: study: {error}") from None
    rows = _rows(config)
    for row in [values["row"], *values["better_than"]]:
        if row not in rows:
            raise ValueError(f"{path}: {row!r} is no row of this study; its rows: {rows}")
    return Protocol(name=str(values["name"]), written=str(values["written"]),
                    notes=str(values["notes"]), study=config, row=values["row"],
                    better_than=tuple(values["better_than"]),
                    closes_appearance_share=float(values["closes_appearance_share"]),
                    pupil_shift_at_most=float(values["pupil_shift_at_most"]))


def _rows(config):
    keys = [key for key, _ in main_rows(config)]
    return keys + [f"simgan.average@{i}" for i in config.checkpoints if f"simgan.average@{i}"
                   not in keys]


def protocol_dict(protocol: Protocol) -> Dict[str, Any]:
    values = dataclasses.asdict(protocol)
    values["study"] = {k: v for k, v in protocol.study.to_dict().items() if k != "device"}
    values["better_than"] = list(protocol.better_than)
    return values


def check_claims(protocol: Protocol, summary: Dict[str, Any]) -> List[Dict[str, Any]]:
    """One verdict per claim: ``{"claim", "holds", "value"}`` (value: the interval or number
    the verdict rests on), from the study's summary (``run_study``)."""
    entries = {entry["key"]: entry for entry in summary["rows"] + summary["curve"]}
    errors = lambda key: np.array(entries[key]["mean_error"]["per_seed"])
    verdicts = []
    for other in protocol.better_than:
        difference = paired_difference(errors(protocol.row), errors(other))
        verdicts.append({"claim": f"{protocol.row} has a lower mean error than {other}",
                         "holds": difference["high"] is not None and difference["high"] < 0,
                         "value": difference})
    closed = summary["gap"]["closed"][protocol.row]
    verdicts.append({"claim": f"{protocol.row} closes at least "
                              f"{100 * protocol.closes_appearance_share:.0f} % of the appearance "
                              "gap", "holds": closed["mean"] >= protocol.closes_appearance_share,
                     "value": closed})
    shift = entries[protocol.row]["pupil_shift"]
    verdicts.append({"claim": f"{protocol.row} moves the pupil at most "
                              f"{protocol.pupil_shift_at_most} px",
                     "holds": shift is not None and shift <= protocol.pupil_shift_at_most,
                     "value": shift})
    return verdicts


def format_verdicts(protocol: Protocol, verdicts) -> str:
    """The claims and whether each holds, as Markdown."""
    lines = [f"Confirmatory protocol {protocol.name} (written {protocol.written}):", "",
             "| claim | holds | on |", "|---|---|---|"]
    for verdict in verdicts:
        value = verdict["value"]
        if isinstance(value, dict) and "low" in value and "differences" in value:
            shown = (f"{value['mean']:+.2f} [{value['low']:+.2f}, {value['high']:+.2f}] deg"
                     if value["low"] is not None else f"{value['mean']:+.2f} deg")
        elif isinstance(value, dict):
            shown = f"{100 * value['mean']:.0f} % of the gap"
        else:
            shown = "-" if value is None else f"{value:.2f} px"
        lines.append(f"| {verdict['claim']} | {'yes' if verdict['holds'] else 'no'} | {shown} |")
    return "\n".join(lines) + "\n"

def run_confirmatory(protocol: Protocol, config: StudyConfig, out_dir, **study_options):
    """Run ``config`` (the protocol's study, on some device) in ``out_dir`` and check the
    protocol's claims. The folder keeps the protocol (``claims_protocol.json``): one made with
    another protocol is refused. Writes ``claims.md`` and ``claims.json``; returns the summary
    with ``claims`` added."""
    declared = json.loads(json.dumps(protocol_dict(protocol)))
    path = os.path.join(out_dir, CLAIMS_FILES[0])

    def usable(claim):
        if not os.path.lexists(path):
            if claim.names():
                raise FileExistsError(errno.EEXIST, "holds files but no confirmatory protocol "
                                      f"({CLAIMS_FILES[0]}); choose a new or empty folder",
                                      out_dir)
            return
        found = read_json_or_none(path)
        if found != declared:
            raise ValueError(f"{out_dir} holds a confirmatory run of another protocol "
                             f"({path}); choose another output folder")

    with claim_folder(out_dir, CONFIRMATORY_JOB, usable):
        if not os.path.lexists(path):
            write_json(path, declared)
        summary = run_study(config, out_dir, **study_options)
        summary["claims"] = check_claims(protocol, summary)
        write_text(os.path.join(out_dir, CLAIMS_FILES[1]),
                   format_verdicts(protocol, summary["claims"]))
        write_json(os.path.join(out_dir, CLAIMS_FILES[2]), summary["claims"])
    return summary
