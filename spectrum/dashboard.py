"""optuna-dashboard on a study's storage: what ``spectrum dashboard`` serves.

Sweeps and searches report every epoch's validation accuracy as an Optuna intermediate value, so
the dashboard draws each trial's learning curve beside the history, importances and Pareto front
it draws for any study. optuna-dashboard is the optional extra ``spectrum[dashboard]``; without
it :func:`dashboard_server` raises a one-line :class:`~spectrum.errors.SpecError`. The server
binds the loopback interface unless told otherwise and is started by the caller
(:func:`serve_until_stopped`); it logs nothing (the library never prints).
"""

from __future__ import annotations

import errno
import threading
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import optuna

from .errors import SpecError
from .stopping import sigterm_as_interrupt
from .study.storage import open_storage, report_folder_storage

INSTALL_HINT = "pip install 'spectrum[dashboard]'"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args) -> None:
        pass


def dashboard_storage(target: str, storage: str | None) -> optuna.storages.BaseStorage:
    """The storage of ``target``: a report folder holding study.db, or (with ``storage``) any
    Optuna storage URL or file, ``target`` then naming the study or its report folder."""
    if storage is None:
        return report_folder_storage(target)
    return open_storage(storage, Path("reports") / Path(target).name, heartbeat=False)


def dashboard_server(
    storage: optuna.storages.BaseStorage, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT
) -> WSGIServer:
    """A ready (bound, not yet serving) optuna-dashboard server; ``port=0`` picks a free one."""
    try:
        from optuna_dashboard import wsgi
    except ImportError:
        raise SpecError(f"optuna-dashboard is not installed; {INSTALL_HINT}") from None
    if not 0 <= port <= 65535:
        raise SpecError(f"--port must be in 0..65535, got {port}")
    app = wsgi(storage)
    problem = ""
    try:
        return make_server(host, port, app, handler_class=_QuietHandler)
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            problem = f"port {port} on {host} is in use; choose another with --port"
        else:
            problem = f"cannot listen on {host}:{port} ({e.strerror or type(e).__name__})"
    raise SpecError(problem)


def dashboard_url(server: WSGIServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}/dashboard/"


def serve_until_stopped(server: WSGIServer) -> None:
    """Serve until Ctrl-C or SIGTERM, then finish the request in progress and close.

    Requests are handled on a worker thread, so the signal (always delivered to the main thread)
    never lands inside one; the server then stops cleanly after it.
    """
    worker = threading.Thread(target=server.serve_forever, name="dashboard", daemon=True)
    with sigterm_as_interrupt():
        worker.start()
        try:
            while worker.is_alive():
                worker.join(0.5)
        except KeyboardInterrupt:
            server.shutdown()
        finally:
            server.server_close()
