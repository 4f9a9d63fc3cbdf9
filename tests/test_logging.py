from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from importer import cli
from importer.cli import main
from importer.cli.common import (
    BYTES_PER_MB,
    DEFAULT_LOG_BACKUPS,
    DEFAULT_LOG_MAX_MB,
    LogFormat,
    configure_logging,
    remove_log_handlers,
)
from importer.errors import ConfigError

TOKEN = "pit-3f9c0d2e-secret"
LINE = "x" * 99


@pytest.fixture(autouse=True)
def restore_root_logger() -> Iterator[None]:
    """Take away the handlers and level that configure_logging set, so later tests log as before."""
    root = logging.getLogger()
    level = root.level
    yield
    remove_log_handlers()
    root.setLevel(level)


def log_lines(count: int) -> None:
    for _ in range(count):
        logging.getLogger("importer.client").info(LINE)


def json_entries(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def log_to_file(
    path: Path, log_format: LogFormat = "text", max_bytes: int = 1_000_000, backups: int = 5
) -> None:
    configure_logging(
        verbose=False,
        log_file=path,
        secrets_to_hide=[],
        log_format=log_format,
        log_max_bytes=max_bytes,
        log_backups=backups,
    )


def test_log_file_rotated_at_max_size(tmp_path: Path) -> None:
    """A file that reaches the maximum size is renamed to FILE.1 and a new FILE started."""
    log = tmp_path / "run.log"
    log_to_file(log, max_bytes=1000, backups=3)

    log_lines(30)

    assert (tmp_path / "run.log.1").is_file()
    assert log.stat().st_size <= 1000
    assert (tmp_path / "run.log.1").stat().st_size <= 1000


def test_log_backups_count_kept(tmp_path: Path) -> None:
    """Only the newest N rotated files are kept, however often the file is rotated."""
    log = tmp_path / "run.log"
    log_to_file(log, max_bytes=1000, backups=2)

    log_lines(100)

    assert sorted(path.name for path in tmp_path.iterdir()) == ["run.log", "run.log.1", "run.log.2"]


def test_zero_backups_empties_file(tmp_path: Path) -> None:
    """With no backups the file is emptied at the maximum size instead of growing."""
    log = tmp_path / "run.log"
    log_to_file(log, max_bytes=1000, backups=0)

    log_lines(100)

    assert [path.name for path in tmp_path.iterdir()] == ["run.log"]
    assert 0 < log.stat().st_size <= 1000


def test_log_file_under_a_file_raises(tmp_path: Path) -> None:
    """A log file that cannot be opened is a ConfigError naming the file."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    log = blocker / "run.log"

    with pytest.raises(ConfigError, match=re.escape(f"{log} cannot be written")):
        log_to_file(log)


def test_log_file_folder_created(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "nightly" / "run.log"
    log_to_file(log)
    assert log.parent.is_dir()


def test_json_line_carries_fields(tmp_path: Path) -> None:
    """Each key of extra={"fields": ...} becomes a top-level key of the JSON line."""
    log = tmp_path / "run.log"
    log_to_file(log, log_format="json")
    fields = {"event": "file_finished", "file": "orders.csv", "created": 3}

    logging.getLogger("importer.watch").info("orders.csv: 3 created", extra={"fields": fields})

    [entry] = json_entries(log)
    assert entry["message"] == "orders.csv: 3 created"
    assert entry["level"] == "INFO"
    assert entry["logger"] == "importer.watch"
    assert entry["event"] == "file_finished"
    assert entry["file"] == "orders.csv"
    assert entry["created"] == 3


def test_json_time_is_utc_with_milliseconds(tmp_path: Path) -> None:
    """The time is ISO 8601 in UTC, to the millisecond."""
    log = tmp_path / "run.log"
    log_to_file(log, log_format="json")

    logging.getLogger("importer").info("started")

    [entry] = json_entries(log)
    time = str(entry["time"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|\+00:00)", time)
    assert datetime.fromisoformat(time).utcoffset() == timedelta(0)


def test_json_fields_never_replace_keys(tmp_path: Path) -> None:
    """A field named like one of the fixed keys leaves that key as the record gives it."""
    log = tmp_path / "run.log"
    log_to_file(log, log_format="json")
    fields = {"level": "DEBUG", "logger": "other", "message": "other", "time": "never"}

    logging.getLogger("importer.watch").warning("disk full", extra={"fields": fields})

    [entry] = json_entries(log)
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "importer.watch"
    assert entry["message"] == "disk full"
    assert entry["time"] != "never"


def test_json_other_values_use_str(tmp_path: Path) -> None:
    """A Path, a set or NaN is written as its str() text, so the line still parses."""
    log = tmp_path / "run.log"
    log_to_file(log, log_format="json")
    fields = {"path": Path("in") / "orders.csv", "carriers": {"UPS"}, "rate": float("nan")}

    logging.getLogger("importer").info("read", extra={"fields": fields})

    [entry] = json_entries(log)
    assert entry["path"] == str(Path("in") / "orders.csv")
    assert entry["carriers"] == "{'UPS'}"
    assert entry["rate"] == "nan"


def test_json_exception_in_own_key(tmp_path: Path) -> None:
    """logger.exception puts the traceback text in the "exception" key."""
    log = tmp_path / "run.log"
    log_to_file(log, log_format="json")

    try:
        raise OSError("disk full")
    except OSError:
        logging.getLogger("importer.watch").exception("orders.csv failed")

    [entry] = json_entries(log)
    assert "OSError: disk full" in str(entry["exception"])
    assert entry["message"] == "orders.csv failed"


def test_json_console_line_parses(capsys: pytest.CaptureFixture[str]) -> None:
    """The console writes the same JSON lines as the log file."""
    configure_logging(verbose=False, log_file=None, secrets_to_hide=[], log_format="json")

    logging.getLogger("importer").warning("slow", extra={"fields": {"seconds": 12}})

    [entry] = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert entry["seconds"] == 12


def test_text_format_leaves_fields_out(tmp_path: Path) -> None:
    """The text format writes the message only, because the message repeats the fields."""
    log = tmp_path / "run.log"
    log_to_file(log)

    logging.getLogger("importer").info("orders.csv: done", extra={"fields": {"event": "finish"}})

    text = log.read_text(encoding="utf-8")
    assert "INFO importer: orders.csv: done" in text
    assert "finish" not in text


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_token_hidden_everywhere(tmp_path: Path, log_format: LogFormat) -> None:
    """The token is hidden in the message, in nested field values and in the traceback."""
    log = tmp_path / "run.log"
    secrets: list[str] = []
    configure_logging(
        verbose=False,
        log_file=log,
        secrets_to_hide=secrets,
        log_format=log_format,
    )
    secrets.append(TOKEN)
    fields = {"request": {"headers": [f"Bearer {TOKEN}"]}, "token": TOKEN}

    try:
        raise ValueError(f"bad token {TOKEN}")
    except ValueError:
        logging.getLogger("importer.client").exception(f"sent {TOKEN}", extra={"fields": fields})

    text = log.read_text(encoding="utf-8")
    assert TOKEN not in text
    assert "sent [token hidden]" in text
    assert "ValueError: bad token [token hidden]" in text


def test_token_hidden_in_json_fields(tmp_path: Path) -> None:
    """A field holding the token is written with the placeholder, also inside lists and dicts."""
    log = tmp_path / "run.log"
    configure_logging(verbose=False, log_file=log, secrets_to_hide=[TOKEN], log_format="json")
    fields = {"request": {"headers": [f"Bearer {TOKEN}"]}, "token": TOKEN}

    logging.getLogger("importer.client").info("request sent", extra={"fields": fields})

    [entry] = json_entries(log)
    assert entry["token"] == "[token hidden]"
    assert entry["request"] == {"headers": ["Bearer [token hidden]"]}


def test_token_hiding_leaves_caller_fields(tmp_path: Path) -> None:
    """Hiding works on a copy, so the caller's dict keeps its values."""
    configure_logging(verbose=False, log_file=tmp_path / "run.log", secrets_to_hide=[TOKEN])
    fields = {"token": TOKEN}

    logging.getLogger("importer.client").info("request sent", extra={"fields": fields})

    assert fields == {"token": TOKEN}


def test_console_loggers_show_info(capsys: pytest.CaptureFixture[str]) -> None:
    """INFO from a console logger and its children reaches the console; other INFO does not."""
    configure_logging(
        verbose=False, log_file=None, secrets_to_hide=[], console_loggers=("importer.watch",)
    )

    logging.getLogger("importer.watch").info("orders.csv: 3 created")
    logging.getLogger("importer.watch.folder").info("inbox: 2 files")
    logging.getLogger("importer.watcher").info("similar name")
    logging.getLogger("importer.client").info("POST /payments/orders")
    logging.getLogger("importer.watch").debug("checked inbox")
    logging.getLogger("importer.client").warning("retrying")

    console = capsys.readouterr().err
    assert "INFO importer.watch: orders.csv: 3 created" in console
    assert "inbox: 2 files" in console
    assert "similar name" not in console
    assert "POST /payments/orders" not in console
    assert "checked inbox" not in console
    assert "WARNING importer.client: retrying" in console


def test_console_default_warnings_only(capsys: pytest.CaptureFixture[str]) -> None:
    """Without console_loggers and --verbose the console shows no INFO from any logger."""
    configure_logging(verbose=False, log_file=None, secrets_to_hide=[])

    logging.getLogger("importer.watch").info("orders.csv: 3 created")
    logging.getLogger("importer.watch").warning("inbox missing")

    console = capsys.readouterr().err
    assert "orders.csv" not in console
    assert "inbox missing" in console


def test_log_file_ignores_console_loggers(tmp_path: Path) -> None:
    """The log file takes INFO from every logger and no DEBUG, whatever the console shows."""
    log = tmp_path / "run.log"
    configure_logging(
        verbose=False, log_file=log, secrets_to_hide=[], console_loggers=("importer.watch",)
    )

    logging.getLogger("importer.client").info("POST /payments/orders")
    logging.getLogger("importer.watch").debug("checked inbox")

    text = log.read_text(encoding="utf-8")
    assert "POST /payments/orders" in text
    assert "checked inbox" not in text


def test_second_setup_replaces_handlers(tmp_path: Path) -> None:
    """A second call removes and closes the first call's handlers instead of adding to them."""
    root = logging.getLogger()
    before = len(root.handlers)
    configure_logging(verbose=False, log_file=tmp_path / "first.log", secrets_to_hide=[])
    first_handlers = root.handlers[before:]

    configure_logging(verbose=False, log_file=tmp_path / "second.log", secrets_to_hide=[])
    logging.getLogger("importer").warning("once")

    assert len(root.handlers) == before + 2
    assert not any(handler in root.handlers for handler in first_handlers)
    assert "once" not in (tmp_path / "first.log").read_text(encoding="utf-8")


def test_main_runs_with_log_options(tmp_path: Path) -> None:
    """An existing command runs with the new options and creates the log file."""
    log = tmp_path / "run.log"
    options = ["--log-format", "json", "--log-max-mb", "1", "--log-backups", "0"]

    code = main(["templates", "--verbose", "--log-file", str(log), *options])

    assert code == 0
    assert log.is_file()


def test_main_passes_log_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """main turns --log-max-mb into bytes and passes the format and backup count as given."""
    calls: list[dict[str, object]] = []
    monkeypatch.setattr(cli, "configure_logging", lambda **options: calls.append(options))
    options = ["--log-format", "json", "--log-max-mb", "3", "--log-backups", "7"]

    main(["templates", "--log-file", str(tmp_path / "run.log"), *options])

    [call] = calls
    assert call["log_format"] == "json"
    assert call["log_max_bytes"] == 3 * BYTES_PER_MB
    assert call["log_backups"] == 7


def test_main_uses_default_log_options(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the options, main passes the text format and the default size and backup count."""
    calls: list[dict[str, object]] = []
    monkeypatch.setattr(cli, "configure_logging", lambda **options: calls.append(options))

    main(["templates"])

    [call] = calls
    assert call["log_format"] == "text"
    assert call["log_max_bytes"] == DEFAULT_LOG_MAX_MB * BYTES_PER_MB
    assert call["log_backups"] == DEFAULT_LOG_BACKUPS


def test_main_closes_log_file(tmp_path: Path) -> None:
    """main removes its handlers on return, so repeated calls do not pile them up."""
    root = logging.getLogger()
    before = list(root.handlers)

    main(["templates", "--log-file", str(tmp_path / "run.log")])
    main(["templates", "--log-file", str(tmp_path / "run.log")])

    assert root.handlers == before


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("--log-max-mb", "0", "'0' is not a whole number from 1 to 10000"),
        ("--log-max-mb", "10001", "'10001' is not a whole number from 1 to 10000"),
        ("--log-max-mb", "ten", "'ten' is not a whole number from 1 to 10000"),
        ("--log-max-mb", "1.5", "'1.5' is not a whole number from 1 to 10000"),
        ("--log-backups", "-1", "'-1' is not a whole number from 0 to 1000"),
        ("--log-backups", "1001", "'1001' is not a whole number from 0 to 1000"),
        ("--log-backups", "²", "'²' is not a whole number from 0 to 1000"),
    ],
)
def test_bad_log_size_option_is_usage_error(
    option: str, value: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """An out-of-range or non-numeric size or backup count exits with code 2 and names the range."""
    with pytest.raises(SystemExit) as stopped:
        main(["templates", option, value])

    assert stopped.value.code == 2
    assert f"argument {option}: {expected}" in capsys.readouterr().err


def test_bad_log_format_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """A log format other than text or json exits with code 2."""
    with pytest.raises(SystemExit) as stopped:
        main(["templates", "--log-format", "xml"])

    assert stopped.value.code == 2
    assert "--log-format" in capsys.readouterr().err
