"""Progress callbacks of the wait functions, called from C.

An exception must not unwind through the C frames of libopstatus, and
ctypes would only print and drop it. The relay therefore catches every
exception of the Python callback, returns non-zero so that the library
cancels the wait, and keeps the exception for the caller to raise once the
C function has returned.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from . import _ffi

__all__ = ["ProgressRelay"]

SnapshotT = TypeVar("SnapshotT")

# Values that the relay returns to the library.
_GO_ON = 0
_CANCEL = 1


class ProgressRelay(Generic[SnapshotT]):
    """C progress function that forwards each snapshot to a Python callback.

    ``convert`` turns the decoded progress JSON into the object passed to
    ``callback``. When the callback returns False (exactly), the wait is
    cancelled. Keep the relay referenced until the C call returns, because
    the library calls :attr:`function` during the call.
    """

    def __init__(
        self,
        convert: Callable[[dict[str, Any]], SnapshotT],
        callback: Callable[[SnapshotT], bool | None],
    ) -> None:
        self._convert = convert
        self._callback = callback
        self.error: BaseException | None = None
        self.function = _ffi.ProgressCallback(self._invoke)

    def _invoke(self, progress_json: bytes | None, payload: int | None) -> int:
        # BaseException on purpose: KeyboardInterrupt and SystemExit raised
        # in the callback must also end the wait and reach the caller.
        try:
            snapshot = self._convert(json.loads(progress_json or b"null"))
            go_on = self._callback(snapshot)
        except BaseException as exc:  # noqa: BLE001
            self.error = exc
            return _CANCEL
        return _CANCEL if go_on is False else _GO_ON

    def raise_callback_error(self) -> None:
        """Raise the exception of the callback, if it raised one."""
        error = self.error
        if error is None:
            return
        # Dropping the reference avoids a cycle through the traceback.
        self.error = None
        try:
            raise error
        finally:
            error = None
