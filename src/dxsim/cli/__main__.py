"""``python -m dxsim.cli``: the dxsim command."""

from dxsim.cli import entry

entry()
