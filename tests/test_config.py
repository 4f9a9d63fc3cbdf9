from __future__ import annotations

import os
from pathlib import Path

import pytest

from importer.config import (
    Settings,
    check_base_url,
    load_settings,
    require_credentials,
    require_location,
)
from importer.errors import ConfigError

TOKEN = "pit-0d6f3c1e-secret-value"


def settings_from(
    tmp_path: Path, config: str = "", environ: dict[str, str] | None = None, **flags: object
) -> Settings:
    if config:
        (tmp_path / "ghl-fulfill.toml").write_text(config, encoding="utf-8")
    return load_settings(config_path=None, environ=environ or {}, flags=flags, cwd=tmp_path)


def test_config_file_read(tmp_path: Path) -> None:
    """Settings in ghl-fulfill.toml in the working folder are used."""
    settings = settings_from(
        tmp_path, 'location_id = "LocFromFile000000000"\nnotify_customer = true\n'
    )
    assert settings.location_id == "LocFromFile000000000"
    assert settings.notify_customer is True


def test_environment_beats_file(tmp_path: Path) -> None:
    """GHL_LOCATION_ID overrides the config file."""
    settings = settings_from(
        tmp_path,
        'location_id = "LocFromFile000000000"\n',
        {"GHL_LOCATION_ID": "LocFromEnv0000000000"},
    )
    assert settings.location_id == "LocFromEnv0000000000"
    assert settings.location_source == "the GHL_LOCATION_ID environment variable"


def test_flag_beats_environment(tmp_path: Path) -> None:
    """A flag overrides the environment and names itself as the source."""
    settings = settings_from(
        tmp_path,
        environ={"GHL_LOCATION_ID": "LocFromEnv0000000000"},
        location_id="LocFromFlag000000000",
    )
    assert settings.location_id == "LocFromFlag000000000"
    assert settings.location_source == "the --location-id option"


def test_unset_flag_ignored(tmp_path: Path) -> None:
    """A flag left at None does not hide the file's value."""
    settings = settings_from(tmp_path, "notify_customer = true\n", notify_customer=None)
    assert settings.notify_customer is True


def test_notify_default_off_and_stated(tmp_path: Path) -> None:
    """Notification emails are off unless asked for, and the description says so."""
    settings = settings_from(tmp_path)
    assert "emails are OFF (the default" in settings.notify_description


def test_unknown_setting_rejected(tmp_path: Path) -> None:
    """A misspelt setting is an error, not silently ignored."""
    with pytest.raises(ConfigError, match="unknown setting 'notify_customers'"):
        settings_from(tmp_path, "notify_customers = true\n")


def test_wrong_type_rejected_without_value(tmp_path: Path) -> None:
    """A token of the wrong type is reported without printing it."""
    with pytest.raises(ConfigError) as raised:
        settings_from(tmp_path, "token = 12345678\n")
    assert "12345678" not in str(raised.value)


def test_invalid_toml_rejected(tmp_path: Path) -> None:
    """A broken config file names the file."""
    with pytest.raises(ConfigError, match="is not valid TOML"):
        settings_from(tmp_path, "token = \n")


def test_missing_config_file_named(tmp_path: Path) -> None:
    """--config with a file that does not exist is an error."""
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(config_path=tmp_path / "nope.toml", environ={}, flags={}, cwd=tmp_path)


def test_token_not_in_repr(tmp_path: Path) -> None:
    """The settings' repr never shows the token."""
    settings = settings_from(tmp_path, environ={"GHL_TOKEN": TOKEN})
    assert TOKEN not in repr(settings)


def test_missing_token_message_names_variable(tmp_path: Path) -> None:
    """Without a token, the message says where to set one."""
    with pytest.raises(ConfigError, match="GHL_TOKEN"):
        require_credentials(settings_from(tmp_path))


def test_missing_location_message_names_option(tmp_path: Path) -> None:
    """Without a location, the message names the option and the variable."""
    settings = settings_from(tmp_path, environ={"GHL_TOKEN": TOKEN})
    with pytest.raises(ConfigError, match="--location-id"):
        require_location(settings, tmp_path / "export.csv")


