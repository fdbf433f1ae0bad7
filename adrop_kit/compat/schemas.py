"""`adrop_kit.schemas`, the path of earlier releases: the pandera schemas (now
`adrop_kit.validate.schemas`) and `validate_events` (now `adrop_kit.validate.dataset`)."""

from adrop_kit.validate.dataset import DEFAULT_EXTRA_COLUMNS, validate_events
from adrop_kit.validate.schemas import dataset_schema, for_event

__all__ = ["DEFAULT_EXTRA_COLUMNS", "dataset_schema", "for_event", "validate_events"]
