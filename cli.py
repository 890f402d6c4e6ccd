"""The ``spectrum`` command from a checkout: ``python cli.py ...`` (or ``torchrun ... cli.py``) runs
:func:`spectrum.cli.main`, as the installed ``spectrum`` command and ``python -m spectrum`` do."""

import sys

from spectrum.cli import main

if __name__ == "__main__":
    sys.exit(main())
