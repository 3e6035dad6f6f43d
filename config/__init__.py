"""Settings: one typed object per layer, loaded once by the entry points and passed down."""

from config.load import ConfigError, load
from config.settings import DatabaseSettings, GatewaySettings, Settings, StorageSettings

__all__ = [
    "ConfigError",
    "DatabaseSettings",
    "GatewaySettings",
    "Settings",
    "StorageSettings",
    "load",
]
