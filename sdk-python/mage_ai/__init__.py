"""Mage's block API inside weft's sandbox: blocks written for Mage run unchanged.

``mage_ai.data_preparation.decorators`` registers Mage's decorators as weft blocks (with
Mage's calling conventions), ``mage_ai.io`` maps Mage's loaders and exporters onto weft's
host IO within the block's grants, and ``mage_ai.settings.repo.get_repo_path`` answers as
Mage does. Only these modules exist; anything else of ``mage_ai`` is not provided.
"""
