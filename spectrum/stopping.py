"""How a long run is stopped: SIGTERM behaves like Ctrl-C.

``kill PID`` (SIGTERM), a batch scheduler's stop or ``timeout`` then ends a run the way Ctrl-C
does: the trial in progress is stored as interrupted (it runs again on resume) and the command
exits with a one-line message, instead of dying with its trial left RUNNING until a resume
notices. It also stops runs that cannot receive Ctrl-C at all: a job started in the background
by a non-interactive shell inherits SIGINT ignored, so ``kill -INT`` does nothing to it.

A packed run's parent stops its workers with SIGTERM (their SIGINT may be ignored for the same
reason). A worker also gets Ctrl-C from the terminal, so it takes the first stop signal only and
ignores the rest: a second one must not land while it stores its trial as interrupted.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Stopped(KeyboardInterrupt):
    """Raised in the main thread on SIGTERM (caught wherever Ctrl-C is)."""


def _stop(signals: tuple[signal.Signals, ...]):
    def handler(signum, frame) -> None:
        for each in signals:  # the first stop signal only: see the module's docstring
            signal.signal(each, signal.SIG_IGN)
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise Stopped(f"stopped by {signal.Signals(signum).name}")

    return handler


@contextmanager
def sigterm_as_interrupt(*, first_only_sigint: bool = False) -> Iterator[None]:
    """While inside, SIGTERM raises :class:`Stopped` (a ``KeyboardInterrupt``) in the main thread,
    once; later SIGTERMs are ignored.

    ``first_only_sigint`` (packed workers): SIGINT too is taken once, then ignored with SIGTERM.
    The previous handlers are restored on exit. Outside the main thread (where Python cannot set
    handlers) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    signals = (signal.SIGTERM, signal.SIGINT) if first_only_sigint else (signal.SIGTERM,)
    previous = {each: signal.getsignal(each) for each in signals}
    handler = _stop(signals)
    for each in signals:
        signal.signal(each, handler)
    try:
        yield
    finally:
        for each, old in previous.items():
            if old is not None:  # None: a handler set outside Python, which cannot be restored
                signal.signal(each, old)


def exit_code(error: KeyboardInterrupt) -> int:
    """The shell's convention: 128 + the signal (130 for Ctrl-C, 143 for SIGTERM)."""
    return 128 + (signal.SIGTERM if isinstance(error, Stopped) else signal.SIGINT)
