"""Calibration diagnostics drawn by ``dxsim calibrate``, in the shared chart style (``style.py``); the report
charts are in ``charts.py``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib import rc_context
from matplotlib.figure import Figure

from dxsim.core.calibrate import Calibrator, ParameterDraws
from dxsim.core.model import path_z, z_to_share
from dxsim.outputs import style


def calibration_diagnostics(calibrator: Calibrator, draws: ParameterDraws, out_dir: Path) -> list[Path]:
    """One PNG per (indicator, geo with readings): the fitted curve of each observed definition (median and
    80% band over parameter draws, percent) with its readings. Returns the files written."""
    cfg = calibrator.config
    obs = calibrator.observations_
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with rc_context(style.rc()):
        for i, spec in enumerate(cfg.indicators):
            post = calibrator.posteriors_[spec.name]
            mine = obs[obs["indicator"] == spec.name]
            t_lo = min(float(mine["time"].min()) if len(mine) else cfg.first_year, cfg.first_year) - 0.5
            grid = np.linspace(t_lo, calibrator.jump_off_year_ + 1.5, 80)
            for geo, rows in mine.groupby("geo"):
                g = draws.geos.index(geo)
                fig = Figure(figsize=(6.4, 4.0))
                ax = fig.add_subplot()
                for c, (dfn, drows) in enumerate(rows.groupby("definition")):
                    colour = style.PALETTE[c % len(style.PALETTE)]
                    k = draws.series.index((spec.name, dfn))
                    damping = 1.0 if draws.damping is None else draws.damping[:, i, None]
                    z = path_z(draws.level[:, g, i, None] + draws.offset[:, k, None],
                               draws.slope[:, g, i, None] + draws.slope_offset[:, k, None], grid - post.t0, damping)
                    share = z_to_share(spec.law, z, spec.definition(dfn).ceiling)
                    lo, med, hi = np.quantile(share, [0.1, 0.5, 0.9], axis=0)
                    name = style.definition_name(dfn)
                    ax.plot(grid, med, color=colour, label=f"{name} (fit, median)")
                    ax.fill_between(grid, lo, hi, color=colour, alpha=0.2, lw=0, label=f"{name} 80% band")
                    ax.plot(drows["time"], drows["value"], "o", color=colour, mec="white",
                            label=f"{name} readings")
                ax.set_title(f"{style.geo_name(geo)}: {style.indicator_name(spec.name, fallback=spec.label)}"
                             " - calibration fit", loc="left")
                ax.set_xlabel("year (readings placed at their month)")
                ax.set_ylabel(style.indicator_unit(spec.name))
                ax.set_ylim(0, 100)
                ax.legend(fontsize=7, loc="best")
                path = out_dir / f"fit_{spec.name}_{geo}.png"
                fig.tight_layout()
                fig.savefig(path, dpi=120)
                written.append(path)
    return written
