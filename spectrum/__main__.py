"""``python -m spectrum ...``: the ``spectrum`` command (:func:`spectrum.cli.main`)."""

import sys

from .cli import main

sys.exit(main())
