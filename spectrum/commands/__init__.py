"""The command line's commands (``spectrum/cli.py`` assembles them into the ``spectrum`` app).

The one part of the package that prints: typer commands parse and validate flags, call the
library, and render its progress (tqdm bars) and results (tables, one-line errors). Only
``spectrum/cli.py`` imports it; everything else under ``spectrum/`` stays quiet.
"""
