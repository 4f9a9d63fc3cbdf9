from __future__ import annotations

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
        "http://services.leadconnectorhq.com",
        "ftp://example.com",
        "https://user:pw@example.com",
        "http://10.0.0.5",
    ],
)
def test_unsafe_base_url_rejected(url: str) -> None:
    """Plain HTTP to another machine, other schemes and credentials in the URL are refused."""
    with pytest.raises(ConfigError):
        check_base_url(url, "a test")


@pytest.mark.parametrize(
    "url", ["https://services.leadconnectorhq.com", "http://127.0.0.1:8080", "http://localhost:1"]
)
def test_safe_base_url_accepted(url: str) -> None:
    """HTTPS anywhere and HTTP to loopback are accepted."""
    check_base_url(url, "a test")


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
