"""Progress of a wait on stderr: plain lines, or a live display on a terminal.

The live display redraws a block of lines in place with ANSI escape
sequences: a header with the elapsed time and the site counts, then one
line per site with a state marker.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Protocol, TextIO

from ._models import OperationItem, OperationState
from ._operations import WaitManyResult
from ._output import describe_ref

__all__ = ["LiveProgress", "PlainProgress", "ProgressDisplay", "site_counts", "site_state"]

_MARKERS = {
    OperationState.SUCCEEDED: "ok",
    OperationState.FAILED: "FAIL",
    OperationState.PENDING: "..",
}

# ANSI control sequences: cursor up n lines, erase from the cursor to the end
# of the screen, hide and show the cursor.
_CURSOR_UP = "\x1b[{}A"
_ERASE_BELOW = "\r\x1b[J"
_HIDE_CURSOR = "\x1b[?25l"
_SHOW_CURSOR = "\x1b[?25h"

# Seconds between redraws of the live display's elapsed time.
_TICK_SECONDS = 1.0

# Terminal size used when the terminal does not report one.
_DEFAULT_COLUMNS = 80
_DEFAULT_ROWS = 24


class ProgressDisplay(Protocol):
    """Receiver of the snapshots of a wait and of log lines meanwhile."""

    def update(self, snapshot: WaitManyResult) -> None:
        """Show the state after one round of polls."""

    def write_line(self, line: str) -> None:
        """Show a line of text, such as a log message, without breaking the display."""

    def close(self) -> None:
        """End the display, leaving its last state on the screen."""


def site_state(item: OperationItem) -> OperationState:
    """Return the library's classification of one site, PENDING when it has none."""
    return item.state or OperationState.PENDING


def site_counts(snapshot: WaitManyResult) -> tuple[int, int, int, int]:
    """Return (sites, succeeded, failed, pending) over every operation read."""
    sites = succeeded = failed = pending = 0
    for entry in snapshot.operations:
        if entry.status is None:
            continue
        summary = entry.status.summary
        sites += summary.sites
        succeeded += summary.succeeded
        failed += summary.failed
        pending += summary.pending
    return sites, succeeded, failed, pending


def _counts_text(snapshot: WaitManyResult) -> str:
    sites, succeeded, failed, pending = site_counts(snapshot)
    return f"{succeeded}/{sites} sites succeeded, {failed} failed, {pending} pending"


class PlainProgress:
    """One line per round, for a stream that is not a terminal.

    The line reads ``poll 3: 5/9 sites succeeded, 0 failed, 4 pending, 2.1 s``
    with the counts summed over every operation.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def update(self, snapshot: WaitManyResult) -> None:
        line = f"poll {snapshot.polls}: {_counts_text(snapshot)}, {snapshot.elapsed:.1f} s"
        self.write_line(line)

    def write_line(self, line: str) -> None:
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()

    def close(self) -> None:
        pass


class LiveProgress:
    """A block of lines on a terminal, redrawn after every round and every second.

    The header's elapsed time goes on between rounds, so that a long delay
    between polls does not look like a hang. The block is cut to the
    terminal's height and each line to its width, because a line that
    scrolled away or wrapped could not be redrawn.
    """

    def __init__(self, stream: TextIO, tick_seconds: float = _TICK_SECONDS) -> None:
        self._stream = stream
        self._tick_seconds = tick_seconds
        self._lock = threading.Lock()
        self._snapshot: WaitManyResult | None = None
        # time.monotonic() when the snapshot arrived.
        self._snapshot_time = 0.0
        self._drawn_height = 0
        self._stopped = threading.Event()
        self._ticker: threading.Thread | None = None

    def _terminal_size(self) -> tuple[int, int]:
        try:
            size = os.get_terminal_size(self._stream.fileno())
        except (OSError, ValueError):
            return _DEFAULT_COLUMNS, _DEFAULT_ROWS
        # A pseudo-terminal whose size was never set reports 0 x 0.
        return size.columns or _DEFAULT_COLUMNS, size.lines or _DEFAULT_ROWS

    def _frame(self, snapshot: WaitManyResult) -> list[str]:
        elapsed = snapshot.elapsed + (time.monotonic() - self._snapshot_time)
        lines = [
            f"opstatus: waiting {elapsed:.1f} s, poll {snapshot.polls}: "
            f"{_counts_text(snapshot)}"
        ]
        several = len(snapshot.operations) > 1
        for entry in snapshot.operations:
            if several or entry.error is not None:
                detail = entry.error.message if entry.error else entry.outcome.value
                lines.append(f"{describe_ref(entry.request)}: {detail}")
            if entry.status is None:
                continue
            if not entry.status.items:
                lines.append(f"  {_MARKERS[OperationState.PENDING]:<4}  no site has reported yet")
            for item in entry.status.items:
                site = item.purge.site if item.purge and item.purge.site else "-"
                marker = _MARKERS[site_state(item)]
                lines.append(f"  {marker:<4}  {site:<24}  {item.status or '-'}")
        return lines

    def _fit(self, lines: list[str]) -> list[str]:
        columns, rows = self._terminal_size()
        # One row stays free for the cursor below the block.
        limit = max(rows - 1, 2)
        if len(lines) > limit:
            hidden = len(lines) - (limit - 1)
            lines = lines[: limit - 1] + [f"  ... {hidden} more lines"]
        return [line[: columns - 1] for line in lines]

    def _erase(self) -> str:
        if self._drawn_height == 0:
            return ""
        return _CURSOR_UP.format(self._drawn_height) + _ERASE_BELOW

    def _draw(self, prefix: str = "") -> None:
        # Called with the lock held.
        lines = [] if self._snapshot is None else self._fit(self._frame(self._snapshot))
        self._drawn_height = len(lines)
        self._stream.write(prefix + "".join(line + "\n" for line in lines))
        self._stream.flush()

    def _tick(self) -> None:
        while not self._stopped.wait(self._tick_seconds):
            with self._lock:
                if self._stopped.is_set():
                    return
                self._draw(self._erase())

    def update(self, snapshot: WaitManyResult) -> None:
        with self._lock:
            prefix = _HIDE_CURSOR if self._snapshot is None else self._erase()
            self._snapshot = snapshot
            self._snapshot_time = time.monotonic()
            self._draw(prefix)
            if self._ticker is None:
                self._ticker = threading.Thread(
                    target=self._tick, name="opstatus-progress", daemon=True
                )
                self._ticker.start()

    def write_line(self, line: str) -> None:
        with self._lock:
            # The line may wrap, because it goes above the block, and the
            # block is redrawn below it without moving back over it.
            self._stream.write(self._erase() + line + "\n")
            self._drawn_height = 0
            self._draw()

    def close(self) -> None:
        self._stopped.set()
        if self._ticker is not None:
            self._ticker.join()
        with self._lock:
            if self._snapshot is not None:
                self._stream.write(_SHOW_CURSOR)
                self._stream.flush()
