"""`adrop_kit.analytics`, the path of earlier releases: the analytics and their charts, now in
`adrop_kit.explore`."""

from adrop_kit.explore import *  # noqa: F403
from adrop_kit.explore import __all__, __getattr__  # noqa: F401
