"""The one settings object, read once: CLI flag > NEWSDESK_* environment > newsdesk.toml > default.

This is the only module that reads the environment.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from flows.fetch_options import FetchOptions
from flows.languages import DEFAULT_MODEL, DEFAULT_NLP_MODELS, to_models
from transforms.errors import ConfigError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

CONFIG_FILE = "newsdesk.toml"
# The one default of `workers` (processes for the CPU stages): the settings' and the flow's.
DEFAULT_WORKERS = max(1, min(os.cpu_count() or 1, 8))
# Prefect's settings for every newsdesk process, set before Prefect is imported; the user's own values win.
# The ones a bare `prefect server start` needs too are in prefect.toml (tests/flows/test_settings.py keeps them equal).
PREFECT_DEFAULTS = {
    # The ephemeral API server can take over 20 s to start on a fresh home here: its start-up time-out is raised.
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
}
PREFECT_LOGGING_DEFAULTS = {
    "PREFECT_LOGGING_LEVEL": "WARNING",
    # ... but the flow's and tasks' own INFO lines (one per stage and batch) reach the server, for the
    # UI's Logs tab; the terminal keeps warnings only. Other libraries' loggers never reach the API.
    "PREFECT_LOGGING_LOGGERS_PREFECT_FLOW_RUNS_LEVEL": "INFO",
    "PREFECT_LOGGING_LOGGERS_PREFECT_TASK_RUNS_LEVEL": "INFO",
    "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "WARNING",
}


class ScheduleConfig(BaseModel):
    cron: str = "0 * * * *"
    timezone: str = "UTC"
    name: str = "hourly"
    groups: list[str] = Field(default_factory=list)  # source groups this deployment ingests; empty = all


class NlpConfig(BaseModel):
    """`[nlp]`: which spaCy pipeline each language goes through (ISO 639-1 -> installed pipeline name)."""

    models: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_NLP_MODELS))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSDESK_", toml_file=CONFIG_FILE, extra="ignore")

    seeds: Path | None = Path("seeds")
    # a DuckDB file, or a DuckLake catalog: "ducklake:postgres:dbname=newsdesk host=..." (data under <lake>/ducklake/)
    warehouse: Path | str = Path("warehouse/newsdesk.duckdb")
    lake: str = ""  # a folder or an fsspec URL (s3://bucket/prefix); empty: next to the warehouse (lake_next_to)
    raw: Path = Path("warehouse/raw")
    spacy_model: str = DEFAULT_MODEL
    batch_size: int = Field(default=64, ge=1)
    workers: int = Field(default=DEFAULT_WORKERS, ge=1)
    dask_address: str | None = None
    s3_endpoint_url: str | None = None
    lock_timeout_s: float = Field(default=60.0, gt=0)
    document_budget_s: float = Field(default=300.0, gt=0)  # seconds one document may take; over it: too_slow
    sources: list[dict[str, Any]] = Field(default_factory=list)
    fetch: FetchOptions = Field(default_factory=FetchOptions)  # fields: see flows/fetch_options.py
    schedules: list[ScheduleConfig] = Field(default_factory=list)
    nlp: NlpConfig = Field(default_factory=NlpConfig)

    def nlp_models(self) -> dict[str, str]:
        """Language -> pipeline; `spacy_model` (--model, NEWSDESK_SPACY_MODEL) names the English one when given."""
        models = to_models(self.nlp.models)
        if "spacy_model" in self.model_fields_set or "en" not in self.nlp.models:
            models["en"] = self.spacy_model
        return models

    @field_validator("warehouse", mode="before")
    @classmethod
    def _file_or_catalog(cls, value: Any) -> Any:
        """A DuckLake catalog stays a string (`ducklake:...`); anything else is the DuckDB file's path."""
        if isinstance(value, str) and not value.startswith("ducklake:"):
            return Path(value)
        return value

    @model_validator(mode="after")
    def _lake_next_to_warehouse(self) -> "Settings":
        if not self.lake:
            self.lake = lake_next_to(self.warehouse)
        return self
    # A run fails when more than this share of its inputs is rejected (what was good is still loaded).
    max_reject_rate: float = 0.5
    # `newsdesk serve` after downtime: the Late runs it still starts (the latest ones); older ones are cancelled.
    catch_up: int = 1
    # `newsdesk run` without PREFECT_API_URL: "auto" uses the local server of prefect.toml when it answers,
    # "in-process" always starts Prefect's in-process API.
    prefect_server: str = "auto"

    def storage_options(self) -> dict[str, Any]:
        """fsspec options for an object-storage lake (credentials come from the usual AWS variables)."""
        if self.s3_endpoint_url and self.lake.startswith("s3://"):
            return {"client_kwargs": {"endpoint_url": self.s3_endpoint_url}}
        return {}

    def warc_storage_options(self) -> dict[str, Any]:
        """fsspec options for WARC sources on S3-compatible storage (kind = "warc", s3:// URLs)."""
        return {"client_kwargs": {"endpoint_url": self.s3_endpoint_url}} if self.s3_endpoint_url else {}

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))