def test_location_token_alone_is_enough(tmp_path: Path) -> None:
    """A token for one location, with no default token, lets a run start."""
    settings = settings_from(tmp_path, environ={"GHL_TOKEN_LocA0000000000000000": TOKEN})
    require_credentials(settings)
    assert settings.has_token


def test_location_token_read_from_config_table(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, f'[locations.LocA0000000000000000]\ntoken = "{TOKEN}"\n')
    assert settings.location_tokens["LocA0000000000000000"].token == TOKEN


def test_location_token_source_names_table(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, f'[locations.LocA0000000000000000]\ntoken = "{TOKEN}"\n')
    assert (
        "[locations.LocA0000000000000000]"
        in settings.location_tokens["LocA0000000000000000"].source
    )


def test_location_token_from_environment_wins(tmp_path: Path) -> None:
    """GHL_TOKEN_<location> overrides the config file's table, like GHL_TOKEN does."""
    settings = settings_from(
        tmp_path,
        '[locations.LocA0000000000000000]\ntoken = "from-file"\n',
        environ={"GHL_TOKEN_LocA0000000000000000": "from-env"},
    )
    assert settings.location_tokens["LocA0000000000000000"].token == "from-env"


def test_location_tokens_not_in_repr(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, environ={"GHL_TOKEN_LocA0000000000000000": TOKEN})
    assert TOKEN not in repr(settings)


def test_location_table_with_bad_id_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not name a location ID"):
        settings_from(tmp_path, '[locations."Loc-A"]\ntoken = "x"\n')


def test_location_table_unknown_key_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown setting 'tokn'"):
        settings_from(tmp_path, '[locations.LocA0000000000000000]\ntokn = "x"\n')


def test_location_token_variable_with_bad_id_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="GHL_TOKEN_Loc-A"):
        settings_from(tmp_path, environ={"GHL_TOKEN_Loc-A": TOKEN})


def test_daily_reserve_negative_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="daily_reserve"):
        settings_from(tmp_path, "daily_reserve = -1\n")


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("http://services.leadconnectorhq.com", id="plain-http-elsewhere"),
        pytest.param("http://10.0.0.5", id="plain-http-private-address"),
        pytest.param("http://127.0.0.1.evil.example", id="loopback-address-as-subdomain"),
        pytest.param("http://localhost.evil", id="localhost-as-subdomain"),
        pytest.param("http://localhost.", id="localhost-with-trailing-dot"),
        pytest.param("http://0x7f000001", id="loopback-in-hex"),
        pytest.param("http://2130706433", id="loopback-as-integer"),
        pytest.param("http://127.1", id="loopback-shortened"),
        pytest.param("http://[::ffff:127.0.0.1]", id="ipv4-mapped-loopback"),
        pytest.param("http://%6cocalhost", id="percent-encoded-localhost"),
        pytest.param("http://localhost\u3002", id="localhost-with-ideographic-dot"),
        pytest.param("https://", id="https-without-host"),
        pytest.param("https://:443", id="https-with-port-only"),
        pytest.param("https:services.leadconnectorhq.com", id="https-without-slashes"),
        pytest.param("http:///localhost", id="three-slashes"),
        pytest.param("https://user:pw@example.com", id="user-and-password"),
        pytest.param("https://example.com@", id="trailing-at-sign"),
        pytest.param("http://@localhost:1", id="empty-user-name"),
        pytest.param("http://127.0.0.1@", id="loopback-as-user-name"),
        pytest.param("http://localhost@evil.example", id="localhost-as-user-name"),
        pytest.param("https://xn--zz.example", id="invalid-idna-label"),
        pytest.param("https://\u2168.example", id="idna-disallowed-character"),
        pytest.param("http://local\nhost:8080", id="newline-inside-host"),
        pytest.param("https://services.leadconnectorhq.com\n", id="trailing-newline"),
        pytest.param(" https://services.leadconnectorhq.com", id="leading-space"),
        pytest.param("https://exa mple.com", id="space-inside-host"),
        pytest.param("https://\u00a0example.com", id="non-breaking-space"),
        pytest.param("https://example.com\t/v1", id="tab"),
        pytest.param("http://localhost\\.evil.example", id="backslash"),
        pytest.param("http://localhost:99999", id="port-above-65535"),
        pytest.param("http://localhost:0", id="port-zero"),
        pytest.param("http://localhost:abc", id="port-not-a-number"),
        pytest.param("https://example.com/?next=1", id="query"),
        pytest.param("https://example.com#services.leadconnectorhq.com", id="fragment"),
        pytest.param("ftp://example.com", id="ftp"),
        pytest.param("file:///etc/passwd", id="file"),
        pytest.param("FILE:///etc/passwd", id="file-upper-case"),
        pytest.param("services.leadconnectorhq.com", id="no-scheme"),
    ],
)
def test_unsafe_base_url_rejected(url: str) -> None:
    """Plain HTTP to another machine, other schemes, credentials and ambiguous text are rejected."""
    with pytest.raises(ConfigError, match="API address"):
        check_base_url(url, "a test")


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("https://services.leadconnectorhq.com", id="highlevel"),
        pytest.param("https://example.com/v1/", id="https-with-path"),
        pytest.param("http://127.0.0.1:8080", id="loopback-address"),
        pytest.param("http://127.0.0.2:8080", id="other-loopback-address"),
        pytest.param("http://localhost:1", id="localhost"),
        pytest.param("http://[::1]:8080", id="ipv6-loopback"),
        pytest.param("HTTPS://SERVICES.LEADCONNECTORHQ.COM", id="upper-case-https"),
        pytest.param("HTTP://LOCALHOST:8080", id="upper-case-http-localhost"),
        pytest.param("https://b\u00fccher.example", id="idna-unicode-host"),
        pytest.param("https://xn--bcher-kva.example", id="idna-ascii-host"),
    ],
)
def test_safe_base_url_accepted(url: str) -> None:
    """HTTPS anywhere and HTTP to loopback are accepted."""
    check_base_url(url, "a test")


