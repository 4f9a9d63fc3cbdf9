"""Failures that stop a file or a run.

A bad row or a rejected order is not an exception: it becomes a result with a
status and a message. Exceptions are kept for what stops a whole file or run.

    ImporterError
    ├── UsageError              bad flags or option values            exit 2
    │   └── RunNotFoundError    `report` names a run the ledger lacks  (importer.rebuild)
    ├── RunStillActiveError     `report` names a run still sending    exit 2 (importer.rebuild)
    ├── NoStoredResultsError    `report` names a run with no results  exit 2 (importer.rebuild)
    ├── ConfigError             missing or invalid settings           exit 2
    │   └── DamagedLedgerError  the ledger file is damaged             (importer.ledger)
    ├── InputFileError          a file that cannot be read as a table exit 2
    │   ├── MissingColumnsError required columns not found            exit 2
    │   └── UncertainMappingError columns matched by guesswork only     exit 2
    ├── ReportError             the results cannot be saved or read   exit 2
    │   └── ResultsNotSavedError  not saved after orders were sent       exit 3
    └── RunAbortedError         the run stopped, state is kept        exit 3
        ├── AuthenticationError token rejected (401/403)
        │   └── LocationAccessError no access to one location (403)
        │       └── NoTokenError no token given for one location
        ├── ApiUnavailableError the API kept failing after retries
        ├── DailyLimitError     a location's daily request limit is used up
        ├── LedgerError         the ledger file failed (importer.ledger)
        │   └── DamagedDocumentError a stored results document is damaged
        └── InterruptedRunError Ctrl-C or SIGTERM

Messages are written for the person running the import: they name the file,
row, column or setting involved and say what to do. They never contain the
API token.
"""

from __future__ import annotations

from pathlib import Path


class ImporterError(Exception):
    """Base class of every failure the CLI turns into a message and exit code."""

    exit_code = 2


class UsageError(ImporterError):
    """Options that contradict each other or have invalid values."""


class ConfigError(ImporterError):
    """A setting is missing or invalid; the message names where to set it."""


class InputFileError(ImporterError):
    """A file that cannot be read as a table of shipments."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path


class MissingColumnsError(InputFileError):
    """Required columns could not be matched to the file's headers."""


class UncertainMappingError(InputFileError):
    """The columns were matched, but not surely enough to send anything without the user's word."""


class ReportError(ImporterError):
    """The results cannot be saved where they were requested, or a stored copy cannot be read."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path


class ResultsNotSavedError(ReportError):
    """The results could not be saved after orders were sent, so the run did not finish.

    The exit code is that of a stopped run: the orders' outcomes are in the
    ledger, and running again or `ghl-fulfill report` writes the results.
    """

    exit_code = 3

    def __init__(self, path: Path, message: str, result: object) -> None:
        super().__init__(path, message)
        self.result = result  # the FileResult that could not be saved


class RunAbortedError(ImporterError):
    """The run stopped part way; the results so far are written, and a rerun finishes the work."""

    exit_code = 3


class AuthenticationError(RunAbortedError):
    """HighLevel rejected the token (HTTP 401 or 403)."""


class LocationAccessError(AuthenticationError):
    """HighLevel refused the token access to one location (HTTP 403)."""

    def __init__(self, message: str, location_id: str) -> None:
        super().__init__(message)
        self.location_id = location_id


class NoTokenError(LocationAccessError):
    """No token is set for a location that the file names, and there is no default token."""


class ApiUnavailableError(RunAbortedError):
    """HighLevel could not be reached or kept failing after the allowed retries."""


class InterruptedRunError(RunAbortedError):
    """The run was interrupted by Ctrl-C or SIGTERM."""


class DailyLimitError(RunAbortedError):
    """A location has too few of its daily API requests left to go on today."""

    def __init__(self, message: str, location_id: str) -> None:
        super().__init__(message)
        self.location_id = location_id
