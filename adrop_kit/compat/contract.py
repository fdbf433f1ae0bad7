"""`adrop_kit.contract`, the path of earlier releases: now `adrop_kit.testing.contract`."""

from adrop_kit.testing.contract import *  # noqa: F403
from adrop_kit.testing.contract import __all__  # noqa: F401
