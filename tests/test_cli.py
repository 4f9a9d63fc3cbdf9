from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from importer.cli import main

PROJECT = Path(__file__).resolve().parents[1]
MANUAL_SAMPLE = PROJECT / "sample_data" / "manual_fulfillments.csv"


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("GHL_")}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "importer", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_results_with_two_files_rejected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--results names one workbook, so it cannot serve two input files."""
    code = main(["import", "a.csv", "b.csv", "--results", "r.xlsx", "--dry-run"])
    assert code == 2
    assert "--results can only be used with one input file" in capsys.readouterr().err


def test_unknown_template_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown template name is a usage error listing the templates."""
    code = main(
        ["import", str(MANUAL_SAMPLE), "--dry-run", "--template", "nope", "--results", os.devnull]
    )
    assert code == 2
    assert "generic" in capsys.readouterr().err


def test_dry_run_without_token_reports_ready(tmp_path: Path) -> None:
    """A dry run needs no token: valid orders are listed as ready and nothing is sent."""
    results = tmp_path / "out.xlsx"
    completed = run_cli(
        "import", str(MANUAL_SAMPLE), "--dry-run", "--results", str(results), cwd=tmp_path
    )
    assert completed.returncode == 0
    assert "11 ready" in completed.stdout
    assert results.is_file()


def test_notify_setting_stated_before_sending(tmp_path: Path) -> None:
    """Every run states whether customers get an email, with the setting's source."""
    completed = run_cli(
        "import",
        str(MANUAL_SAMPLE),
        "--dry-run",
        "--notify-customer",
        "--results",
        str(tmp_path / "r.xlsx"),
        cwd=tmp_path,
    )
    assert "customer notification emails are ON (the --notify-customer option)" in completed.stderr


def test_sandbox_command_serves_imports(tmp_path: Path) -> None:
    """`ghl-fulfill sandbox` prints its settings, serves an import, and stops on SIGTERM."""
    server = subprocess.Popen(
        [sys.executable, "-m", "importer", "sandbox", "--token", "harness-token"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        printed = [server.stdout.readline() for _ in range(5)]
        variables = dict(
            line.strip().split("=", 1) for line in printed if line.strip().startswith("GHL_")
        )
        completed = run_cli(
            "import",
            str(MANUAL_SAMPLE),
            "--results",
            str(tmp_path / "r.xlsx"),
            cwd=tmp_path,
            env=variables,
        )
        assert "10 created" in completed.stdout
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)
        if server.stdout is not None:
            server.stdout.close()
    assert server.returncode == 0


def test_bad_seed_is_config_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A seed file that is not valid JSON is a configuration error naming the file."""
    seed = tmp_path / "seed.json"
    seed.write_text("{not json", encoding="utf-8")
    code = main(["sandbox", "--seed", str(seed)])
    assert code == 2
    assert "seed.json" in capsys.readouterr().err


def test_log_file_in_missing_folder_is_config_error(tmp_path: Path) -> None:
    """A log file that cannot be created is a clear error, not a traceback."""
    completed = run_cli(
        "import",
        str(MANUAL_SAMPLE),
        "--dry-run",
        "--log-file",
        str(tmp_path / "no" / "run.log"),
        cwd=tmp_path,
    )
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr
