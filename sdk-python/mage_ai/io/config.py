"""Mage's ``ConfigFileLoader``: names an io_config.yaml profile. The host reads the file and
holds the credentials; a block may use only the profiles it is granted."""

import enum

from weft import io as _io


class ConfigKey(str, enum.Enum):
    """Setting names of io_config.yaml (those a block may read: never secrets)."""

    GOOGLE_SERVICE_ACC_KEY_FILEPATH = "GOOGLE_SERVICE_ACC_KEY_FILEPATH"
    GCS_BUCKET = "GCS_BUCKET"
    POSTGRES_DBNAME = "POSTGRES_DBNAME"
    POSTGRES_HOST = "POSTGRES_HOST"
    POSTGRES_PORT = "POSTGRES_PORT"
    POSTGRES_SCHEMA = "POSTGRES_SCHEMA"
    POSTGRES_USER = "POSTGRES_USER"
    AWS_REGION = "AWS_REGION"


class ConfigFileLoader:
    """A profile of the project's io_config.yaml (the path is accepted and ignored: the host
    reads the project's own file)."""

    def __init__(self, filepath=None, profile="default", config=None, **_kwargs):
        self.profile = profile or "default"
        self.filepath = filepath

    def __getitem__(self, key):
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __contains__(self, key):
        return self.get(key) is not None

    def get(self, key, default=None):
        """A non-secret setting of the profile."""
        name = key.value if isinstance(key, enum.Enum) else str(key)
        return _io.setting(self.profile, name, default)
