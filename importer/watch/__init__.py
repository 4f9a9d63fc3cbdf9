"""A watched folder: files dropped into its inbox are imported once each, unattended.

folders.py holds the folder's parts (which files are ready, the lock, the
moves); watcher.py holds the loop that takes and imports the files.
"""

from importer.watch.folders import (
    DEFAULT_SETTLE_SECONDS,
    DONE,
    FAILED,
    INBOX,
    LOCK_FILE_NAME,
    PROCESSING,
    HeldLock,
    SettleTracker,
    WatchFolders,
    fitted_name,
    folder_lock,
    is_candidate,
    is_export_name,
    is_open_elsewhere,
    is_open_for_writing,
    move_into,
    printable,
)
from importer.watch.watcher import (
    DEFAULT_POLL_SECONDS,
    DEFERRED_RETRY_SECONDS,
    Destination,
    FileImporter,
    WatchedFile,
    Watcher,
    WatchOptions,
)

__all__ = [
    "DEFAULT_POLL_SECONDS",
    "DEFAULT_SETTLE_SECONDS",
    "DEFERRED_RETRY_SECONDS",
    "DONE",
    "FAILED",
    "INBOX",
    "LOCK_FILE_NAME",
    "PROCESSING",
    "Destination",
    "FileImporter",
    "HeldLock",
    "SettleTracker",
    "WatchFolders",
    "WatchOptions",
    "WatchedFile",
    "Watcher",
    "fitted_name",
    "folder_lock",
    "is_candidate",
    "is_export_name",
    "is_open_elsewhere",
    "is_open_for_writing",
    "move_into",
    "printable",
]
