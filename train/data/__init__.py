"""Event data: readers, the DVS emulator, the embedded dataset, binning, `load_dataset` and `from_tonic`."""

from snn2fpga.core.binning import bin_events, n_inputs, pooled_size
from snn2fpga.core.paths import cache_root
from snn2fpga.train.data.datasets import (
    DATASETS,
    DataSource,
    EventDataset,
    PackedDataset,
    bin_files,
    default_pool,
    load_dataset,
    load_packed,
)
from snn2fpga.train.data.packed import PackedSpikes
from snn2fpga.train.data.emulator import DVSConfig, emulate_dvs, pixel_thresholds
from snn2fpga.core.events import EVENT_DTYPE, EventFileError, make_events
from snn2fpga.train.data.nmnist import NMNIST_SENSOR, list_nmnist, read_nmnist_bin, write_nmnist_bin
from snn2fpga.train.data.saccade_digits import SaccadeConfig, ensure_saccade_digits
from snn2fpga.train.data.sniff import sniff_format
from snn2fpga.train.data.tonic_adapter import from_tonic

__all__ = [
    "DATASETS",
    "DVSConfig",
    "DataSource",
    "default_pool",
    "EVENT_DTYPE",
    "EventDataset",
    "EventFileError",
    "NMNIST_SENSOR",
    "PackedDataset",
    "PackedSpikes",
    "SaccadeConfig",
    "bin_events",
    "bin_files",
    "cache_root",
    "emulate_dvs",
    "ensure_saccade_digits",
    "from_tonic",
    "list_nmnist",
    "load_dataset",
    "load_packed",
    "make_events",
    "n_inputs",
    "pixel_thresholds",
    "pooled_size",
    "read_nmnist_bin",
    "sniff_format",
    "write_nmnist_bin",
]
