"""Settings: one class, read from the environment, with safe local defaults."""

from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    """Every setting the service reads; each one is documented in docs/deploy.md."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    database_url: str = Field(
        default=f"sqlite:///{PROJECT_ROOT / 'timeline.db'}",
        description="SQLAlchemy URL: sqlite:///path or postgresql://user@host/db.",
    )
    auto_migrate: bool = Field(
        default=True, description="Upgrade the schema to the latest migration on start."
    )
    auto_seed: bool = Field(
        default=True, description="Load the curated dataset on start when the database is empty."
    )
    articles_dir: Path = Field(
        default=PROJECT_ROOT.parent / "shared" / "seeds" / "articles",
        description="Folder of the source articles, used to verify quotes and checksums.",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default=["*"], description="Origins allowed by CORS, comma-separated or a JSON list."
    )
    cors_write_origins: Annotated[list[str], NoDecode] = Field(
        default=[],
        description=(
            "Origins allowed by CORS to write (POST, PATCH, DELETE, Authorization), "
            "comma-separated or a JSON list; none by default."
        ),
    )
    cursor_secret: str = Field(
        default="",
        description=(
            "Key that signs pagination cursors; empty: a random key made on first start and "
            "kept in the database, so every replica shares it."
        ),
    )
    db_pool_size: int = Field(default=10, ge=1, description="PostgreSQL connection pool size.")
    db_max_overflow: int = Field(
        default=10, ge=0, description="Extra PostgreSQL connections allowed above the pool size."
    )
    db_pool_timeout: float = Field(
        default=5.0, gt=0, description="Seconds a request waits for a pooled connection."
    )
    db_connect_timeout: int = Field(
        default=5, ge=1, description="Seconds to wait when opening a PostgreSQL connection."
    )
    db_statement_timeout_ms: int = Field(
        default=10_000, ge=0, description="PostgreSQL statement timeout (0 disables it)."
    )
    sqlite_busy_timeout_ms: int = Field(
        default=5_000, ge=0, description="How long SQLite waits for a lock before giving up."
    )
    sqlite_cache_mib: int = Field(
        default=8,
        ge=1,
        description=(
            "Page cache of each SQLite connection, in MiB; the most recently used connections "
            "are reused first, so the pages a worker reads most stay in the few it uses."
        ),
    )
    read_threads: int = Field(
        default=8,
        ge=1,
        description=(
            "Threads a worker lets read event lists at once; more requests wait their turn "
            "in order instead of contending for one core."
        ),
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Minimum level of log records written to stderr."
    )
    forwarded_allow_ips: str = Field(
        default="127.0.0.1",
        description=(
            "Addresses of reverse proxies whose X-Forwarded-For/-Proto headers are trusted, "
            "comma-separated (`*` trusts any; only behind a proxy you control)."
        ),
    )
    response_cache_entries: int = Field(
        default=2048,
        ge=0,
        description=(
            "GET responses kept in memory per worker, keyed by the data version (0 disables "
            "the cache)."
        ),
    )
    write_rate_per_minute: int = Field(
        default=120,
        ge=1,
        description="Writes one token may make per minute, counted in each worker process.",
    )
    auth_failures_per_minute: int = Field(
        default=30,
        ge=1,
        description=(
            "Failed authentications one client address may make per minute (429 beyond), "
            "counted in each worker process; valid tokens are never refused."
        ),
    )
    max_request_line_bytes: int = Field(
        default=8192, ge=1024, description="Longest request line (method, URL) accepted (414)."
    )
    max_header_bytes: int = Field(
        default=32_768, ge=4096, description="Most bytes of request headers in all (431 above)."
    )
    max_header_fields: int = Field(
        default=100, ge=10, description="Most request header fields accepted (431 above)."
    )
    max_body_bytes: int = Field(
        default=1_048_576, ge=1024, description="Largest request body accepted (413 above)."
    )
    retry_after_seconds: int = Field(
        default=5, ge=1, description="Retry-After sent with 503 answers when the database is down."
    )

    @field_validator("cors_origins", "cors_write_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str) and not value.lstrip().startswith("["):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("database_url")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql", "postgres")):
            raise ValueError("DATABASE_URL must be a sqlite:// or postgresql:// URL")
        return value

    @cached_property
    def sqlalchemy_url(self) -> str:
        """The URL with the driver SQLAlchemy should use (psycopg 3 for PostgreSQL)."""
        url = self.database_url
        for prefix in ("postgresql+psycopg2://", "postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url

    @property
    def is_sqlite(self) -> bool:
        return self.sqlalchemy_url.startswith("sqlite")