def test_base_url_password_not_in_message() -> None:
    with pytest.raises(ConfigError) as raised:
        check_base_url("https://clerk:s3cret-pass@example.com", "a test")
    assert "s3cret-pass" not in str(raised.value)


def test_base_url_from_config_with_newline_rejected(tmp_path: Path) -> None:
    """The config file's value is checked as written, so a line break is an error."""
    with pytest.raises(ConfigError, match="line break"):
        settings_from(tmp_path, 'base_url = "http://127.0.0.1:8080\\n"\n')


def test_base_url_from_environment_trimmed(tmp_path: Path) -> None:
    """A line break around GHL_BASE_URL, as `export` from a file may leave, is trimmed."""
    settings = settings_from(tmp_path, environ={"GHL_BASE_URL": " http://127.0.0.1:8080/\n"})
    assert settings.base_url == "http://127.0.0.1:8080"


def test_default_base_url_is_highlevel(tmp_path: Path) -> None:
    """Without any setting, requests go to HighLevel's API."""
    assert settings_from(tmp_path).base_url == "https://services.leadconnectorhq.com"


def test_load_flags_become_load_options(tmp_path: Path) -> None:
    """The loader's flags reach the loader through the settings."""
    settings = settings_from(tmp_path, delimiter=";", encoding="cp1252", sheet=2, header_row=3)
    options = settings.load_options
    assert (options.delimiter, options.encoding, options.sheet, options.header_row) == (
        ";",
        "cp1252",
        2,
        3,
    )


def test_max_file_size_from_config(tmp_path: Path) -> None:
    """max_file_mb in the config file sets the loader's size limit in bytes."""
    settings = settings_from(tmp_path, "max_file_mb = 1.5\n")
    assert settings.load_options.max_file_bytes == 1_572_864


def test_max_file_size_out_of_range_rejected(tmp_path: Path) -> None:
    """A size limit of zero is an error naming the setting's source."""
    with pytest.raises(ConfigError, match="max_file_mb"):
        settings_from(tmp_path, "max_file_mb = 0\n")


