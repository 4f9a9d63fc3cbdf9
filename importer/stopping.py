"""A request to stop a run early, set by Ctrl-C or SIGTERM and read by the run.

Once it is set, no new order and no new request starts. The requests on their
way finish and are recorded, and then the results are written.
"""

from __future__ import annotations

from collections.abc import Callable


class StopRequest:
    """Whether the run was asked to stop, and what to tell when it is."""

    def __init__(self) -> None:
        self.requested = False
        self._listeners: list[Callable[[], None]] = []

    def request(self) -> None:
        self.requested = True
        for listener in self._listeners:
            listener()

    def on_request(self, listener: Callable[[], None]) -> None:
        """Call `listener` when the stop is requested, at once if it already was."""
        self._listeners.append(listener)
        if self.requested:
            listener()
