"""The classes of the datetime module, imported without running its Python source.

Up to Python 3.11, ``import datetime`` runs the module's pure-Python
implementation and then replaces its classes with those of the C module
``_datetime``. That costs about 0.5 MB of memory at every start of the
``opstatus`` command. Importing ``_datetime`` directly gives the same
class objects: ``datetime.datetime is _datetime.datetime`` in CPython.
Other interpreters, which have no ``_datetime``, import ``datetime``.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from datetime import datetime, timedelta, timezone
else:
    try:
        from _datetime import datetime, timedelta, timezone
    except ImportError:
        from datetime import datetime, timedelta, timezone

__all__ = ["datetime", "timedelta", "timezone"]
