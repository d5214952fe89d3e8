"""Runtime settings from the environment (prefix TRACECHAIN_), built once by get_settings()."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_CONFIRMATIONS = 12


class Settings(BaseSettings):
    """Where the chain, the keys and the store are. Unset `rpc_url` means the embedded chain."""

    model_config = SettingsConfigDict(env_prefix="TRACECHAIN_", env_file=".env", extra="ignore")

    rpc_url: str | None = Field(default=None, description="JSON-RPC URL; unset = embedded eth-tester chain")
    private_key: SecretStr | None = Field(
        default=None, description="Key of the account that deploys and relays; dev key 0 on local chains"
    )
    data_dir: Path = Field(default=Path(".tracechain"), description="Manifests, store and receipts")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default SQLite in data_dir")
    manifest_path: Path | None = Field(default=None, description="Deployment manifest; default per chain")
    rpc_timeout_seconds: float = Field(default=5.0, gt=0, le=600, description="Longest wait for one RPC call")
    confirmations: int | None = Field(
        default=None, ge=0, description="Blocks the indexer stays behind the head; default 0 on dev chains, else 12"
    )
    max_events_per_capture: int = Field(
        default=100_000, ge=1, description="Most events one EPCIS document (one capture) may hold"
    )
    batch_max_records: int = Field(default=1000, ge=1, description="Anchor a notary batch at this size")
    batch_max_age_seconds: int = Field(default=300, ge=1, description="... or when its oldest is this old")
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    public_base_url: str = Field(default="http://127.0.0.1:8000", description="Base of printed URLs")
    # Limits of the HTTP API: a hostile request is refused before it costs memory, stack or CPU.
    max_body_bytes: int = Field(default=64 * 1024 * 1024, ge=1024, description="Largest request body (413 above)")
    max_json_depth: int = Field(
        default=64, ge=8, le=512, description="Deepest JSON nesting of a request body (400 json_too_deep above)"
    )
    proxy_max_block_range: int = Field(default=10_000, ge=1, description="/v1/rpc: most blocks one eth_getLogs spans")
    proxy_max_logs: int = Field(default=10_000, ge=1, description="/v1/rpc: most logs one eth_getLogs returns")
    proxy_gas_cap: int = Field(
        default=30_000_000, ge=100_000, description="/v1/rpc: gas limit of eth_call / eth_estimateGas (lower ones kept)"
    )
    proxy_timeout_seconds: float = Field(
        default=2.0, gt=0, le=60, description="/v1/rpc: wall time one HTTP request (a whole batch) may take"
    )
    proxy_max_batch: int = Field(default=100, ge=1, description="/v1/rpc: most calls in one JSON-RPC batch")

    def confirmations_for(self, dev_chain: bool) -> int:
        """`confirmations`, or its default: 0 on local dev chains (nothing reorganises them), 12
        elsewhere (so the index never shows what a reorganisation takes back)."""
        if self.confirmations is not None:
            return self.confirmations
        return 0 if dev_chain else DEFAULT_CONFIRMATIONS

    def store_url(self) -> str:
        """The SQLAlchemy URL of the off-chain store."""
        return self.database_url or f"sqlite:///{self.data_dir / 'tracechain.db'}"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()
