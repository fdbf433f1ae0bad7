"""`adrop_kit.strategies`, the path of earlier releases: now `adrop_kit.testing.strategies`."""

from adrop_kit.testing.strategies import *  # noqa: F403
from adrop_kit.testing.strategies import __all__  # noqa: F401