def test_state_dir_from_config_is_beside_it(tmp_path: Path) -> None:
    """A relative state_dir in the config file is taken from the file's folder."""
    settings = settings_from(tmp_path, 'state_dir = "state"\n')
    assert settings.state_dir == tmp_path / "state"


def test_state_dir_from_environment(tmp_path: Path) -> None:
    """GHL_STATE_DIR names the ledger's folder, relative to the working folder."""
    settings = settings_from(tmp_path, environ={"GHL_STATE_DIR": "ledger"})
    assert settings.state_dir == tmp_path / "ledger"


def test_rate_limit_read(tmp_path: Path) -> None:
    """rate_limit_requests and rate_limit_seconds set the client's pace."""
    settings = settings_from(tmp_path, "rate_limit_requests = 500\nrate_limit_seconds = 1\n")
    assert settings.rate_limit.max_requests == 500
    assert settings.rate_limit.interval_seconds == 1.0


def test_rate_limit_zero_rejected(tmp_path: Path) -> None:
    """A rate limit of no requests is a configuration error."""
    with pytest.raises(ConfigError):
        settings_from(tmp_path, "rate_limit_requests = 0\n")


def test_token_with_curly_quotes_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="characters a token cannot have"):
        settings_from(tmp_path, environ={"GHL_TOKEN": "\u201cpit-abc\u201d"})


def test_location_token_with_space_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[locations.LocA0000000000000000\]"):
        settings_from(tmp_path, '[locations.LocA0000000000000000]\ntoken = "pit abc"\n')


def test_daily_reserve_above_half_day_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="200000 requests a day"):
        settings_from(tmp_path, "daily_reserve = 250000\n")


# --- token files -----------------------------------------------------------------------------

FILE_TOKEN = "pit-7a1c9e44-from-token-file"
LOCATION_A = "LocA0000000000000000"
posix_only = pytest.mark.skipif(os.name == "nt", reason="POSIX permission bits")


def write_private(path: Path, data: str | bytes, mode: int = 0o600) -> Path:
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    path.chmod(mode)
    return path


def test_token_file_relative_to_config(tmp_path: Path) -> None:
    """A relative token_file is taken from the config file's folder, not the working folder."""
    (tmp_path / "conf").mkdir()
    write_private(tmp_path / "conf" / "token.txt", FILE_TOKEN + "\n")
    (tmp_path / "conf" / "ghl-fulfill.toml").write_text('token_file = "token.txt"\n')
    settings = load_settings(
        config_path=tmp_path / "conf" / "ghl-fulfill.toml", environ={}, flags={}, cwd=tmp_path
    )
    assert settings.token == FILE_TOKEN


def test_token_file_source_names_file_and_setting(tmp_path: Path) -> None:
    token_file = write_private(tmp_path / "token.txt", FILE_TOKEN)
    settings = settings_from(tmp_path, 'token_file = "token.txt"\n')
    assert str(token_file) in settings.token_source
    assert "token_file in" in settings.token_source


def test_token_file_first_line_only(tmp_path: Path) -> None:
    """The token is the first line, without its Windows line ending; later lines are ignored."""
    write_private(tmp_path / "token.txt", f"{FILE_TOKEN}\r\nrotated 2026-12-01\r\n")
    assert settings_from(tmp_path, 'token_file = "token.txt"\n').token == FILE_TOKEN


def test_token_file_byte_order_mark_dropped(tmp_path: Path) -> None:
    """Windows Notepad may start a UTF-8 file with a byte order mark."""
    write_private(tmp_path / "token.txt", b"\xef\xbb\xbf" + FILE_TOKEN.encode())
    assert settings_from(tmp_path, 'token_file = "token.txt"\n').token == FILE_TOKEN


def test_token_file_from_environment(tmp_path: Path) -> None:
    """GHL_TOKEN_FILE is taken from the working folder."""
    write_private(tmp_path / "token.txt", FILE_TOKEN)
    settings = settings_from(tmp_path, environ={"GHL_TOKEN_FILE": "token.txt"})
    assert settings.token == FILE_TOKEN


