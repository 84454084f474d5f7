"""Whether runs can be compared draw for draw. The differences between two runs are the effects of their levers
only when the runs share the seed, the number of draws, the calibration (the config file's hash), the data
(the observations file's hash) and the layout of dxsim's random streams (``core.streams.VERSION``; a run that
does not record it, made before it was recorded, pairs with none): then they use the same parameter draws and
noise (common random numbers), and every series that no lever touches is identical. Read from the runs'
``manifest.json``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# (what, its place in manifest.json): what common random numbers need to be equal between runs
IDENTITY = (("seed", ("seed",)), ("draws", ("draws",)), ("calibration", ("calibration", "sha256")),
            ("data", ("observations", "sha256")), ("random streams", ("random_streams",)))
STREAMS = "random streams"


def run_identity(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """A run's seed, draws, calibration (config sha256), data (observations sha256) and random streams' version;
    None where the manifest does not say."""
    out = {}
    for what, path in IDENTITY:
        value: Any = manifest
        for key in path:
            value = value.get(key) if isinstance(value, Mapping) else None
        out[what] = value
    return out


def comparability_warnings(manifests: Sequence[Mapping[str, Any]], names: Sequence[str] | None = None) -> list[str]:
    """One short line per way the runs differ (seed, draws, calibration, data, random streams), naming each run's value
    (hashes shortened); empty when the runs are comparable draw for draw. ``names`` label the runs (default
    run 1, run 2, ...)."""
    names = list(names) if names is not None else [f"run {k + 1}" for k in range(len(manifests))]
    identities = [run_identity(m) for m in manifests]
    lines = []
    for what, _ in IDENTITY:
        values = [ident[what] for ident in identities]
        if unpaired(what, values):
            shown = ", ".join(f"{name}: {_shown(value)}" for name, value in zip(names, values, strict=True))
            lines.append(f"{'different' if len({repr(v) for v in values}) > 1 else 'unknown'} {what} ({shown})")
    return lines


def unpaired(what: str, values: Sequence[Any]) -> bool:
    """Whether runs whose identity item ``what`` has ``values`` cannot share their random numbers: the values
    differ, or a run does not record its random streams (it may predate a change of their layout)."""
    return len({repr(v) for v in values}) > 1 or (what == STREAMS and None in values)


def comparability_message(manifests: Sequence[Mapping[str, Any]], names: Sequence[str] | None = None) -> str:
    """The warnings as one line, with what follows and the fix; '' when the runs are comparable."""
    lines = comparability_warnings(manifests, names)
    if not lines:
        return ""
    return ("warning: these runs are not comparable draw for draw: " + "; ".join(lines) + ". Their differences "
            "include Monte Carlo noise, not only the scenarios' levers: run them with the same seed, draws, "
            "calibration and data, with the same version of dxsim's random streams")


def _shown(value: Any) -> str:
    if value is None:
        return "not recorded"
    return value[:12] if isinstance(value, str) and len(value) == 64 else str(value)


@dataclass(frozen=True)
class Comparison:
    """The charts of ``compare_runs`` and the one-line warning when the runs are not comparable ('' when they are)."""

    files: tuple[Path, ...]
    warning: str


def compare_runs(folders: Sequence[str | Path], out: str | Path, lang: str = "en",
                 formats: Sequence[str] | None = None) -> Comparison:
    """Draw the medians and 80% bands of two or more results folders together, per geo x headline indicator they
    share, atomically into ``out`` (every format when ``formats`` is None)."""
    from dxsim.errors import ArgumentError, InputError
    from dxsim.outputs import style
    from dxsim.outputs.charts import render_compare
    from dxsim.outputs.results import atomic_output_dir
    from dxsim.outputs.runtables import read_run

    folders = [Path(f) for f in folders]
    if len(folders) < 2:
        raise ArgumentError("folders", "give at least two results folders to compare")
    runs = [read_run(d) for d in folders]
    warning = comparability_message([r.manifest for r in runs], [str(d) for d in folders])
    if not any(all(g in r.geos for r in runs[1:]) for g in runs[0].geos):
        raise InputError(folders[1], "", f"shares no geo with {folders[0]}")
    with atomic_output_dir(out) as tmp:
        files = render_compare(runs, tmp, lang=lang, formats=tuple(formats or style.FORMATS))
    return Comparison(tuple(Path(out) / f.relative_to(tmp) for f in files), warning)
