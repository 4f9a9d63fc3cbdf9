"""Settings for a run, from the config file, the environment and the flags.

Precedence, lowest first: `ghl-fulfill.toml` in the working folder (or the
file named by --config), then GHL_TOKEN, GHL_LOCATION_ID and GHL_BASE_URL in
the environment, then command-line flags. An agency gives each location its
own token in a `[locations.<id>]` table of the file or in a
GHL_TOKEN_<location id> environment variable. Each setting remembers where it
came from, so that messages can say where to change it. The token's value
is never part of a message or of the settings' repr.
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from importer.client import DEFAULT_BASE_URL, Credential, RateLimit, RetryPolicy
from importer.errors import ConfigError
from importer.load import LoadOptions

CONFIG_FILE_NAME = "ghl-fulfill.toml"
DEFAULT_SOURCE = "the default"
SANDBOX_SOURCE = "the built-in sandbox"
_FILE_KEYS: dict[str, type | tuple[type, ...]] = {
    "token": str,
    "location_id": str,
    "base_url": str,
    "notify_customer": bool,
    "template": str,
    "concurrency": int,
    "timeout_seconds": (int, float),
    "max_file_mb": (int, float),
    "templates_dir": str,
    "strict_tracking": bool,
    "state_dir": str,
    "rate_limit_requests": int,
    "rate_limit_seconds": (int, float),
    "delimiter": str,
    "encoding": str,
    "sheet": (str, int),
    "header_row": int,
    "daily_reserve": int,
    "locations": dict,
}
_LOCATION_ID = re.compile(r"[A-Za-z0-9]{1,64}")
_TYPE_NAMES = {
    "token": "text in quotes",
    "location_id": "text in quotes",
    "base_url": "text in quotes",
    "notify_customer": "true or false",
    "template": "text in quotes",
    "concurrency": "a whole number",
    "timeout_seconds": "a number of seconds",
    "max_file_mb": "a number of megabytes",
    "templates_dir": "a folder path in quotes",
    "strict_tracking": "true or false",
    "state_dir": "a folder path in quotes",
    "rate_limit_requests": "a whole number",
    "rate_limit_seconds": "a number of seconds",
    "delimiter": "one character in quotes",
    "encoding": "an encoding name in quotes",
    "sheet": "a sheet name in quotes or a sheet number",
    "header_row": "a row number",
    "daily_reserve": "a whole number",
    "locations": "a table per location, like [locations.3SwdhCu3svxI8AKsPJt6]",
}
_LOCATION_KEYS = {"token"}
# Printable ASCII without spaces: what an HTTP header can carry as a bearer token.
_TOKEN = re.compile(r"[!-~]+")
_LOCATION_TOKEN_VARIABLE = "GHL_TOKEN_"
_ENVIRONMENT = {
    "GHL_TOKEN": "token",
    "GHL_LOCATION_ID": "location_id",
    "GHL_BASE_URL": "base_url",
    "GHL_STATE_DIR": "state_dir",
}


@dataclass(frozen=True, kw_only=True)
class Settings:
    """One run's settings; built once and passed down."""

    token: str = field(default="", repr=False)
    token_source: str = ""
    # Locations with a token of their own; the others use `token`.
    location_tokens: Mapping[str, Credential] = field(default_factory=dict, repr=False)
    location_id: str = ""
    location_source: str = ""
    base_url: str = DEFAULT_BASE_URL
    notify_customer: bool = False
    notify_source: str = DEFAULT_SOURCE
    template: str | None = None
    # --map FIELD=HEADER options: field -> header, "" to leave a field unread.
    column_map: Mapping[str, str] = field(default_factory=dict)
    templates_dir: Path | None = None  # the user's own column templates
    # Make a failed tracking-number check digit, or a carrier that the number
    # contradicts, an error instead of a warning.
    strict_tracking: bool = False
    # The folder of the ledger; None for the user's data folder.
    state_dir: Path | None = None
    # Send orders that the ledger or HighLevel shows fulfilled with the same tracking numbers.
    force: bool = False
    dry_run: bool = False
    # Orders worked on at once, per location.
    concurrency: int = 8
    # Requests of each location's daily limit that a run leaves for other tools.
    daily_reserve: int = 200
    timeout_seconds: float = 30.0
    rate_limit: RateLimit = field(default_factory=RateLimit)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    config_path: Path | None = None
    load_options: LoadOptions = field(default_factory=LoadOptions)

    @property
    def has_token(self) -> bool:
        return bool(self.token or self.location_tokens)

    @property
    def api_name(self) -> str:
        """What the messages call the API this run talks to."""
        return SANDBOX_SOURCE if self.token_source == SANDBOX_SOURCE else "HighLevel"

    @property
    def notify_description(self) -> str:
        state = "ON" if self.notify_customer else "OFF"
        return f"customer notification emails are {state} ({self.notify_source})"


