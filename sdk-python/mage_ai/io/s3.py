"""Mage's ``S3`` over weft's host (``s3://bucket/key``)."""

from mage_ai.io.google_cloud_storage import GoogleCloudStorage


class S3(GoogleCloudStorage):
    """Objects in S3 through an io_config.yaml profile."""

    scheme = "s3://"
