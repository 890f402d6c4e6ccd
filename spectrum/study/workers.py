"""Who runs a trial: the worker identity stored on it, and whether that worker is still alive."""

from __future__ import annotations

import os
import socket


def worker_id() -> dict:
    """This process as stored on the trials it runs: host name and process id."""
    return {"host": socket.gethostname(), "pid": os.getpid()}


def process_alive(pid: int) -> bool:
    """Whether a process of this host with ``pid`` exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, but belongs to another user
        return True
    return True


def dead_on_this_host(worker: dict | None) -> bool:
    """True when ``worker`` ran on this host and its process is gone (never for this process)."""
    worker = worker or {}
    if worker.get("host") != socket.gethostname() or worker.get("pid") is None:
        return False
    pid = int(worker["pid"])
    return pid != os.getpid() and not process_alive(pid)
