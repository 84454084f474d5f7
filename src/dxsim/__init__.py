"""dxsim: calibrated forecasts of Vietnam's provincial digital transformation and target probabilities."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("dxsim")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+source"

__all__ = ["__version__"]