def load_settings(
    *,
    config_path: Path | None,
    environ: Mapping[str, str],
    flags: Mapping[str, Any],
    cwd: Path,
) -> Settings:
    """Merge the config file, environment and flags (flags with value None are unset)."""
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}

    path = config_path or cwd / CONFIG_FILE_NAME
    if config_path is not None or path.is_file():
        for key, value in _read_config_file(path).items():
            values[key], sources[key] = value, f"{key} in {path}"

    for variable, key in _ENVIRONMENT.items():
        if environ.get(variable):
            values[key], sources[key] = (
                environ[variable].strip(),
                f"the {variable} environment variable",
            )
    if "state_dir" in values and sources["state_dir"].startswith("the GHL_"):
        # A folder in the environment is taken from the working folder, as in a shell.
        values["state_dir"] = cwd / Path(values["state_dir"]).expanduser()

    for key, value in flags.items():
        if value is not None:
            values[key], sources[key] = value, f"the --{key.replace('_', '-')} option"

    settings = Settings(
        token=values.get("token", "").strip(),
        token_source=sources.get("token", ""),
        location_tokens=_location_tokens(values.get("locations", {}), path, environ),
        location_id=values.get("location_id", ""),
        location_source=sources.get("location_id", ""),
        base_url=values.get("base_url", DEFAULT_BASE_URL).rstrip("/"),
        notify_customer=values.get("notify_customer", False),
        notify_source=sources.get("notify_customer", DEFAULT_SOURCE),
        template=values.get("template"),
        column_map=dict(values.get("column_map", {})),
        templates_dir=_templates_dir(values, path),
        strict_tracking=bool(values.get("strict_tracking", False)),
        state_dir=_folder(values.get("state_dir"), path),
        force=bool(values.get("force", False)),
        dry_run=bool(values.get("dry_run", False)),
        concurrency=values.get("concurrency", 8),
        daily_reserve=values.get("daily_reserve", 200),
        timeout_seconds=float(values.get("timeout_seconds", 30.0)),
        rate_limit=RateLimit(
            max_requests=values.get("rate_limit_requests", RateLimit.max_requests),
            interval_seconds=float(values.get("rate_limit_seconds", RateLimit.interval_seconds)),
        ),
        config_path=path if path.is_file() else None,
        load_options=_load_options(values, sources),
    )
    check_base_url(values.get("base_url", DEFAULT_BASE_URL), sources.get("base_url", "the default"))
    _check_token(settings.token, settings.token_source)
    for credential in settings.location_tokens.values():
        _check_token(credential.token, credential.source)
    _check_location(settings)
    _check_limits(settings, sources)
    return settings


def require_credentials(settings: Settings, *, dry_run_hint: bool = True) -> None:
    """Stop with a one-line message when no token is set.

    The location can come from a column of the file, so it is checked once
    the file's columns are known (see `require_location`).
    """
    if not settings.has_token:
        hint = " (or use --dry-run to check a file without sending)" if dry_run_hint else ""
        raise ConfigError(
            'No HighLevel token is set: set the GHL_TOKEN environment variable or token = "..." '
            f"in {CONFIG_FILE_NAME}{hint}."
        )


def require_location(settings: Settings, path: Path) -> None:
    """Stop when neither the settings nor a column of the file give the location."""
    if not settings.location_id:
        raise ConfigError(
            f"{path}: no location (sub-account) ID is set and the file has no location ID "
            "column: use --location-id, the GHL_LOCATION_ID environment variable or "
            f'location_id = "..." in {CONFIG_FILE_NAME}.'
        )


def _location_tokens(
    table: Mapping[str, Any], path: Path, environ: Mapping[str, str]
) -> dict[str, Credential]:
    """Read each location's own token: the config file's tables, then the environment."""
    tokens: dict[str, Credential] = {}
    for location_id, entry in table.items():
        _check_location_entry(location_id, entry, path)
        if entry.get("token"):
            source = f"[locations.{location_id}] in {path}"
            tokens[location_id] = Credential(entry["token"].strip(), source)

    for variable, value in environ.items():
        if not variable.startswith(_LOCATION_TOKEN_VARIABLE) or not value.strip():
            continue
        location_id = variable.removeprefix(_LOCATION_TOKEN_VARIABLE)
        if not _LOCATION_ID.fullmatch(location_id):
            raise ConfigError(
                f"The environment variable {variable} does not end in a location ID: name it "
                f"{_LOCATION_TOKEN_VARIABLE} followed by the location ID, letters and digits only."
            )
        tokens[location_id] = Credential(value.strip(), f"the {variable} environment variable")
    return tokens


def _check_token(token: str, source: str) -> None:
    """Reject a token that cannot be one, such as a pasted one with curly quotes or spaces."""
    if token and not _TOKEN.fullmatch(token):
        raise ConfigError(
            f"The token from {source} contains characters a token cannot have (such as "
            "spaces, line breaks, curly quotes or accented letters). Copy it again from "
            "HighLevel, as plain text."
        )


