"""Studies: one trial (``trial``), grids of trials (``sweep``), Optuna searches (``search`` and
its space, plan and samplers), their storage, resumption and workers, and study files."""
