"""``python -m dxsim.cli``: the dxsim command."""

import sys

from dxsim.cli import main

sys.exit(main())
