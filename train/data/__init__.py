"""Event data: readers, the DVS emulator, the embedded dataset, binning, `load_dataset` and `from_tonic`."""

from train.data.binning import bin_events, n_inputs, pooled_size
from train.data.cache import cache_root
from train.data.datasets import DATASETS, EventDataset, load_dataset
from train.data.emulator import DVSConfig, emulate_dvs, pixel_thresholds
from train.data.events import EVENT_DTYPE, EventFileError, make_events
from train.data.nmnist import NMNIST_SENSOR, list_nmnist, read_nmnist_bin, write_nmnist_bin
from train.data.saccade_digits import SaccadeConfig, ensure_saccade_digits
from train.data.sniff import sniff_format
from train.data.tonic_adapter import from_tonic

__all__ = [
    "DATASETS",
    "DVSConfig",
    "EVENT_DTYPE",
    "EventDataset",
    "EventFileError",
    "NMNIST_SENSOR",
    "SaccadeConfig",
    "bin_events",
    "cache_root",
    "emulate_dvs",
    "ensure_saccade_digits",
    "from_tonic",
    "list_nmnist",
    "load_dataset",
    "make_events",
    "n_inputs",
    "pixel_thresholds",
    "pooled_size",
    "read_nmnist_bin",
    "sniff_format",
    "write_nmnist_bin",
]
