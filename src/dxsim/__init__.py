"""dxsim: calibrated forecasts of Vietnam's provincial digital transformation and target probabilities."""

import os
from importlib.metadata import PackageNotFoundError, version

# dxsim's linear algebra is on small matrices (~150 x 150), where a multi-threaded BLAS costs more than it saves
# (an order of magnitude on a busy 2-core machine). Effective only if numpy is not imported yet; results do not
# depend on it. Set the variables yourself to override.
for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

try:
    __version__ = version("dxsim")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+source"

__all__ = ["__version__"]
