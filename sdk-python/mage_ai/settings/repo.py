"""Mage's repository path. In weft a block has no files of its own; the path only serves to
name ``io_config.yaml``, which the host reads (``ConfigFileLoader`` takes the profile)."""


def get_repo_path(*_args, **_kwargs):
    """The project folder as Mage blocks see it."""
    return "."
