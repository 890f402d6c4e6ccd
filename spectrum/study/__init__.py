"""Studies: trials as resumable Optuna studies.

Modules, in the order a study flows through them: ``studyfile`` (the TOML schema of studies/),
``space`` (what a search may vary), ``plan`` (a search's objectives, constraints and budget),
``samplers`` (samplers, pruners, per-trial seeding), ``trial`` (the ONE trial path and its progress
events), ``grid`` (a sweep's plan and points), ``sweep`` (running a grid, shared by workers),
``sequential`` (a sweep's rounds of seeds until decided), ``search`` (the search objective and
worker loop), ``resume`` (fingerprints, stale-trial recovery, the Optuna private API in one
place), ``storage_url`` and ``storage`` (from ``--storage`` to an Optuna storage), ``workers``
(packing trials into processes) and ``run`` (a study from start to finish, without the user
interface).
"""