def test_token_file_variable_not_location_token(tmp_path: Path) -> None:
    """GHL_TOKEN_FILE is not the token of a location named FILE."""
    write_private(tmp_path / "token.txt", FILE_TOKEN)
    settings = settings_from(tmp_path, environ={"GHL_TOKEN_FILE": "token.txt"})
    assert "FILE" not in settings.location_tokens


def test_token_file_from_option(tmp_path: Path) -> None:
    write_private(tmp_path / "token.txt", FILE_TOKEN)
    settings = settings_from(tmp_path, token_file=Path("token.txt"))
    assert settings.token == FILE_TOKEN
    assert settings.token_source.endswith("(from the --token-file option)")


def test_environment_token_beats_config_token_file(tmp_path: Path) -> None:
    """GHL_TOKEN beats the config file in either form, and the token file is not even read."""
    settings = settings_from(
        tmp_path, 'token_file = "missing.txt"\n', environ={"GHL_TOKEN": "pit-from-env"}
    )
    assert settings.token == "pit-from-env"


def test_environment_token_file_beats_config_token(tmp_path: Path) -> None:
    write_private(tmp_path / "token.txt", FILE_TOKEN)
    settings = settings_from(
        tmp_path, 'token = "pit-from-config"\n', environ={"GHL_TOKEN_FILE": "token.txt"}
    )
    assert settings.token == FILE_TOKEN


def test_token_file_option_beats_environment_token(tmp_path: Path) -> None:
    write_private(tmp_path / "token.txt", FILE_TOKEN)
    settings = settings_from(
        tmp_path, environ={"GHL_TOKEN": "pit-from-env"}, token_file=tmp_path / "token.txt"
    )
    assert settings.token == FILE_TOKEN


def test_config_token_and_token_file_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="both token and token_file"):
        settings_from(tmp_path, f'token = "{TOKEN}"\ntoken_file = "token.txt"\n')


def test_environment_token_and_token_file_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Both GHL_TOKEN and GHL_TOKEN_FILE"):
        settings_from(tmp_path, environ={"GHL_TOKEN": TOKEN, "GHL_TOKEN_FILE": "token.txt"})


def test_location_token_file_read(tmp_path: Path) -> None:
    write_private(tmp_path / "a.token", FILE_TOKEN + "\n")
    settings = settings_from(tmp_path, f'[locations.{LOCATION_A}]\ntoken_file = "a.token"\n')
    assert settings.location_tokens[LOCATION_A].token == FILE_TOKEN


def test_location_token_file_source_names_table(tmp_path: Path) -> None:
    write_private(tmp_path / "a.token", FILE_TOKEN)
    settings = settings_from(tmp_path, f'[locations.{LOCATION_A}]\ntoken_file = "a.token"\n')
    assert f"[locations.{LOCATION_A}]" in settings.location_tokens[LOCATION_A].source


def test_location_environment_token_beats_table_token_file(tmp_path: Path) -> None:
    """GHL_TOKEN_<location> wins, and the table's token file is not read."""
    settings = settings_from(
        tmp_path,
        f'[locations.{LOCATION_A}]\ntoken_file = "missing.token"\n',
        environ={f"GHL_TOKEN_{LOCATION_A}": "pit-from-env"},
    )
    assert settings.location_tokens[LOCATION_A].token == "pit-from-env"


def test_location_token_and_token_file_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="sets both token and token_file"):
        settings_from(tmp_path, f'[locations.{LOCATION_A}]\ntoken = "x"\ntoken_file = "a.token"\n')


def test_location_token_file_not_text_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="token_file of"):
        settings_from(tmp_path, f"[locations.{LOCATION_A}]\ntoken_file = 5\n")


def test_missing_token_file_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist") as raised:
        settings_from(tmp_path, 'token_file = "missing.txt"\n')
    assert str(tmp_path / "missing.txt") in str(raised.value)


