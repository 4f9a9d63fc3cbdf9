"""The token never leaves the process: every byte the tool writes is searched for it.

Real processes run against the sandbox, itself a separate process on loopback:
verbose imports with text and JSON log files and each results format, a
watcher run, runs whose token HighLevel rejects (401), and the history and
report commands. The token is given in each way the tool reads one. Then
every output stream and every file under the output folder (the members of
a workbook too, since XLSX is a zip archive) is searched for each token, its
base64 at each byte alignment, and its first 12 characters.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
SAMPLES = PROJECT / "sample_data"

# Distinctive, so that a match cannot be chance; the two share no 12-character prefix.
TOKEN = "pit-leakprobe-7Qz3Vw9Kx2Rb8Ny5Ld4Hs6"
REVOKED_TOKEN = "pit-revokedkey-4Fj8Tm1Cq7Wp3Zx6Gv9"
SECRETS = (TOKEN, REVOKED_TOKEN)
PREFIX_LENGTH = 12

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="stops the sandbox with SIGTERM")


def needles(secret: str) -> dict[str, bytes]:
    """Return the byte strings that betray `secret`, by what each one is."""
    raw = secret.encode("utf-8")
    found = {"the token": raw, f"the token's first {PREFIX_LENGTH} characters": raw[:PREFIX_LENGTH]}
    for shift in range(3):
        # Base64 of the token after `shift` other bytes: the characters that depend on the
        # token's bytes alone, without the first and last group of four.
        encoded = base64.b64encode(b"\0" * shift + raw)[4:-4]
        found[f"the token in base64 (alignment {shift})"] = encoded
        found[f"the token in URL-safe base64 (alignment {shift})"] = encoded.translate(
            bytes.maketrans(b"+/", b"-_")
        )
    return found


def leaks_in(data: bytes, where: str) -> list[str]:
    """Describe each needle found in `data`, without repeating the token."""
    leaks = []
    for secret_number, secret in enumerate(SECRETS, start=1):
        for kind, needle in needles(secret).items():
            at = data.find(needle)
            if at >= 0:
                leaks.append(f"{where}: {kind} (token {secret_number}) at byte {at}")
    return leaks


def leaks_in_file(path: Path, label: str) -> list[str]:
    data = path.read_bytes()
    leaks = leaks_in(data, label)
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                leaks += leaks_in(archive.read(member), f"{label} member {member}")
    return leaks


def leaks_in_folder(folder: Path) -> list[str]:
    leaks = []
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            leaks += leaks_in_file(path, str(path.relative_to(folder)))
    return leaks


@dataclass
class Completed:
    """One finished command: its arguments, exit code and output bytes."""

    name: str
    code: int
    stdout: bytes
    stderr: bytes


@dataclass
class Runs:
    """Everything the tool wrote in the module's runs."""

    out: Path
    commands: list[Completed] = field(default_factory=list)
    sandbox_stdout: bytes = b""
    sandbox_stderr: bytes = b""

    def by_name(self, name: str) -> Completed:
        return next(command for command in self.commands if command.name == name)


