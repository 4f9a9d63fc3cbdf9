from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from importer.cli import main
from importer.sandbox.faults import FaultPlan

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
    code = main(["import", str(MANUAL_SAMPLE), "--dry-run", "--template", "nope"])
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
            line.strip().removeprefix("export ").split("=", 1) for line in printed if "GHL_" in line
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


def test_log_file_under_a_file_is_config_error(tmp_path: Path) -> None:
    """A log file that cannot be created is a clear error, not a traceback."""
    (tmp_path / "not-a-folder").write_text("", encoding="utf-8")
    completed = run_cli(
        "import",
        str(MANUAL_SAMPLE),
        "--dry-run",
        "--log-file",
        str(tmp_path / "not-a-folder" / "run.log"),
        cwd=tmp_path,
    )
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr


def test_results_replacing_input_rejected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--results pointing at the input file would destroy it, so it is refused."""
    export = tmp_path / "export.csv"
    export.write_bytes(MANUAL_SAMPLE.read_bytes())
    code = main(["import", str(export), "--dry-run", "--results", str(export)])
    assert code == 2
    assert export.read_bytes() == MANUAL_SAMPLE.read_bytes()


def test_results_not_xlsx_rejected(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Results are .xlsx, .csv or .json files; another name is refused before anything runs."""
    code = main(["import", str(MANUAL_SAMPLE), "--dry-run", "--results", str(tmp_path / "out.txt")])
    assert code == 2
    assert "ending in .xlsx, .csv or .json" in capsys.readouterr().err


def test_results_in_missing_folder_rejected_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A results folder that does not exist is reported before anything is sent."""
    code = main(
        ["import", str(MANUAL_SAMPLE), "--sandbox", "--results", str(tmp_path / "no" / "r.xlsx")]
    )
    assert code == 2
    assert "does not exist" in capsys.readouterr().err


def test_same_file_twice_imported_once(tmp_path: Path) -> None:
    """A file named twice on the command line is imported once."""
    export = tmp_path / "export.csv"
    export.write_bytes(MANUAL_SAMPLE.read_bytes())
    completed = run_cli("import", "export.csv", "./export.csv", "--sandbox", cwd=tmp_path)
    assert completed.stdout.count("11 orders") == 1
    assert "imported once" in completed.stderr


def test_unreachable_api_stops_run(tmp_path: Path) -> None:
    """An API that refuses connections stops the run with one message and exit 3."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    (tmp_path / "ghl-fulfill.toml").write_text("timeout_seconds = 2\n", encoding="utf-8")
    completed = run_cli(
        "import",
        str(MANUAL_SAMPLE),
        "--results",
        str(tmp_path / "r.xlsx"),
        cwd=tmp_path,
        env={
            "GHL_BASE_URL": f"http://127.0.0.1:{closed_port}",
            "GHL_TOKEN": "unused-token",
            "GHL_LOCATION_ID": "Xk7pQ2mLw9RtY4vB8nZc",
        },
    )
    assert completed.returncode == 3
    assert "could not be reached" in completed.stderr
    assert "Traceback" not in completed.stderr
    assert (tmp_path / "r.xlsx").is_file()