def test_missing_location_token_file_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist") as raised:
        settings_from(tmp_path, f'[locations.{LOCATION_A}]\ntoken_file = "missing.token"\n')
    assert str(tmp_path / "missing.token") in str(raised.value)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        pytest.param(b"", "is empty", id="empty"),
        pytest.param(b"\n\nsecond-line-token\n", "is empty", id="blank-first-line"),
        pytest.param(b"   \t\n", "is empty", id="spaces-only"),
        pytest.param(b"pit-\x00\x01\x02-binary", "is not a text file", id="nul-bytes"),
        pytest.param(b"pit-\xff\xfe-latin", "is not a text file", id="invalid-utf8"),
        pytest.param(b"pit-" + b"a" * 70_000, "too large", id="too-large"),
        pytest.param(b"pit abc with spaces", "characters a token cannot have", id="spaces"),
    ],
)
def test_bad_token_file_named_without_content(tmp_path: Path, content: bytes, problem: str) -> None:
    """A token file that cannot hold a token is an error naming the file, never its content."""
    write_private(tmp_path / "token.txt", content)
    with pytest.raises(ConfigError, match=problem) as raised:
        settings_from(tmp_path, 'token_file = "token.txt"\n')
    message = str(raised.value)
    assert str(tmp_path / "token.txt") in message
    assert "pit" not in message


def test_token_file_that_is_folder_rejected(tmp_path: Path) -> None:
    (tmp_path / "token.txt").mkdir()
    with pytest.raises(ConfigError, match="is not a file"):
        settings_from(tmp_path, 'token_file = "token.txt"\n')


def test_token_file_under_a_file_rejected(tmp_path: Path) -> None:
    """A path that cannot be opened for another reason than absence names the reason."""
    write_private(tmp_path / "secrets", "not a folder")
    with pytest.raises(ConfigError, match="could not be read"):
        settings_from(tmp_path, 'token_file = "secrets/token.txt"\n')


@posix_only
@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads any file")
def test_unreadable_token_file_rejected(tmp_path: Path) -> None:
    write_private(tmp_path / "token.txt", FILE_TOKEN, mode=0o000)
    with pytest.raises(ConfigError, match="could not be read") as raised:
        settings_from(tmp_path, 'token_file = "token.txt"\n')
    assert FILE_TOKEN not in str(raised.value)


def test_token_file_link_followed(tmp_path: Path) -> None:
    """Secret stores link the token file into place, so a link to it is read."""
    write_private(tmp_path / "stored.txt", FILE_TOKEN)
    (tmp_path / "token.txt").symlink_to(tmp_path / "stored.txt")
    assert settings_from(tmp_path, 'token_file = "token.txt"\n').token == FILE_TOKEN


def test_token_file_not_in_repr(tmp_path: Path) -> None:
    write_private(tmp_path / "token.txt", FILE_TOKEN)
    settings = settings_from(tmp_path, 'token_file = "token.txt"\n')
    assert FILE_TOKEN not in repr(settings)


# --- permissions of files that contain a token -----------------------------------------------


def shared_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "importer.config" and "chmod 600" in record.getMessage()
    ]


