"""Settings for a run, from the config file, the environment and the flags.

Precedence, lowest first: `ghl-fulfill.toml` in the working folder (or the
file named by --config), then GHL_TOKEN, GHL_TOKEN_FILE, GHL_LOCATION_ID,
GHL_BASE_URL and GHL_STATE_DIR in the environment, then command-line flags.
An agency gives each location its own token in a `[locations.<id>]` table of
the file or in a GHL_TOKEN_<location id> environment variable, which wins.
Each setting remembers where it came from, so that messages can say where to
change it.

The token is given as text (token, GHL_TOKEN) or as a token file whose first
line is the token (token_file, GHL_TOKEN_FILE, --token-file). The two forms
are one setting: a higher level's token file replaces a lower level's token
and the other way round, so the environment still beats the config file.
Both forms on one level are rejected, because either choice could send a
token the user did not mean. A token file is read only when its level wins.

The token's value is never part of a message or of the settings' repr. A
config file that contains a token, and a token file, draw a warning when
other users may read or change them (POSIX permissions only).
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import shlex
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from importer.client import DEFAULT_BASE_URL, Credential, RateLimit, RetryPolicy
from importer.errors import ConfigError
from importer.load import LoadOptions

logger = logging.getLogger("importer.config")

CONFIG_FILE_NAME = "ghl-fulfill.toml"
DEFAULT_SOURCE = "the default"
SANDBOX_SOURCE = "the built-in sandbox"
_FILE_KEYS: dict[str, type | tuple[type, ...]] = {
    "token": str,
    "token_file": str,
    "location_id": str,
    "base_url": str,
    "notify_customer": bool,
    "template": str,
    "concurrency": int,
    "timeout_seconds": (int, float),
    "max_file_mb": (int, float),
    "max_uncompressed_mb": (int, float),
    "max_compression_ratio": int,
    "max_rows": int,
    "max_columns": int,
    "max_cell_characters": int,
    "max_sheet_cells": int,
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
    "token_file": "a file path in quotes",
    "location_id": "text in quotes",
    "base_url": "text in quotes",
    "notify_customer": "true or false",
    "template": "text in quotes",
    "concurrency": "a whole number",
    "timeout_seconds": "a number of seconds",
    "max_file_mb": "a number of megabytes",
    "max_uncompressed_mb": "a number of megabytes",
    "max_compression_ratio": "a whole number",
    "max_rows": "a whole number",
    "max_columns": "a whole number",
    "max_cell_characters": "a whole number",
    "max_sheet_cells": "a whole number",
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
_LOCATION_KEYS = {"token", "token_file"}
# Printable ASCII without spaces: what an HTTP header can carry as a bearer token.
_TOKEN = re.compile(r"[!-~]+")
_LOCATION_TOKEN_VARIABLE = "GHL_TOKEN_"
_TOKEN_FILE_VARIABLE = "GHL_TOKEN_FILE"
_ENVIRONMENT = {
    "GHL_TOKEN": "token",
    _TOKEN_FILE_VARIABLE: "token_file",
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
    # Files that contain a token, each checked once for permissions that other users pass.
    secret_files: dict[Path, str] = {}

    path = config_path or cwd / CONFIG_FILE_NAME
    if config_path is not None or path.is_file():
        _apply_level(values, sources, _file_level(path, secret_files))
    _apply_level(values, sources, _environment_level(environ, cwd))
    _apply_level(values, sources, _flag_level(flags, cwd))

    token, token_source = _default_token(values, sources, secret_files)
    settings = Settings(
        token=token,
        token_source=token_source,
        location_tokens=_location_tokens(values.get("locations", {}), path, environ, secret_files),
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
    for secret_file, kind in secret_files.items():
        warn_if_shared(secret_file, kind)
    return settings


# A level of settings: setting -> (value, where it came from).
_Level = dict[str, tuple[Any, str]]


def _file_level(path: Path, secret_files: dict[Path, str]) -> _Level:
    """Read the config file's settings; a token file's path is taken from the file's folder."""
    data = _read_config_file(path)
    _check_one_token_form(data, f"{path}: both token and token_file are set")
    if _contains_token(data):
        secret_files.setdefault(path, "config file")
    else:
        _warn_if_group_writable(path)
    if "token_file" in data:
        data["token_file"] = path.parent / Path(data["token_file"]).expanduser()
    return {key: (value, f"{key} in {path}") for key, value in data.items()}


def _environment_level(environ: Mapping[str, str], cwd: Path) -> _Level:
    """Read the GHL_ variables that set one setting each (not the per-location tokens)."""
    level: _Level = {
        key: (environ[variable].strip(), f"the {variable} environment variable")
        for variable, key in _ENVIRONMENT.items()
        if environ.get(variable, "").strip()
    }
    _check_one_token_form(
        level, f"Both GHL_TOKEN and {_TOKEN_FILE_VARIABLE} are set in the environment"
    )
    # A path in the environment is taken from the working folder, as in a shell.
    for key in ("state_dir", "token_file"):
        if key in level:
            text, source = level[key]
            level[key] = (cwd / Path(text).expanduser(), source)
    return level


