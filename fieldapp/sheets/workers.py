"""Result sheets drawn in worker processes, so building a PDF does not hold the site server's GIL.

An adult's sheet of 10 values takes about 40 ms of CPU with fpdf2. Drawn in a request thread, it held the one interpreter
that serves every phone, and other requests waited for it. `fieldapp serve` sets SHEET_WORKERS, and
the visit's content, read from the database in the request, is sent to a worker process to draw, on
the laptop's other core. Without the setting (tests, commands) sheets are drawn in the calling thread.
"""

import atexit
import concurrent.futures
import hashlib
import logging
import multiprocessing
import os
import pickle
import threading
from collections import OrderedDict
from multiprocessing.connection import wait

from flask import current_app, has_app_context

log = logging.getLogger(__name__)

# App setting: how many worker processes draw result sheets; 0 or unset draws them in the request thread.
SHEET_WORKERS = "SHEET_WORKERS"
# A sheet that takes longer than this has a stuck worker behind it.
TIMEOUT_S = 60
# Drawings kept by content digest, so that the sheet opened after a conclusion, or a reprint, is not drawn
# again. A sheet is about 40 KB.
MAX_DRAWINGS = 32

_executor: concurrent.futures.ProcessPoolExecutor | None = None
_lock = threading.Lock()
_drawings: OrderedDict[str, concurrent.futures.Future] = OrderedDict()


def worker_count() -> int:
    """Return the app's SHEET_WORKERS, or 0 outside an app."""
    return int(current_app.config.get(SHEET_WORKERS) or 0) if has_app_context() else 0


def draw(function, *args):
    """Return function(*args), run in a sheet worker when the app has them, else in the calling thread.

    When draw_ahead or an earlier draw() has drawn the same function with the same arguments, that
    drawing is returned.
    """
    count = worker_count()
    if not count:
        return function(*args)
    try:
        return _drawing(count, function, args).result(timeout=TIMEOUT_S)
    except concurrent.futures.process.BrokenProcessPool as error:
        # A worker died (killed, or out of memory): draw this sheet here and start new workers for the next.
        log.error("result sheet worker failed, drawing in the server: %s", error)
        _discard_pool()
        return function(*args)


def draw_ahead(function, *args) -> None:
    """Start function(*args) in a sheet worker, so that a draw() of the same call soon finds it drawn.

    Without sheet workers this does nothing.
    """
    count = worker_count()
    if not count:
        return
    try:
        _drawing(count, function, args)
    except concurrent.futures.process.BrokenProcessPool as error:
        log.error("result sheet worker failed, not drawing ahead: %s", error)
        _discard_pool()


def _drawing(count: int, function, args: tuple) -> concurrent.futures.Future:
    """Return the running or finished drawing of function(*args), or start one if there is none or it failed."""
    # The arguments are pickled to reach the worker anyway; their digest is the content's identity.
    key = hashlib.sha256(pickle.dumps((function.__module__, function.__qualname__, args))).hexdigest()
    with _lock:
        drawing = _drawings.get(key)
        if drawing is not None and not _failed(drawing):
            _drawings.move_to_end(key)
            return drawing
    future = _pool(count).submit(function, *args)
    with _lock:
        _drawings[key] = future
        while len(_drawings) > MAX_DRAWINGS:
            _drawings.popitem(last=False)
    return future


def _failed(future: concurrent.futures.Future) -> bool:
    """Return True when a drawing was cancelled or raised, so it must be started again."""
    return future.cancelled() or (future.done() and future.exception() is not None)


def _discard_pool() -> None:
    global _executor
    with _lock:
        if _executor is not None:
            _executor.shutdown(wait=False, cancel_futures=True)
        _executor = None
        _drawings.clear()


def start(count: int) -> None:
    """Start a worker process now, so the first sheet of the day does not wait for one to start."""
    _pool(count).submit(os.getpid).result(timeout=TIMEOUT_S)


def _pool(count: int) -> concurrent.futures.ProcessPoolExecutor:
    global _executor
    with _lock:
        if _executor is None:
            # spawn, as on Windows: a forked copy of a server with running threads can inherit held locks.
            _executor = concurrent.futures.ProcessPoolExecutor(
                max_workers=count, mp_context=multiprocessing.get_context("spawn"), initializer=_watch_parent)
            atexit.register(_executor.shutdown, wait=False, cancel_futures=True)
            log.info("started %d result sheet worker processes", count)
        return _executor


def _watch_parent() -> None:
    # A worker whose server was killed (kill -9, a closed console window) would otherwise wait for work for ever.
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def exit_with_parent() -> None:
        wait([parent.sentinel])
        os._exit(0)

    threading.Thread(target=exit_with_parent, name="watch-parent", daemon=True).start()