@posix_only
def test_shared_config_with_token_warned(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    config = write_private(tmp_path / "ghl-fulfill.toml", f'token = "{TOKEN}"\n', mode=0o644)
    settings_from(tmp_path)
    assert shared_warnings(caplog) == [
        f"The config file {config} contains a HighLevel token and other users may read or "
        f"change it (permissions 0644). Make it private with: chmod 600 {config}"
    ]


@posix_only
def test_shared_config_warning_hides_token(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write_private(tmp_path / "ghl-fulfill.toml", f'token = "{TOKEN}"\n', mode=0o644)
    settings_from(tmp_path)
    assert TOKEN not in caplog.text


@posix_only
def test_shared_config_warning_quotes_path(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The chmod command can be pasted into a shell even when the path has a space."""
    (tmp_path / "my settings").mkdir()
    config = write_private(
        tmp_path / "my settings" / "ghl.toml", f'token = "{TOKEN}"\n', mode=0o640
    )
    load_settings(config_path=config, environ={}, flags={}, cwd=tmp_path)
    assert shared_warnings(caplog)[0].endswith(f"chmod 600 '{config}'")


@posix_only
def test_group_writable_config_with_location_token_warned(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write_private(
        tmp_path / "ghl-fulfill.toml", f'[locations.{LOCATION_A}]\ntoken = "{TOKEN}"\n', 0o620
    )
    settings_from(tmp_path)
    assert len(shared_warnings(caplog)) == 1


@posix_only
def test_private_config_with_token_not_warned(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write_private(tmp_path / "ghl-fulfill.toml", f'token = "{TOKEN}"\n', mode=0o600)
    settings_from(tmp_path)
    assert shared_warnings(caplog) == []


@posix_only
def test_shared_config_without_token_not_warned(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A config file with only a token file's path gives nothing away."""
    write_private(tmp_path / "token.txt", FILE_TOKEN)
    write_private(tmp_path / "ghl-fulfill.toml", 'token_file = "token.txt"\n', mode=0o644)
    settings_from(tmp_path)
    assert shared_warnings(caplog) == []


@posix_only
def test_shared_token_file_warned(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    token_file = write_private(tmp_path / "token.txt", FILE_TOKEN, mode=0o604)
    settings_from(tmp_path, environ={"GHL_TOKEN_FILE": "token.txt"})
    assert shared_warnings(caplog) == [
        f"The token file {token_file} contains a HighLevel token and other users may read or "
        f"change it (permissions 0604). Make it private with: chmod 600 {token_file}"
    ]


@posix_only
def test_private_token_file_not_warned(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    write_private(tmp_path / "token.txt", FILE_TOKEN, mode=0o400)
    settings_from(tmp_path, environ={"GHL_TOKEN_FILE": "token.txt"})
    assert shared_warnings(caplog) == []


@posix_only
def test_shared_token_file_warned_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Two settings naming one shared file draw one warning."""
    write_private(tmp_path / "token.txt", FILE_TOKEN, mode=0o644)
    settings_from(
        tmp_path,
        f'token_file = "token.txt"\n[locations.{LOCATION_A}]\ntoken_file = "token.txt"\n',
    )
    assert len(shared_warnings(caplog)) == 1


@posix_only
def test_world_writable_config_rejected(tmp_path: Path) -> None:
    """A config file every user may change could send the token anywhere, so it is refused."""
    write_private(tmp_path / "ghl-fulfill.toml", 'base_url = "https://example.com"\n', 0o666)
    with pytest.raises(ConfigError, match="may be changed by every user"):
        settings_from(tmp_path)


@posix_only
def test_world_writable_token_file_rejected(tmp_path: Path) -> None:
    token_file = write_private(tmp_path / "token.txt", f"{TOKEN}\n", 0o602)
    with pytest.raises(ConfigError, match="chmod 600"):
        settings_from(tmp_path, token_file=token_file)


@posix_only
def test_group_writable_config_without_token_warned(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write_private(tmp_path / "ghl-fulfill.toml", 'base_url = "https://example.com"\n', 0o664)
    settings_from(tmp_path)
    assert len(shared_warnings(caplog)) == 1


@posix_only
def test_config_fifo_rejected(tmp_path: Path) -> None:
    """A named pipe as the config file would block for ever, so it is refused before opening."""
    fifo = tmp_path / "settings.toml"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match="is not a file"):
        load_settings(config_path=fifo, environ={}, flags={}, cwd=tmp_path)


def test_binary_config_rejected(tmp_path: Path) -> None:
    binary = write_private(tmp_path / "settings.toml", b"MZ\x90\x00\xff\xfe\x00")
    with pytest.raises(ConfigError, match="is not text"):
        load_settings(config_path=binary, environ={}, flags={}, cwd=tmp_path)


def test_huge_config_rejected(tmp_path: Path) -> None:
    huge = write_private(tmp_path / "settings.toml", "# x\n" * 300_000)
    with pytest.raises(ConfigError, match="larger than 1 MB"):
        load_settings(config_path=huge, environ={}, flags={}, cwd=tmp_path)