def _check_location_entry(location_id: str, entry: object, path: Path) -> None:
    if not _LOCATION_ID.fullmatch(location_id):
        raise ConfigError(
            f"{path}: [locations.{location_id}] does not name a location ID; a HighLevel "
            "location ID has only letters and digits, like 3SwdhCu3svxI8AKsPJt6."
        )
    if not isinstance(entry, dict):
        raise ConfigError(
            f"{path}: locations.{location_id} must be a table with a token, like "
            f'[locations.{location_id}] followed by token = "...".'
        )
    unknown = sorted(set(entry) - _LOCATION_KEYS)
    if unknown:
        raise ConfigError(
            f"{path}: [locations.{location_id}] has the unknown setting {unknown[0]!r}; "
            "a location's table takes only token."
        )
    if not isinstance(entry.get("token", ""), str):
        raise ConfigError(f"{path}: the token of [locations.{location_id}] must be text in quotes.")


def check_base_url(url: str, source: str) -> None:
    """Allow HTTPS, and plain HTTP only to this machine (the sandbox)."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        raise ConfigError(
            f"The API address from {source} must not contain a user name or password."
        )
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and _is_loopback(parts.hostname or ""):
        return
    raise ConfigError(
        f"The API address {url!r} from {source} is not allowed: use https://, "
        "or http:// only for 127.0.0.1 or localhost (the sandbox)."
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _templates_dir(values: Mapping[str, Any], config_path: Path) -> Path | None:
    """Return the user's template folder; a relative path is taken from the config file's folder."""
    return _folder(values.get("templates_dir"), config_path)


def _folder(folder: object, config_path: Path) -> Path | None:
    """Read a folder setting; text from the config file is relative to the file's folder."""
    if not folder:
        return None
    if isinstance(folder, Path):
        return folder
    return config_path.parent / Path(str(folder)).expanduser()


def _read_config_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError as error:
        raise ConfigError(f"The config file {path} does not exist.") from error
    except OSError as error:
        raise ConfigError(f"The config file {path} could not be read: {error.strerror}.") from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"The config file {path} is not valid TOML: {error}.") from error

    unknown = [key for key in data if key not in _FILE_KEYS]
    if unknown:
        known = ", ".join(sorted(_FILE_KEYS))
        names = ", ".join(repr(key) for key in unknown)
        label = "setting" if len(unknown) == 1 else "settings"
        raise ConfigError(f"{path}: unknown {label} {names}; the settings are: {known}.")

    for key, value in data.items():
        expected = _FILE_KEYS[key]
        if not isinstance(value, expected) or (expected is not bool and isinstance(value, bool)):
            raise ConfigError(f"{path}: the setting {key!r} must be {_TYPE_NAMES[key]}.")
    return data


def _load_options(values: dict[str, Any], sources: dict[str, str]) -> LoadOptions:
    max_file_mb = values.get("max_file_mb", 200)
    if not 0 < max_file_mb <= 100_000:
        raise ConfigError(
            f"max_file_mb (from {sources['max_file_mb']}) must be more than 0 and at most 100000."
        )
    return LoadOptions(
        delimiter=values.get("delimiter"),
        encoding=values.get("encoding"),
        sheet=values.get("sheet"),
        header_row=values.get("header_row"),
        max_file_bytes=int(max_file_mb * 1024 * 1024),
    )


def _check_location(settings: Settings) -> None:
    if settings.location_id and not _LOCATION_ID.fullmatch(settings.location_id):
        raise ConfigError(
            f"The location ID from {settings.location_source} is not valid: a HighLevel "
            "location ID has only letters and digits, like 3SwdhCu3svxI8AKsPJt6."
        )


def _check_limits(settings: Settings, sources: dict[str, str]) -> None:
    limit = settings.rate_limit
    if not (1 <= limit.max_requests <= 100_000 and 0 < limit.interval_seconds <= 3600):
        raise ConfigError(
            "rate_limit_requests must be from 1 to 100000 and rate_limit_seconds more than 0 "
            "and at most 3600 (HighLevel allows 100 requests in 10 seconds)."
        )
    if not 0 <= settings.daily_reserve <= 100_000:
        raise ConfigError(
            f"daily_reserve (from {sources['daily_reserve']}) must be from 0 to 100000: "
            "HighLevel allows 200000 requests a day."
        )
    if not 1 <= settings.concurrency <= 100:
        raise ConfigError(f"concurrency (from {sources['concurrency']}) must be between 1 and 100.")
    if not 0 < settings.timeout_seconds <= 600:
        raise ConfigError(
            f"timeout_seconds (from {sources['timeout_seconds']}) must be more than 0 "
            "and at most 600."
        )
