"""Mage's loaders and exporters over weft's host IO: rows never pass through Python, and
every call stays within the block's grants (profiles, URLs, tables)."""