def _flag_level(flags: Mapping[str, Any], cwd: Path) -> _Level:
    level: _Level = {}
    for key, value in flags.items():
        if value is None:
            continue
        if key == "token_file":
            value = cwd / value
        level[key] = (value, f"the --{key.replace('_', '-')} option")
    return level


# The token's two forms: a level that sets one replaces the other set by a lower level.
_RIVAL_TOKEN_KEYS = {"token": "token_file", "token_file": "token"}


def _apply_level(values: dict[str, Any], sources: dict[str, str], level: _Level) -> None:
    """Lay one level's settings over the lower levels' (value, source) pairs."""
    for key, (value, source) in level.items():
        rival = _RIVAL_TOKEN_KEYS.get(key)
        if rival is not None:
            values.pop(rival, None)
            sources.pop(rival, None)
        values[key], sources[key] = value, source


def _check_one_token_form(level: Mapping[str, object], problem: str) -> None:
    """Reject a level that gives a token both as text and as a file; `problem` names the level."""
    if "token" in level and "token_file" in level:
        raise ConfigError(f"{problem}. Keep one of them, so that it is clear which token is sent.")


def _contains_token(data: Mapping[str, Any]) -> bool:
    """Tell whether a config file's settings contain a token's text (not a token file's path)."""
    if data.get("token"):
        return True
    tables = data.get("locations", {})
    return any(isinstance(entry, dict) and entry.get("token") for entry in tables.values())


def _default_token(
    values: Mapping[str, Any], sources: Mapping[str, str], secret_files: dict[Path, str]
) -> tuple[str, str]:
    """Return the run's default token and where it came from: text, or a token file's first line."""
    if "token_file" in values:
        token_file = values["token_file"]
        source = f"the token file {token_file} (from {sources['token_file']})"
        secret_files.setdefault(token_file, "token file")
        return read_token_file(token_file, sources["token_file"]), source
    return values.get("token", "").strip(), sources.get("token", "")


def require_credentials(settings: Settings, *, dry_run_hint: bool = True) -> None:
    """Stop with a one-line message when no token is set.

    The location can come from a column of the file, so it is checked once
    the file's columns are known (see `require_location`).
    """
    if not settings.has_token:
        hint = " (or use --dry-run to check a file without sending)" if dry_run_hint else ""
        raise ConfigError(
            "No HighLevel token is set: set the GHL_TOKEN environment variable, or "
            f'token = "..." or token_file = "PATH" in {CONFIG_FILE_NAME}{hint}.'
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
    table: Mapping[str, Any],
    path: Path,
    environ: Mapping[str, str],
    secret_files: dict[Path, str],
) -> dict[str, Credential]:
    """Read each location's own token: the environment's, else the config file's table.

    A location's token file is read only when no GHL_TOKEN_<location> replaces it.
    """
    tokens = _environment_location_tokens(environ)
    for location_id, entry in table.items():
        _check_location_entry(location_id, entry, path)
        if location_id in tokens:
            continue
        source = f"[locations.{location_id}] in {path}"
        if entry.get("token_file"):
            token_file = path.parent / Path(entry["token_file"]).expanduser()
            secret_files.setdefault(token_file, "token file")
            token = read_token_file(token_file, f"token_file of {source}")
            tokens[location_id] = Credential(
                token, f"the token file {token_file} (from token_file of {source})"
            )
        elif entry.get("token"):
            tokens[location_id] = Credential(entry["token"].strip(), source)
    return tokens


def _environment_location_tokens(environ: Mapping[str, str]) -> dict[str, Credential]:
    """Read the GHL_TOKEN_<location id> variables."""
    tokens: dict[str, Credential] = {}
    for variable, value in environ.items():
        if not variable.startswith(_LOCATION_TOKEN_VARIABLE) or not value.strip():
            continue
        # GHL_TOKEN_FILE names the default token's file; no location ID is "FILE".
        if variable == _TOKEN_FILE_VARIABLE:
            continue
        location_id = variable.removeprefix(_LOCATION_TOKEN_VARIABLE)
        if not _LOCATION_ID.fullmatch(location_id):
            raise ConfigError(
                f"The environment variable {variable} does not end in a location ID: name it "
                f"{_LOCATION_TOKEN_VARIABLE} followed by the location ID, letters and digits only."
            )
        tokens[location_id] = Credential(value.strip(), f"the {variable} environment variable")
    return tokens


