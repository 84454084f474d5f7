"""Charts. Calibration diagnostics live here; report charts build on the same style."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .calibrate import Calibrator, ParameterDraws  # noqa: E402


def calibration_diagnostics(calibrator: Calibrator, draws: ParameterDraws, out_dir: Path) -> list[Path]:
    """One PNG per (indicator, geo with readings): the fitted curve of each observed definition (median and
    80% band over parameter draws) with its readings. Returns the files written."""
    cfg = calibrator.config
    obs = calibrator.observations_
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for i, spec in enumerate(cfg.indicators):
        post = calibrator.posteriors_[spec.name]
        mine = obs[obs["indicator"] == spec.name]
        t_lo = min(float(mine["time"].min()) if len(mine) else cfg.first_year, cfg.first_year) - 0.5
        grid = np.linspace(t_lo, calibrator.jump_off_year_ + 1.5, 80)
        for geo, rows in mine.groupby("geo"):
            g = draws.geos.index(geo)
            fig, ax = plt.subplots(figsize=(6.4, 4.0))
            for dfn, drows in rows.groupby("definition"):
                k = draws.series.index((spec.name, dfn))
                z = (draws.level[:, g, i, None] + draws.slope[:, g, i, None] * (grid - post.t0)
                     + draws.offset[:, k, None] + draws.slope_offset[:, k, None] * (grid - post.t0))
                share = spec.law.to_fraction(z) * spec.definition(dfn).ceiling
                lo, med, hi = np.quantile(share, [0.1, 0.5, 0.9], axis=0)
                line, = ax.plot(grid, med, label=f"{dfn} (fit, median)")
                ax.fill_between(grid, lo, hi, color=line.get_color(), alpha=0.2, label=f"{dfn} 80% band")
                ax.plot(drows["time"], drows["value"], "o", color=line.get_color(), label=f"{dfn} readings")
            ax.set_title(f"{geo}: {spec.label} - calibration fit")
            ax.set_xlabel("year (readings placed at their month)")
            ax.set_ylabel("percent")
            ax.set_ylim(0, 100)
            ax.legend(fontsize=7, loc="best")
            ax.grid(alpha=0.3)
            path = out_dir / f"fit_{spec.name}_{geo}.png"
            fig.tight_layout()
            fig.savefig(path, dpi=120)
            plt.close(fig)
            written.append(path)
    return written
