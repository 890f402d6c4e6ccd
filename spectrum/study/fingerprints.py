"""Whether a stored study was made with the settings a command asks for now.

Sweeps and searches store a fingerprint (a JSON-able dict of everything that defines their
results) on their study and refuse to resume it with different settings. Fingerprints stored
before a training setting existed lack its key; those runs used the value in
:data:`LEGACY_TRAIN_VALUES`, so they still resume when that value is asked for explicitly.
"""

from __future__ import annotations

import json

LEGACY_TRAIN_VALUES = {"precision": "float32"}  # every run before precision was recorded


def with_legacy_values(fingerprint: dict) -> dict:
    train = fingerprint.get("train")
    if not isinstance(train, dict):
        return fingerprint
    return {**fingerprint, "train": {**LEGACY_TRAIN_VALUES, **train}}


def changed_settings(stored: dict, wanted: dict) -> list[str]:
    """The top-level keys whose values differ (empty when the study may be resumed)."""
    stored = with_legacy_values(stored)
    return sorted(
        key
        for key in set(stored) | set(wanted)
        if json.dumps(stored.get(key), sort_keys=True)
        != json.dumps(wanted.get(key), sort_keys=True)
    )