def read_token_file(path: Path, named_by: str) -> str:
    """Return the token on the first line of a token file, without its line ending.

    `named_by` is the setting that names the file, for messages. Raises
    ConfigError naming the file, and never its content, when the file is
    missing, not a regular file, unreadable, too large, not text or empty.
    A symbolic link is followed: secret stores often link the file into place.
    """
    where = f"The token file {path} (from {named_by})"
    try:
        status = path.stat()
    except FileNotFoundError:
        raise ConfigError(f"{where} does not exist. Check the path, or create the file.") from None
    except OSError as error:
        raise ConfigError(f"{where} could not be read ({error.strerror}).") from None
    # A FIFO or a device would block or never end, so only a regular file is opened.
    if not stat.S_ISREG(status.st_mode):
        raise ConfigError(f"{where} is not a file. Name the file that contains the token.")
    check_not_world_writable(path, "token file")
    try:
        with path.open("rb") as handle:
            data = handle.read(_TOKEN_FILE_MAX_BYTES + 1)
    except OSError as error:
        raise ConfigError(
            f"{where} could not be read ({error.strerror}). Check that the user running "
            "ghl-fulfill may read it."
        ) from None
    return _token_from_bytes(data, where)


# A token is a few hundred characters at most; a larger file is the wrong file.
_TOKEN_FILE_MAX_BYTES = 64 * 1024


def _token_from_bytes(data: bytes, where: str) -> str:
    """Return the first line of a token file's bytes, stripped; the messages never quote them."""
    if len(data) > _TOKEN_FILE_MAX_BYTES:
        raise ConfigError(
            f"{where} is larger than {_TOKEN_FILE_MAX_BYTES // 1024} KB, too large for a token "
            "file. It should contain only the token, on its first line."
        )
    try:
        # utf-8-sig drops the byte order mark that Windows Notepad may write.
        text: str | None = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = None
    if text is None or "\0" in text:
        raise ConfigError(
            f"{where} is not a text file. It should contain only the token, as plain text on "
            "its first line."
        )
    lines = text.splitlines()
    token = lines[0].strip() if lines else ""
    if not token:
        raise ConfigError(f"{where} is empty. Put the token on its first line.")
    return token


# Read or write permission for the file's group or for all other users.
_SHARED_BITS = stat.S_IRGRP | stat.S_IWGRP | stat.S_IROTH | stat.S_IWOTH


def warn_if_shared(path: Path, kind: str) -> None:
    """Warn when a file that contains a token may be read or changed by other users.

    Only POSIX permission bits are checked, so Windows is skipped; access
    control lists and the folders above the file are not checked either.
    """
    if os.name == "nt":
        return
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return
    if not mode & _SHARED_BITS:
        return
    logger.warning(
        "The %s %s contains a HighLevel token and other users may read or change it "
        "(permissions %04o). Make it private with: chmod 600 %s",
        kind,
        path,
        mode,
        shlex.quote(str(path)),
        extra={"fields": {"event": "token_file_shared", "file": str(path), "mode": f"{mode:04o}"}},
    )


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
            "a location's table takes only token or token_file."
        )
    for key in ("token", "token_file"):
        if not isinstance(entry.get(key, ""), str):
            raise ConfigError(
                f"{path}: the {key} of [locations.{location_id}] must be text in quotes."
            )
    _check_one_token_form(
        entry, f"{path}: [locations.{location_id}] sets both token and token_file"
    )


