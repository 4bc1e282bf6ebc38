"""A DVS (event camera) emulator: grayscale frames with timestamps → time-sorted events.

Generic over the sensor size so that every synthetic dataset can reuse it. Model, per
pixel (as in ESIM / v2e): the pixel remembers the log intensity at its last event and
emits an ON (OFF) event each time log intensity rises (falls) by its contrast threshold
since then. Between two frames log intensity is taken as linear in time, so an event's
timestamp is where that line crosses the threshold level. Thresholds differ from pixel
to pixel (mismatch, fixed per sensor), a pixel may be blind for a refractory period
after an event (the change during it is lost, as a pixel held in reset loses it), and
background noise events arrive as a Poisson process.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from snn2fpga.core.events import make_events


@dataclass(frozen=True)
class DVSConfig:
    """Sensor parameters; thresholds are in natural-log units of intensity."""

    threshold_on: float = 0.25
    threshold_off: float = 0.25
    mismatch: float = 0.03  # σ of the per-pixel thresholds, relative to the mean
    noise_hz: float = 0.05  # background events per pixel per second (both polarities)
    refractory_us: int = 0  # 0: none
    log_eps: float = 1e-3  # log(I + eps): keeps black pixels finite

    def __post_init__(self) -> None:
        """Reject parameters the model does not define."""
        if self.threshold_on <= 0 or self.threshold_off <= 0:
            raise ValueError(
                f"contrast thresholds must be positive, got {self.threshold_on}, {self.threshold_off}"
            )
        if self.mismatch < 0 or self.noise_hz < 0 or self.refractory_us < 0 or self.log_eps <= 0:
            raise ValueError(f"mismatch, noise_hz, refractory_us must be ≥ 0 and log_eps > 0: {self}")


def _rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    """A numpy Generator from a seed, or the generator itself."""
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def pixel_thresholds(
    shape: tuple[int, int], config: DVSConfig, seed: int | np.random.Generator | None = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel ON and OFF thresholds [H, W]: one sensor's fixed mismatch map, seeded."""
    rng = _rng(seed)
    floor = 0.1  # a pixel's threshold never drops below 10 % of the mean
    on = config.threshold_on * np.maximum(1 + config.mismatch * rng.standard_normal(shape), floor)
    off = config.threshold_off * np.maximum(1 + config.mismatch * rng.standard_normal(shape), floor)
    return on, off


def _ranks(counts: np.ndarray) -> np.ndarray:
    """For counts [n0, n1, …], the ranks 0..n0−1, 0..n1−1, … concatenated."""
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(starts.size) - starts


def emulate_dvs(
    frames: np.ndarray,
    times_us: np.ndarray,
    config: DVSConfig = DVSConfig(),
    seed: int | np.random.Generator | None = 0,
    thresholds: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Events (EVENT_DTYPE, sorted by t) of a DVS watching `frames` [F, H, W] at `times_us` [F].

    Frames are linear intensities ≥ 0. `thresholds` (from `pixel_thresholds`) fixes the
    sensor's mismatch map; without it one is drawn from `seed`. The pixels' memories start
    at random levels within one threshold of the first frame, as after a static scene.
    """
    frames = np.asarray(frames, dtype=np.float64)
    times = np.asarray(times_us, dtype=np.float64)
    if frames.ndim != 3 or len(frames) < 2 or times.shape != (len(frames),):
        raise ValueError(f"need frames [F≥2, H, W] and times [F]; got {frames.shape} and {times.shape}")
    if np.any(np.diff(times) <= 0) or times[0] < 0:
        raise ValueError("frame times must be ≥ 0 and strictly increasing")
    if frames.min() < 0:
        raise ValueError("frame intensities must be ≥ 0")
    rng = _rng(seed)
    shape = frames.shape[1:]
    c_on, c_off = thresholds if thresholds is not None else pixel_thresholds(shape, config, rng)
    if c_on.shape != shape or c_off.shape != shape:
        raise ValueError(f"thresholds of shape {c_on.shape} do not match frames of {shape}")
    c_on, c_off = c_on.ravel(), c_off.ravel()
    width = shape[1]

    log = np.log(frames.reshape(len(frames), -1) + config.log_eps)
    # memory = level at the last event: anywhere strictly between first-frame − c_on and + c_off
    ref = log[0] + (rng.random(log.shape[1]) * (c_on + c_off) - c_on) * 0.999
    last = np.full(log.shape[1], -np.inf)  # time of each pixel's last emitted event
    chunks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (pixel, time, polarity)

    for i in range(1, len(frames)):
        l1 = log[i]
        n_on = np.floor((l1 - ref) / c_on)
        n_off = np.floor((ref - l1) / c_off)
        count = np.maximum(n_on, n_off)  # at most one of them is positive
        pix = np.flatnonzero(count > 0)
        if pix.size == 0:
            continue
        cnt = count[pix].astype(np.int64)
        up = n_on[pix] > 0
        step = np.where(up, c_on[pix], -c_off[pix])
        rep = np.repeat(np.arange(pix.size), cnt)
        k = _ranks(cnt) + 1
        start = log[i - 1][pix]
        level = ref[pix][rep] + step[rep] * k  # the k-th level crossed in this interval
        ref[pix] += step * cnt
        slope = (l1[pix] - start)[rep]
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = np.where(slope != 0, (level - start[rep]) / slope, 0.0)
        t = times[i - 1] + np.minimum(np.maximum(frac, 0.0), 1.0) * (times[i] - times[i - 1])
        ev_pix, ev_up = pix[rep], up[rep]
        if config.refractory_us > 0:
            keep = np.zeros(t.size, dtype=bool)
            for rank in range(int(cnt.max())):  # events of one pixel in one interval, in time order
                sel = np.flatnonzero(k == rank + 1)
                ok = t[sel] >= last[ev_pix[sel]] + config.refractory_us
                keep[sel[ok]] = True
                last[ev_pix[sel[ok]]] = t[sel[ok]]
            ev_pix, t, ev_up = ev_pix[keep], t[keep], ev_up[keep]
        chunks.append((ev_pix, t, ev_up.astype(np.int64)))

    duration_s = (times[-1] - times[0]) * 1e-6
    n_noise = rng.poisson(config.noise_hz * log.shape[1] * duration_s)
    chunks.append(
        (
            rng.integers(0, log.shape[1], n_noise),
            rng.uniform(times[0], times[-1], n_noise),
            rng.integers(0, 2, n_noise),
        )
    )
    pix = np.concatenate([c[0] for c in chunks]).astype(np.int64)
    t = np.floor(np.concatenate([c[1] for c in chunks])).astype(np.int64)
    p = np.concatenate([c[2] for c in chunks]).astype(np.int64)
    order = np.argsort(t, kind="stable")
    return make_events(pix[order] % width, pix[order] // width, t[order], p[order])