def test_sigterm_writes_results(tmp_path: Path) -> None:
    """SIGTERM stops an import like Ctrl-C: exit 3 and the workbook is written."""
    rows = ["Order ID,Tracking Number"] + [
        f"{index:024x},1Z999AA1{index:010d}" for index in range(1, 400)
    ]
    export = tmp_path / "many.csv"
    export.write_text("\n".join(rows) + "\n", encoding="utf-8")
    environment = {key: value for key, value in os.environ.items() if not key.startswith("GHL_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "importer", "import", str(export), "--sandbox"],
        cwd=tmp_path,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    process.stderr.readline()  # the sandbox is up once it has said so
    process.stderr.readline()  # the order count: reading orders has begun
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 3
    assert "Traceback" not in stderr
    assert (tmp_path / "many.results.xlsx").is_file()


def test_sandbox_port_in_use_is_config_error(capsys: pytest.CaptureFixture[str]) -> None:
    """A port already taken is a clear error, not a traceback."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        code = main(["sandbox", "--port", str(taken.getsockname()[1])])
    assert code == 2
    assert "cannot listen on port" in capsys.readouterr().err


def test_sandbox_port_out_of_range_rejected() -> None:
    """A port number above 65535 is a usage error."""
    with pytest.raises(SystemExit) as raised:
        main(["sandbox", "--port", "99999"])
    assert raised.value.code == 2


@pytest.mark.parametrize(
    "option",
    [
        ["--delimiter", ";;"],
        ["--encoding", "klingon-8"],
        ["--header-row", "0"],
        ["--sheet", "0"],
    ],
)
def test_invalid_load_option_is_usage_error(option: list[str]) -> None:
    """A delimiter, encoding, header row or sheet that cannot be right stops at once."""
    with pytest.raises(SystemExit) as raised:
        main(["import", str(MANUAL_SAMPLE), "--dry-run", *option])
    assert raised.value.code == 2


def test_row_without_order_id_fails_run(tmp_path: Path) -> None:
    """A row with a tracking number but no order ID is named on the console and exits 1."""
    export = tmp_path / "export.csv"
    export.write_text(
        "Order ID,Tracking Number\n"
        "6afb2607207fe629c6a23c3a,1Z999AA10123456784\n"
        ",1Z999AA10123456785\n",
        encoding="utf-8",
    )
    completed = run_cli("import", str(export), "--dry-run", cwd=tmp_path)
    assert completed.returncode == 1
    assert "rejected row without an order ID: 3" in completed.stdout


# --- templates, --map and unsure matches ------------------------------------------------------

UNSURE_HEADERS = "Ordr ID,Trackng Number,Weight\n"
UNSURE_ROW = "65a1b2c3d4e5f60718293a4b,1Z999AA10123456784,2 lb\n"


def test_templates_lists_builtin(capsys: pytest.CaptureFixture[str]) -> None:
    """`templates` lists every built-in template with its confidence."""
    assert main(["templates"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert any(line.split()[:1] == ["ups_worldship"] for line in listed)


def test_templates_show_prints_headers(capsys: pytest.CaptureFixture[str]) -> None:
    """`templates show NAME` prints the header names read for each field."""
    assert main(["templates", "show", "generic"]) == 0
    assert "order_id (required)" in capsys.readouterr().out


def test_templates_show_without_name_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """`templates show` without a name says what to write."""
    assert main(["templates", "show"]) == 2
    assert "templates show generic" in capsys.readouterr().err


def test_templates_include_users_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A template in the folder named by templates_dir in the config is listed."""
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "warehouse.toml").write_text(
        'name = "our_warehouse"\ndescription = "Our own sheet"\n[fields]\n'
        'order_id = ["Ref"]\ntracking_number = ["Parcel"]\n',
        encoding="utf-8",
    )
    config = tmp_path / "ghl-fulfill.toml"
    config.write_text('templates_dir = "mine"\n', encoding="utf-8")

    assert main(["templates", "--config", str(config)]) == 0
    assert "our_warehouse" in capsys.readouterr().out


def test_unsure_match_stops_before_sending(tmp_path: Path) -> None:
    """A real run whose columns were matched by close names only stops with exit 2."""
    path = tmp_path / "unsure.csv"
    path.write_text(UNSURE_HEADERS + UNSURE_ROW, encoding="utf-8")
    completed = run_cli("import", str(path), "--sandbox", cwd=tmp_path)
    assert completed.returncode == 2
    assert "--map order_id=" in completed.stderr


def test_unsure_match_confirmed_with_map(tmp_path: Path) -> None:
    """The options the message proposes let the run go on."""
    path = tmp_path / "unsure.csv"
    path.write_text(UNSURE_HEADERS + UNSURE_ROW, encoding="utf-8")
    completed = run_cli(
        "import",
        str(path),
        "--dry-run",
        "--map",
        "order_id=Ordr ID",
        "--map",
        "tracking_number=Trackng Number",
        cwd=tmp_path,
    )
    assert completed.returncode == 0
    assert "1 ready" in completed.stdout


def test_unsure_match_dry_run_goes_on(tmp_path: Path) -> None:
    """A dry run shows the proposed mapping and checks the file anyway."""
    path = tmp_path / "unsure.csv"
    path.write_text(UNSURE_HEADERS + UNSURE_ROW, encoding="utf-8")
    completed = run_cli("import", str(path), "--dry-run", cwd=tmp_path)
    assert "a real run stops here until confirmed" in completed.stderr


def test_malformed_map_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """A --map option without "=" is a usage error with an example."""
    assert main(["import", str(MANUAL_SAMPLE), "--dry-run", "--map", "order_id"]) == 2
    assert '--map order_id="Order Number"' in capsys.readouterr().err


class _AgencyRun:
    """A sandbox in this process and an import of its synthetic export in a child process."""

    def __init__(self, tmp_path: Path, orders: int) -> None:
        from importer.sandbox import Sandbox
        from importer.sandbox.synthetic import (
            location_ids,
            synthetic_orders,
            synthetic_seed,
            write_export,
        )

        self.folder = tmp_path
        self.orders = synthetic_orders(location_ids(2), orders // 2)
        self.export = tmp_path / "agency.csv"
        write_export(self.export, self.orders)
        (tmp_path / "ghl-fulfill.toml").write_text(
            f'state_dir = "{tmp_path / "state"}"\nrate_limit_requests = 100000\n',
            encoding="utf-8",
        )
        self.sandbox = Sandbox(
            synthetic_seed(self.orders),
            tokens={"agency-token": None},
            max_requests=100_000,
            latency_seconds=0.03,
        ).start()

    def start(self) -> subprocess.Popen[str]:
        environment = {
            key: value for key, value in os.environ.items() if not key.startswith("GHL_")
        }
        environment.update(GHL_BASE_URL=self.sandbox.base_url, GHL_TOKEN="agency-token")
        return subprocess.Popen(
            [sys.executable, "-m", "importer", "import", str(self.export)],
            cwd=self.folder,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def interrupt(self, times: int, apart: float = 1.2) -> tuple[int, str, str]:
        """Start an import, press Ctrl-C `times` once it has sent a few orders; return its end.

        While the signals are sent, the sandbox answers slowly, so that the
        import is still finishing its requests when a later signal comes.
        """
        process = self.start()
        deadline = time.monotonic() + 60
        while len(self.sandbox.fulfillment_log()) < 10 and time.monotonic() < deadline:
            time.sleep(0.01)
        quick = self.sandbox.faults
        self.sandbox.set_faults(FaultPlan(latency_seconds=3.0))
        time.sleep(0.3)  # for the requests on their way to be slow ones
        for _ in range(times):
            process.send_signal(signal.SIGINT)
            time.sleep(apart)
        stdout, stderr = process.communicate(timeout=60)
        self.sandbox.set_faults(quick)
        return process.returncode, stdout, stderr

    def created_per_order(self) -> Counter[str]:
        return Counter(entry.order_id for entry in self.sandbox.fulfillment_log())


@pytest.mark.skipif(sys.platform == "win32", reason="sends POSIX signals")
def test_first_ctrl_c_defers_rest(tmp_path: Path) -> None:
    """Ctrl-C once: the orders on their way finish, the rest are deferred, exit 3."""
    agency = _AgencyRun(tmp_path, orders=400)
    try:
        code, stdout, stderr = agency.interrupt(times=1)
        created = len(agency.sandbox.fulfillment_log())
    finally:
        agency.sandbox.stop()

    assert code == 3
    assert f"{created} created" in stdout
    assert f"{400 - created} deferred" in stdout
    assert "Press Ctrl-C again" in stderr
    assert (tmp_path / "agency.results.xlsx").is_file()


@pytest.mark.skipif(sys.platform == "win32", reason="sends POSIX signals")
def test_signals_within_a_second_one_stop(tmp_path: Path) -> None:
    """A service manager and `uv run` may both send SIGTERM for one stop: it stays graceful."""
    agency = _AgencyRun(tmp_path, orders=400)
    try:
        code, _, stderr = agency.interrupt(times=2, apart=0.05)
    finally:
        agency.sandbox.stop()

    assert code == 3
    assert "Stopped at once" not in stderr
    assert (tmp_path / "agency.results.xlsx").is_file()


@pytest.mark.skipif(sys.platform == "win32", reason="sends POSIX signals")
def test_second_ctrl_c_exits_at_once(tmp_path: Path) -> None:
    """Ctrl-C twice quits on the spot; the next run sends what is missing and nothing twice."""
    agency = _AgencyRun(tmp_path, orders=400)
    try:
        code, _, stderr = agency.interrupt(times=2)
        rerun = agency.start()
        rerun.communicate(timeout=120)
        per_order = agency.created_per_order()
    finally:
        agency.sandbox.stop()

    assert code == 3
    assert "Stopped at once" in stderr
    assert rerun.returncode == 0
    assert len(per_order) == 400
    assert max(per_order.values()) == 1


def test_results_under_a_file_rejected(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A --results path whose folder is a file says so, not that the folder is missing."""
    (tmp_path / "in.csv").write_text("x\n", encoding="utf-8")
    code = main(
        [
            "import",
            str(MANUAL_SAMPLE),
            "--dry-run",
            "--results",
            str(tmp_path / "in.csv" / "r.xlsx"),
        ]
    )
    assert code == 2
    assert "is a file, not a folder" in capsys.readouterr().err


def test_memory_error_explained(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Running out of memory is explained as a file too large, not reported as a bug.

    The failure is planted, because really exhausting memory would harm the machine.
    """
    from importer import pipeline

    def exhausted(*args: object, **kwargs: object) -> None:
        raise MemoryError

    monkeypatch.setattr(pipeline, "load_table", exhausted)
    main(["import", str(MANUAL_SAMPLE), "--dry-run"])
    assert "ran out of memory" in capsys.readouterr().err