def check_base_url(url: str, source: str) -> None:
    """Allow HTTPS, and plain HTTP only to this machine (the sandbox).

    The address is parsed as httpx parses it, because httpx is what connects.
    Text that parsers read differently (spaces, line breaks, backslashes, an
    @ sign) is rejected before parsing. Only the names that are loopback on
    their own count as this machine: localhost, 127.0.0.0/8 and ::1, so
    0x7f000001 or 2130706433 (which some resolvers map to 127.0.0.1) are
    rejected. NOTE: localhost is trusted to be this machine as RFC 6761 asks,
    although a hosts file could map it elsewhere.
    """
    where = f"The API address from {source}"
    # An @ sign is checked first so that a password is never repeated in a message.
    if "@" in url:
        raise ConfigError(
            f"{where} must not contain a user name or password (it contains an @ sign). "
            "The token is sent in a header, never in the address."
        )
    if any(char.isspace() or not char.isprintable() for char in url):
        raise ConfigError(
            f"{where} contains a space, tab, line break or other invisible character; "
            f"remove it. The address read was {url!r}."
        )
    if "\\" in url:
        raise ConfigError(f"{where} contains a backslash; use / in web addresses ({url!r}).")
    try:
        parsed = httpx.URL(url)
        # The host is decoded on access, which checks an IDNA name such as xn--bcher-kva.
        parsed.host  # noqa: B018
    except (httpx.InvalidURL, ValueError):
        raise ConfigError(
            f"{where} is not a valid web address ({url!r}). Write it like {DEFAULT_BASE_URL}."
        ) from None
    if parsed.query or parsed.fragment or "?" in url or "#" in url:
        raise ConfigError(f"{where} must not contain ? or # ({url!r}); give the address alone.")
    if parsed.port is not None and not 1 <= parsed.port <= 65535:
        raise ConfigError(f"{where} has the port {parsed.port}; a port is from 1 to 65535.")
    if parsed.scheme == "https" and parsed.host:
        return
    if parsed.scheme == "http" and _is_loopback(parsed.host):
        return
    raise ConfigError(
        f"The API address {url!r} from {source} is not allowed: use https://, "
        "or http:// only for 127.0.0.1, [::1] or localhost (the sandbox)."
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
    content = _config_bytes(path)
    try:
        data = tomllib.loads(content.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        raise ConfigError(
            f"The config file {path} is not text (UTF-8); name the TOML settings file."
        ) from error
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


# A settings file is a few kilobytes; a larger file is the wrong file.
_CONFIG_MAX_BYTES = 1024 * 1024


def _config_bytes(path: Path) -> bytes:
    """Read a config file that is a regular file, of a sane size, that not every user may change."""
    try:
        status = path.stat()
    except FileNotFoundError as error:
        raise ConfigError(f"The config file {path} does not exist.") from error
    except OSError as error:
        raise ConfigError(f"The config file {path} could not be read: {error.strerror}.") from error
    # A FIFO or a device would block or never end, so only a regular file is opened.
    if not stat.S_ISREG(status.st_mode):
        raise ConfigError(f"The config file {path} is not a file; name the TOML settings file.")
    if status.st_size > _CONFIG_MAX_BYTES:
        raise ConfigError(
            f"The config file {path} is larger than 1 MB, too large for a settings file; "
            "name the TOML settings file."
        )
    check_not_world_writable(path, "config file")
    try:
        with path.open("rb") as handle:
            return handle.read(_CONFIG_MAX_BYTES + 1)
    except OSError as error:
        raise ConfigError(f"The config file {path} could not be read: {error.strerror}.") from error


def check_not_world_writable(path: Path, kind: str) -> None:
    """Refuse a file that every user may change: they could send the token elsewhere.

    Only POSIX permission bits are checked, so Windows is skipped.
    """
    mode = _posix_mode(path)
    if mode is not None and mode & stat.S_IWOTH:
        raise ConfigError(
            f"The {kind} {path} may be changed by every user of this computer (permissions "
            f"{mode:04o}), so its settings cannot be trusted: they could send the token "
            f"elsewhere. Make it private with: chmod 600 {shlex.quote(str(path))}"
        )


def _warn_if_group_writable(path: Path) -> None:
    """Warn about a config file without a token that other users of its group may change."""
    mode = _posix_mode(path)
    if mode is None or not mode & stat.S_IWGRP:
        return
    logger.warning(
        "The config file %s may be changed by other users of its group (permissions %04o), "
        "who could change where the token is sent. Make it private with: chmod 600 %s",
        path,
        mode,
        shlex.quote(str(path)),
        extra={"fields": {"event": "config_file_shared", "file": str(path), "mode": f"{mode:04o}"}},
    )


def _posix_mode(path: Path) -> int | None:
    if os.name == "nt":
        return None
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None


# Each load limit's setting: its default, its largest allowed value and how the
# value becomes a LoadOptions field. The largest values are a spreadsheet's own
# limits where one exists.
_LOAD_LIMITS: dict[str, tuple[float, float, str, int]] = {
    # setting: (default, largest, LoadOptions field, factor to the field's unit)
    "max_file_mb": (200, 100_000, "max_file_bytes", 1024 * 1024),
    "max_uncompressed_mb": (1024, 1_000_000, "max_uncompressed_bytes", 1024 * 1024),
    "max_compression_ratio": (100, 100_000, "max_compression_ratio", 1),
    "max_rows": (1_000_000, 1_048_575, "max_rows", 1),
    "max_columns": (1_000, 16_384, "max_columns", 1),
    "max_cell_characters": (32_767, 100_000_000, "max_cell_characters", 1),
    "max_sheet_cells": (20_000_000, 17_179_869_184, "max_sheet_cells", 1),
}


def _load_options(values: dict[str, Any], sources: dict[str, str]) -> LoadOptions:
    limits = {}
    for setting, (default, largest, option, factor) in _LOAD_LIMITS.items():
        value = values.get(setting, default)
        if not 0 < value <= largest:
            raise ConfigError(
                f"{setting} (from {sources[setting]}) must be more than 0 "
                f"and at most {largest:.0f}."
            )
        limits[option] = int(value * factor)
    return LoadOptions(
        delimiter=values.get("delimiter"),
        encoding=values.get("encoding"),
        sheet=values.get("sheet"),
        header_row=values.get("header_row"),
        **limits,
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
