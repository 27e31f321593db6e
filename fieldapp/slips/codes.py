"""QR code and Code128 barcode of a token, as filled rectangles in module units.

Drawing the modules as vector rectangles keeps them sharp at any print resolution and
is faster than embedding an image per slip.
"""

import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor

import qrcode
from barcode import Code128
from qrcode.constants import ERROR_CORRECT_Q

QR_QUIET_MODULES = 4  # ISO/IEC 18004 minimum quiet zone
CODE128_QUIET_MODULES = 10  # ISO/IEC 15417 minimum quiet zone
POOL_MIN_SYMBOLS = 400

Rect = tuple[float, float, float, float]  # x, y, width, height


def qr_matrix(token: str) -> list[list[bool]]:
    """Return the QR symbol of `token` without its quiet zone, as rows of dark (True) modules.

    Level Q restores up to 25 % of damaged codewords. A 24-digit token fits version 1
    (21 x 21 modules) in numeric mode even at Q, so the stronger level costs no size.
    """
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_Q, border=0, box_size=1)
    code.add_data(token)
    code.make(fit=True)
    return code.get_matrix()


def qr_rects(matrix: list[list[bool]]) -> list[Rect]:
    """Return rectangles covering the dark modules, in module units from the symbol's top left.

    Runs of dark modules in a row become one rectangle, and a run that repeats in the
    rows below grows downwards, so a symbol needs few rectangles (about 75 for a token).
    """
    open_runs: dict[tuple[int, int], list[int]] = {}  # (start, end) -> [top row, height]
    rects: list[Rect] = []
    for row_index, row in enumerate(matrix + [[]]):
        runs = set()
        column = 0
        while column < len(row):
            if row[column]:
                start = column
                while column < len(row) and row[column]:
                    column += 1
                runs.add((start, column))
            else:
                column += 1
        for run in list(open_runs):
            if run not in runs:
                top, height = open_runs.pop(run)
                rects.append((run[0], top, run[1] - run[0], height))
        for run in runs:
            if run in open_runs:
                open_runs[run][1] += 1
            else:
                open_runs[run] = [row_index, 1]
    return rects


def qr_symbol(token: str) -> tuple[int, list[Rect]]:
    """Return the QR symbol's width in modules and its dark rectangles (see qr_rects)."""
    matrix = qr_matrix(token)
    return len(matrix), qr_rects(matrix)


def worker_count(symbols: int) -> int:
    """Return how many processes should build `symbols` QR symbols: 1 means in this process.

    Choosing the mask pattern makes qrcode build each symbol 9 times (measured 1.6 ms per
    token on a 2-core AMD EPYC), half the time of a large print run. Starting a process
    costs an estimated 0.3 s, so runs under POOL_MIN_SYMBOLS stay in this process.
    """
    if symbols < POOL_MIN_SYMBOLS:
        return 1
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def qr_symbols(tokens: list[str], workers: int) -> Iterator[tuple[int, list[Rect]]]:
    """Yield `qr_symbol` of each token in order, built by `workers` child processes when it is above 1."""
    if workers <= 1:
        yield from map(qr_symbol, tokens)
        return
    # spawn, not fork: render_slips may run in a threaded web server, where forking is unsafe.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        yield from pool.map(qr_symbol, tokens, chunksize=100)


def code128_bars(token: str) -> tuple[list[tuple[int, int]], int]:
    """Return the bars of the Code128 symbol of `token` and its width, in modules, without quiet zones.

    Each bar is (start, width). python-barcode picks code set C for digits, so a
    24-digit token takes 167 modules.
    """
    pattern = Code128(token).build()[0]
    bars = []
    index = 0
    while index < len(pattern):
        if pattern[index] == "1":
            start = index
            while index < len(pattern) and pattern[index] == "1":
                index += 1
            bars.append((start, index - start))
        else:
            index += 1
    return bars, len(pattern)
