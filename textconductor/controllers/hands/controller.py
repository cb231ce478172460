"""`HandController`: the webcam hand-gesture controller, a daemon thread around the `GestureMachine`.

It reads frames, runs the tracker, steps the machine and calls the sink. It never raises into the
caller: a missing camera, model or library, or a failing tracker or sink, becomes a status in
`overlay()` and a log line, and the app keeps running.

Threading contract: the sink and the `on_overlay` callback are called on the tracking thread (a Qt sink
must queue to its GUI thread). `overlay()` is safe to call from any thread at any rate; it returns an
immutable snapshot and never waits for a frame.
"""

from __future__ import annotations

import logging
import statistics
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import replace

from textconductor.controllers.base import Controller, ControlSink
from textconductor.controllers.hands.machine import (
    GestureMachine,
    HandOverlay,
    HandSettings,
    apply_actions,
    observation_to_input,
)
from textconductor.protocol.ratelimit import RateLimitedLog

log = logging.getLogger(__name__)


class HandController(Controller):
    """Tracks a hand on its own thread and plays the sink; see the module docstring.

    source_factory / tracker_factory build the frame source and tracker *on the tracking thread* (camera
    and MediaPipe objects are not shared across threads); the defaults are the webcam `camera` and
    MediaPipe with the cached model. A factory that raises leaves the controller in an explained
    "unavailable" status. When the source runs out (image files) the thread ends with status "finished".
    """

    name = "hands"

    def __init__(self, settings: HandSettings | None = None, camera: int = 0, model: str | None = None,
                 source_factory: Callable[[], object] | None = None,
                 tracker_factory: Callable[[], object] | None = None,
                 on_overlay: Callable[[HandOverlay], None] | None = None,
                 clock: Callable[[], float] = time.monotonic, max_consecutive_errors: int = 100) -> None:
        self.settings = settings or HandSettings()
        self.camera = camera
        self.model = model
        self._source_factory = source_factory or self._camera_factory
        self._tracker_factory = tracker_factory or self._mediapipe_factory
        self._on_overlay = on_overlay
        self._clock = clock
        self._max_errors = max_consecutive_errors
        self._lock = threading.Lock()
        self._overlay = HandOverlay()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._latencies: deque[float] = deque(maxlen=300)
        self._frame_times: deque[float] = deque(maxlen=30)
        # A camera that stops giving frames or an engine that went away fails on every frame, 30 times a
        # second: one line per kind every 5 s says the same without flooding the log.
        self._rl = RateLimitedLog(every_s=5.0)
        self.frames = 0
        self.frames_with_hand = 0
        self.errors = 0

    # -- defaults -----------------------------------------------------------------------------------------
    def _camera_factory(self) -> object:
        from textconductor.controllers.hands.tracking import CameraSource

        return CameraSource(self.camera)

    def _mediapipe_factory(self) -> object:
        from textconductor.controllers.hands.tracking import MediaPipeHandTracker

        return MediaPipeHandTracker(self.model, mode="video")

    # -- Controller -----------------------------------------------------------------------------------------
    def available(self) -> tuple[bool, str]:
        """Cheap checks (no camera is opened, no model loaded): mediapipe importable and a model present."""
        from textconductor.controllers.hands.model import HandModelError, find_model
        from textconductor.controllers.hands.tracking import HANDS_EXTRA_HINT, mediapipe_version

        if self._tracker_factory == self._mediapipe_factory:
            if mediapipe_version() is None:
                return False, f"mediapipe is not installed; {HANDS_EXTRA_HINT}"
            try:
                find_model(self.model)
            except HandModelError as e:
                return False, str(e)
        return True, ""

    def start(self, sink: ControlSink) -> None:
        """Start tracking on a daemon thread; returns at once and never raises for a missing device."""
        if self._thread is not None and self._thread.is_alive():
            log.warning("hand controller already running")
            return
        self._stop.clear()
        self._set_overlay(HandOverlay(status="starting"))
        self._thread = threading.Thread(target=self._run, args=(sink,), name="hand-tracking", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 3.0) -> None:
        self._stop.set()
        t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join(timeout)
            if t.is_alive():
                log.warning("hand-tracking thread did not stop within %.1f s (camera read blocked?)", timeout)

    def join(self, timeout: float | None = None) -> None:
        """Wait for the tracking thread to end (a finite source, or after stop())."""
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- what the UI reads ---------------------------------------------------------------------------------------
    def overlay(self) -> HandOverlay:
        """The latest overlay snapshot (thread-safe, never blocks on tracking)."""
        with self._lock:
            return self._overlay

    def latency_stats(self) -> dict[str, float]:
        """Landmark inference time per frame over the last 300 frames: median and p95 (ms), frames seen."""
        with self._lock:
            lat = sorted(self._latencies)
        if not lat:
            return {"frames": 0, "median_ms": 0.0, "p95_ms": 0.0}
        return {"frames": len(lat), "median_ms": statistics.median(lat),
                "p95_ms": lat[min(len(lat) - 1, int(0.95 * len(lat)))]}

    # -- the thread ---------------------------------------------------------------------------------------------
    def _set_overlay(self, ov: HandOverlay) -> None:
        with self._lock:
            self._overlay = ov
        cb = self._on_overlay
        if cb is not None:
            try:
                cb(ov)
            except Exception:  # noqa: BLE001 - a broken callback must not stop tracking
                self._rl.log(log, logging.WARNING, "overlay-callback", "hand overlay callback raised", exc_info=True)

    def _status(self, status: str) -> None:
        self._set_overlay(replace(self.overlay(), status=status, landmarks=(), gesture="none", t=self._clock()))

    def _run(self, sink: ControlSink) -> None:
        source = tracker = None
        try:
            try:
                source = self._source_factory()
            except Exception as e:  # noqa: BLE001 - any failure to open the source is "unavailable"
                log.warning("hand tracking unavailable: %s", e)
                self._status(f"unavailable: {e}")
                return
            try:
                tracker = self._tracker_factory()
            except Exception as e:  # noqa: BLE001
                log.warning("hand tracking unavailable: %s", e)
                self._status(f"unavailable: {e}")
                return
            self._loop(source, tracker, sink)
        except Exception as e:  # noqa: BLE001 - last line of defence: the app must survive us
            log.exception("hand-tracking thread failed")
            self._status(f"error: {e}")
        finally:
            for obj in (tracker, source):
                if obj is not None:
                    try:
                        obj.close()  # type: ignore[attr-defined]
                    except Exception:  # noqa: BLE001
                        log.debug("closing %r failed", obj, exc_info=True)

    def _sink_failed(self, kind: str) -> None:
        self._rl.log(log, logging.WARNING, "sink", "control sink raised on %s", kind, exc_info=True)

    def _loop(self, source: object, tracker: object, sink: ControlSink) -> None:
        machine = GestureMachine(self.settings)
        consecutive = 0
        empty_reads = 0
        while not self._stop.is_set():
            frame = source.read()  # type: ignore[attr-defined]
            if frame is None:
                if getattr(source, "exhausted", False):
                    self._status("finished")
                    return
                empty_reads += 1
                if empty_reads == 30:
                    self._rl.log(log, logging.WARNING, "camera", "camera gives no frames")
                    self._status("camera gives no frames")
                time.sleep(0.03)
                continue
            empty_reads = 0
            t = self._clock()
            try:
                t0 = time.perf_counter()
                obs = tracker.process(frame, t)  # type: ignore[attr-defined]
                latency = (time.perf_counter() - t0) * 1000.0
                hand = observation_to_input(obs, self.settings.mirror) if obs is not None else None
                actions, gesture = machine.step(t, hand)
                consecutive = 0
            except Exception as e:  # noqa: BLE001 - one bad frame must not end tracking
                self.errors += 1
                consecutive += 1
                self._rl.log(log, logging.WARNING, "frame", "hand tracking failed on a frame: %s", e, exc_info=True)
                if consecutive >= self._max_errors:
                    log.error("hand tracking stopped after %d failing frames in a row", consecutive)
                    self._status(f"error: {e}")
                    return
                continue
            self.frames += 1
            self.frames_with_hand += hand is not None
            apply_actions(sink, actions, self._sink_failed)
            with self._lock:
                self._latencies.append(latency)
                self._frame_times.append(t)
            ft = self._frame_times
            fps = (len(ft) - 1) / (ft[-1] - ft[0]) if len(ft) > 1 and ft[-1] > ft[0] else 0.0
            self._set_overlay(machine.snapshot(hand, gesture, t, latency_ms=latency, fps=fps))