def lake_next_to(warehouse: Path | str) -> str:
    """The default lake of a warehouse: `lake/` beside the default warehouse, `<name>.lake/` beside any other,
    so that two warehouses never share (and sweep) one lake by default. A DuckLake catalog's data go
    under `warehouse/lake/ducklake/` unless `lake` says otherwise."""
    if isinstance(warehouse, str):
        if warehouse.startswith("ducklake:"):
            return "warehouse/lake"
        warehouse = Path(warehouse)
    if warehouse == Path("warehouse/newsdesk.duckdb"):
        return "warehouse/lake"
    return str(warehouse.parent / f"{warehouse.stem}.lake")
def _closest(key: str, valid: list[str]) -> str:
    import difflib

    match = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
    return f"did you mean {match[0]!r}?" if match else f"valid keys: {', '.join(sorted(valid))}"


def unknown_keys(data: dict[str, Any], where: str) -> list[str]:
    """One line per key of a newsdesk.toml document (parsed) that no setting reads, with the closest valid key."""
    import dataclasses

    tables: list[tuple[str, Any, list[str]]] = [("", data, list(Settings.model_fields))]
    if isinstance(data.get("fetch"), dict):
        tables.append(("[fetch]", data["fetch"], [f.name for f in dataclasses.fields(FetchOptions)]))
    models: dict[str, type[BaseModel]] = {}
    if data.get("sources"):  # the fetching stack, imported only for a configuration that has sources
        from flows.sources import SourceConfig

        models["sources"] = SourceConfig
    models["schedules"] = ScheduleConfig
    for name, model in models.items():
        for i, entry in enumerate(data.get(name) or []):
            if isinstance(entry, dict):
                label = f"[[{name}]] {entry['name']!r}" if isinstance(entry.get("name"), str) else f"[[{name}]] #{i + 1}"
                tables.append((label, entry, list(model.model_fields)))
    lines = []
    for label, table, valid in tables:
        for key in table:
            if key not in valid:
                lines.append(f"unknown key {key!r}{' in ' + label if label else ''} of {where}; {_closest(key, valid)}")
    return lines


def unknown_environment(environ: dict[str, str]) -> list[str]:
    """One line per NEWSDESK_* variable that names no setting, with the closest valid one."""
    valid = [f"NEWSDESK_{name.upper()}" for name in Settings.model_fields]
    return [f"unknown environment variable {name}; {_closest(name, valid)}"
            for name in sorted(environ) if name.upper().startswith("NEWSDESK_") and name.upper() not in valid]


def check_unknown_settings(config: Path | None = None, environ: dict[str, str] | None = None) -> None:
    """Raise ConfigError listing every unknown key of newsdesk.toml and every unknown NEWSDESK_* variable.

    A typo never silently changes behaviour (`crn` in a schedule used to register the default cron).
    """
    import tomllib

    path = config or Path(CONFIG_FILE)
    problems = unknown_environment(dict(os.environ) if environ is None else environ)
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
            raise ConfigError(f"cannot read {path}: {err}") from None
        problems = unknown_keys(data, str(path)) + problems
    if problems:
        raise ConfigError("\nnewsdesk: ".join(problems))


def load_settings(config: Path | None = None, **overrides: Any) -> Settings:
    """Read settings once; `overrides` are CLI flags (None means 'not given')."""
    given = {key: value for key, value in overrides.items() if value is not None}
    if config is None or config.exists():
        check_unknown_settings(config)
    try:
        if config is not None:
            if not config.exists():
                raise ConfigError(f"config file {config} does not exist")

            class _FromFile(Settings):
                model_config = SettingsConfigDict(env_prefix="NEWSDESK_", toml_file=config, extra="ignore")

            return _FromFile(**given)
        return Settings(**given)
    except ValidationError as err:
        from flows.config_checks import validation_lines

        raise ConfigError("\n".join(validation_lines(err))) from None
    except (OSError, ValueError) as err:
        if isinstance(err, ConfigError):
            raise
        raise ConfigError(f"cannot read {config or CONFIG_FILE}: {err}") from None


def configure_prefect_environment(logging: bool = True) -> None:
    """PREFECT_DEFAULTS (and, with `logging`, PREFECT_LOGGING_DEFAULTS) set where the user has not set them."""
    for name, value in {**PREFECT_DEFAULTS, **(PREFECT_LOGGING_DEFAULTS if logging else {})}.items():
        os.environ.setdefault(name, value)


def prefect_api_url() -> str | None:
    return os.environ.get("PREFECT_API_URL")


def local_server_address(prefect_toml: Path = Path("prefect.toml")) -> str:
    """The API URL of the local server as configured: PREFECT_SERVER_API_HOST/PORT > prefect.toml > 127.0.0.1:4200."""
    import tomllib

    api: dict[str, Any] = {}
    try:
        api = tomllib.loads(prefect_toml.read_text(encoding="utf-8")).get("server", {}).get("api", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        pass
    host = os.environ.get("PREFECT_SERVER_API_HOST") or str(api.get("host", "127.0.0.1"))
    port = os.environ.get("PREFECT_SERVER_API_PORT") or str(api.get("port", 4200))
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    return f"http://{host}:{port}/api"