class Harness:
    """Runs ghl-fulfill processes against one sandbox process, and keeps what they print."""

    def __init__(self, root: Path) -> None:
        self.secrets = root / "secrets"  # inputs that contain the token on purpose
        self.out = root / "out"  # everything the tool writes
        self.secrets.mkdir()
        self.out.mkdir()
        self.runs = Runs(self.out)
        self.base_url = ""
        self.location_id = ""
        self._sandbox: subprocess.Popen[bytes] | None = None

    def environment(self, **variables: str) -> dict[str, str]:
        environment = {
            key: value for key, value in os.environ.items() if not key.startswith("GHL_")
        }
        environment.update(GHL_BASE_URL=self.base_url, GHL_LOCATION_ID=self.location_id)
        environment.update(variables)
        return environment

    def start_sandbox(self) -> None:
        self._sandbox = subprocess.Popen(
            [
                *_COMMAND,
                "sandbox",
                "--token",
                TOKEN,
                "--max-requests",
                "100000",
                "--verbose",
                "--log-file",
                str(self.out / "sandbox.log"),
            ],
            cwd=self.out,
            env=self.environment(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert self._sandbox.stdout is not None
        printed = b""
        while b"GHL_LOCATION_ID=" not in printed:
            line = self._sandbox.stdout.readline()
            assert line, "the sandbox exited before it was ready"
            printed += line
        self.runs.sandbox_stdout = printed
        for line in printed.decode().splitlines():
            name, _, value = line.strip().removeprefix("export ").partition("=")
            if name == "GHL_BASE_URL":
                self.base_url = value
            elif name == "GHL_LOCATION_ID":
                self.location_id = value

    def stop_sandbox(self) -> None:
        assert self._sandbox is not None
        self._sandbox.send_signal(signal.SIGTERM)
        stdout, stderr = self._sandbox.communicate(timeout=30)
        self.runs.sandbox_stdout += stdout
        self.runs.sandbox_stderr = stderr

    def kill_sandbox(self) -> None:
        if self._sandbox is not None and self._sandbox.poll() is None:
            self._sandbox.kill()
            self._sandbox.communicate()

    def run(self, name: str, *args: str, **variables: str) -> Completed:
        completed = subprocess.run(
            [*_COMMAND, *args],
            cwd=self.out,
            env=self.environment(**variables),
            capture_output=True,
            timeout=180,
            check=False,
        )
        result = Completed(name, completed.returncode, completed.stdout, completed.stderr)
        self.runs.commands.append(result)
        return result

    def secret_file(self, name: str, text: str) -> Path:
        path = self.secrets / name
        path.write_text(text, encoding="utf-8")
        path.chmod(0o600)
        return path

    def sample(self, name: str) -> Path:
        """Copy a sample export into the output folder, so the results are written there."""
        copy = self.out / "exports" / name
        copy.parent.mkdir(exist_ok=True)
        shutil.copy(SAMPLES / name, copy)
        return copy

    def drop(self, folder: Path, name: str) -> None:
        (folder / "inbox").mkdir(parents=True, exist_ok=True)
        shutil.copy(SAMPLES / name, folder / "inbox" / name)


_COMMAND = (sys.executable, "-m", "importer")
_FAST = "rate_limit_requests = 100000\n"
_VERBOSE_TEXT = ("--verbose", "--log-format", "text")
_VERBOSE_JSON = ("--verbose", "--log-format", "json")


def run_everything(harness: Harness) -> None:
    """Run each command that handles the token, in each way it can be given."""
    out = harness.out
    state = str(out / "state")
    plain_config = harness.secret_file("plain.toml", _FAST)
    token_file = harness.secret_file("token.txt", TOKEN + "\n")
    revoked_file = harness.secret_file("revoked.txt", REVOKED_TOKEN + "\n")
    token_config = harness.secret_file("with-token.toml", f'token = "{TOKEN}"\n{_FAST}')
    tables = "".join(
        f'[locations.{location}]\ntoken = "{TOKEN}"\n'
        for location in ("Xk7pQ2mLw9RtY4vB8nZc", "Rb3Tn8QeV5yHs2KdW7mJ", "Lp6Wc9ZsA4mGx1NhF8dQ")
    )
    agency_config = harness.secret_file("agency.toml", _FAST + tables)

    harness.drop(out / "watched", "manual_fulfillments.csv")
    harness.run(
        "watch --once, GHL_TOKEN_FILE",
        "watch", str(out / "watched"), "--once", "--settle", "0.2", "--poll", "0.1",
        "--config", str(plain_config), "--state-dir", state,
        *_VERBOSE_JSON, "--log-file", str(out / "logs" / "watch.jsonl"),
        GHL_TOKEN_FILE=str(token_file),
    )  # fmt: skip
    harness.run(
        "import xlsx results, GHL_TOKEN",
        "import", str(harness.sample("shipstation_shipments_2026-12-01.csv")),
        "--config", str(plain_config), "--state-dir", state,
        *_VERBOSE_TEXT, "--log-file", str(out / "logs" / "import.log"),
        GHL_TOKEN=TOKEN,
    )  # fmt: skip
    harness.run(
        "import json results, --token-file",
        "import", str(harness.sample("ups_worldship_2026-12-01.xlsx")),
        "--token-file", str(token_file), "--config", str(plain_config), "--state-dir", state,
        "--results", str(out / "results" / "ups.json"),
        *_VERBOSE_JSON, "--log-file", str(out / "logs" / "import.jsonl"),
    )  # fmt: skip
    harness.run(
        "import csv results, config token",
        "import", str(harness.sample("manual_fulfillments.csv")),
        "--config", str(token_config), "--state-dir", state,
        "--results", str(out / "results" / "manual.csv"),
        *_VERBOSE_TEXT, "--log-file", str(out / "logs" / "import-config.log"),
    )  # fmt: skip
    harness.run(
        "import, location tokens",
        "import", str(harness.sample("agency_locations_2026-12-01.csv")),
        "--config", str(agency_config), "--state-dir", state,
        *_VERBOSE_TEXT, "--log-file", str(out / "logs" / "agency.log"),
        GHL_LOCATION_ID="",
    )  # fmt: skip
    harness.run(
        "import, token rejected",
        "import", str(out / "exports" / "shipstation_shipments_2026-12-01.csv"),
        "--config", str(plain_config), "--state-dir", str(out / "state-revoked"), "--force",
        "--results", str(out / "results" / "rejected.xlsx"),
        *_VERBOSE_TEXT, "--log-file", str(out / "logs" / "rejected.log"),
        GHL_TOKEN=REVOKED_TOKEN,
    )  # fmt: skip
    harness.run(
        "import json log, token rejected",
        "import", str(out / "exports" / "ups_worldship_2026-12-01.xlsx"),
        "--token-file", str(revoked_file), "--config", str(plain_config),
        "--state-dir", str(out / "state-revoked"),
        "--results", str(out / "results" / "rejected.json"),
        *_VERBOSE_JSON, "--log-file", str(out / "logs" / "rejected.jsonl"),
    )  # fmt: skip
    harness.drop(out / "watched-revoked", "shipstation_shipments_2026-12-01.csv")
    harness.run(
        "watch --once, token rejected",
        "watch", str(out / "watched-revoked"), "--once", "--settle", "0.2", "--poll", "0.1",
        "--config", str(plain_config), "--state-dir", str(out / "state-revoked"),
        *_VERBOSE_TEXT, "--log-file", str(out / "logs" / "watch-rejected.log"),
        GHL_TOKEN_FILE=str(revoked_file),
    )  # fmt: skip
    harness.run("history", "history", "--state-dir", state, *_VERBOSE_TEXT)
    harness.run(
        "report json",
        "report", "2", "--state-dir", state, "--results", str(out / "report" / "run2.json"),
        *_VERBOSE_JSON,
    )  # fmt: skip
    harness.run(
        "report xlsx",
        "report", "3", "--state-dir", state, "--results", str(out / "report" / "run3.xlsx"),
        *_VERBOSE_TEXT,
    )  # fmt: skip


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    harness = Harness(tmp_path_factory.mktemp("secrets"))
    (harness.out / "report").mkdir()
    (harness.out / "results").mkdir()
    harness.start_sandbox()
    try:
        run_everything(harness)
        harness.stop_sandbox()
    finally:
        harness.kill_sandbox()
    yield harness.runs


# --- the runs did their work, so that finding nothing means something ------------------------


def test_imports_sent_orders(runs: Runs) -> None:
    """Each import with the accepted token ends with orders created or skipped (exit 0 or 1)."""
    for command in runs.commands:
        if command.name.startswith("import") and "rejected" not in command.name:
            assert command.code in (0, 1), f"{command.name}: exit {command.code}"


def test_rejected_token_runs_abort(runs: Runs) -> None:
    for command in runs.commands:
        if "rejected" in command.name:
            assert command.code == 3, f"{command.name}: exit {command.code}"


def test_rejected_token_message_printed(runs: Runs) -> None:
    """The error path ran: the message that names where the token came from was printed."""
    stderr = runs.by_name("import, token rejected").stderr.decode()
    assert "rejected the token from the GHL_TOKEN environment variable" in stderr


def test_verbose_log_lists_requests(runs: Runs) -> None:
    """The verbose log file has the HTTP request lines, where an Authorization header could show."""
    assert "HTTP Request: POST" in (runs.out / "logs" / "import.log").read_text()


def test_json_log_lines_parse(runs: Runs) -> None:
    lines = (runs.out / "logs" / "import.jsonl").read_text().splitlines()
    assert all(isinstance(json.loads(line), dict) for line in lines)


def test_watch_moved_its_file(runs: Runs) -> None:
    watched = runs.out / "watched"
    moved_files = [*(watched / "done").iterdir(), *(watched / "failed").iterdir()]
    assert len(moved_files) == 2


def test_history_and_report_succeed(runs: Runs) -> None:
    for name in ("history", "report json", "report xlsx"):
        assert runs.by_name(name).code == 0, runs.by_name(name).stderr.decode()


def test_ledger_written(runs: Runs) -> None:
    assert (runs.out / "state" / "ledger.sqlite3").stat().st_size > 0


# --- no token anywhere --------------------------------------------------------------------


def test_console_output_hides_token(runs: Runs) -> None:
    leaks = []
    for command in runs.commands:
        leaks += leaks_in(command.stdout, f"{command.name} stdout")
        leaks += leaks_in(command.stderr, f"{command.name} stderr")
    assert leaks == []


def test_log_files_hide_token(runs: Runs) -> None:
    assert leaks_in_folder(runs.out / "logs") == []


def test_results_files_hide_token(runs: Runs) -> None:
    leaks = leaks_in_folder(runs.out / "results") + leaks_in_folder(runs.out / "exports")
    assert leaks == []


def test_watched_folders_hide_token(runs: Runs) -> None:
    leaks = leaks_in_folder(runs.out / "watched") + leaks_in_folder(runs.out / "watched-revoked")
    assert leaks == []


def test_ledger_files_hide_token(runs: Runs) -> None:
    """The SQLite files' bytes, journal files included."""
    leaks = leaks_in_folder(runs.out / "state") + leaks_in_folder(runs.out / "state-revoked")
    assert leaks == []


def test_report_files_hide_token(runs: Runs) -> None:
    assert leaks_in_folder(runs.out / "report") == []


def test_sandbox_log_hides_token(runs: Runs) -> None:
    leaks = leaks_in_file(runs.out / "sandbox.log", "sandbox.log")
    leaks += leaks_in(runs.sandbox_stderr, "sandbox stderr")
    assert leaks == []


def test_sandbox_prints_token_only_to_copy(runs: Runs) -> None:
    """`ghl-fulfill sandbox` prints its token once, on purpose, for the user to export."""
    lines = runs.sandbox_stdout.decode().splitlines()
    shown = [line for line in lines if TOKEN[:PREFIX_LENGTH] in line]
    assert shown == [f"  export GHL_TOKEN={TOKEN}"]


def test_every_output_file_searched(runs: Runs) -> None:
    """The folders searched above hold every file the runs wrote."""
    searched = {"logs", "results", "exports", "watched", "watched-revoked", "state"}
    searched |= {"state-revoked", "report", "sandbox.log"}
    assert {path.name for path in runs.out.iterdir()} <= searched


# --- the search itself finds a leak -------------------------------------------------------


def test_search_finds_token_inside_workbook(tmp_path: Path) -> None:
    """A token in a compressed workbook member is found, though the file's bytes hide it."""
    workbook = tmp_path / "leak.xlsx"
    with zipfile.ZipFile(workbook, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/sharedStrings.xml", f"<si><t>Bearer {TOKEN}</t></si>")
    assert any(
        "member xl/sharedStrings.xml: the token " in leak
        for leak in leaks_in_file(workbook, "leak.xlsx")
    )


@pytest.mark.parametrize("shift", [0, 1, 2])
def test_search_finds_token_in_base64(shift: int) -> None:
    """A token inside base64 text (as in a Basic header) is found at each byte alignment."""
    encoded = base64.b64encode(b"u" * shift + f":{TOKEN}\n".encode())
    assert leaks_in(encoded, "header") != []


def test_search_finds_token_prefix() -> None:
    leaks = leaks_in(f"token={TOKEN[:PREFIX_LENGTH]}...".encode(), "line")
    assert leaks == [f"line: the token's first {PREFIX_LENGTH} characters (token 1) at byte 6"]
