"""The hand-gesture controller: a tracked hand moves the puck, a pinch grabs it, a fist pauses.

Two layers, so the behaviour can be tested without a camera or a model:

* `GestureMachine` - deterministic, no threads: (time, hand or None) -> sink actions and overlay state.
  Debounces gestures (a gesture must be held `hold_s` to count), filters the palm position with a One
  Euro filter, maps it to the puck, and decides pause/resume. The Leap adapter feeds it too.
* `HandController` - the `Controller`: a daemon thread that reads frames, runs the tracker, steps the
  machine and calls the sink. It never raises into the caller: a missing camera, model or library, or a
  failing tracker or sink, becomes a status in `overlay()` and a log line, and the app keeps running.

Threading contract: the sink and the `on_overlay` callback are called on the tracking thread (a Qt sink
must queue to its GUI thread). `overlay()` is safe to call from any thread at any rate; it returns an
immutable snapshot and never waits for a frame.

Gestures (see docs/controllers.md, "Hand gestures"):
* palm position -> the puck's cursor (the palm centre, not the fingertips, so closing the hand does not
  drag it); with `grab="pinch"` (default) the puck follows only while you pinch, and stays where you let
  go; with `grab="always"` it follows the palm whenever a hand is seen;
* fist held -> pause; open hand held after that -> resume.
"""

from __future__ import annotations

import logging
import statistics
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from textconductor.controllers.base import Controller, ControlSink
from textconductor.controllers.hand_gestures import Gesture, GestureThresholds, classify, palm_center
from textconductor.controllers.one_euro import OneEuroFilter, OneEuroParams

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HandSettings:
    """How the hand maps onto the instrument; every field is a performer-facing knob.

    region: the central fraction of the camera frame that spans the puck's full range (0.6: you need not
    reach the frame's edge). mirror: flip left-right so the screen acts as a mirror (webcams face you).
    hold_s: how long fist/open must be held to pause/resume; grab_hold_s the same for pinch on/off
    (short, so grabbing feels immediate, but long enough to ignore a one-frame misdetection).
    lost_s: after this long without a hand the grab is released and the filter restarts.
    """

    grab: str = "pinch"
    mirror: bool = True
    region: float = 0.6
    hold_s: float = 0.4
    grab_hold_s: float = 0.08
    lost_s: float = 0.5
    pause_resume: bool = True
    filter: OneEuroParams = field(default_factory=OneEuroParams)
    thresholds: GestureThresholds = field(default_factory=GestureThresholds)

    def __post_init__(self) -> None:
        if self.grab not in ("pinch", "always"):
            raise ValueError(f"grab must be 'pinch' or 'always', got {self.grab!r}")
        if not 0.05 <= self.region <= 1.0:
            raise ValueError(f"region must be in 0.05..1, got {self.region}")
        for name in ("hold_s", "grab_hold_s", "lost_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")


@dataclass(frozen=True)
class HandInput:
    """One hand in one frame, source-independent.

    points: 21 landmarks in any unit that is the same on every axis (pixels, mm) for the classifier.
    position: the palm point in display coordinates, x right and y down, 0..1 (already mirrored).
    overlay: 21 (x, y) points in the same display coordinates, for drawing.
    """

    points: np.ndarray
    position: tuple[float, float]
    overlay: tuple[tuple[float, float], ...] = ()
    handedness: str = ""


@dataclass(frozen=True)
class HandOverlay:
    """What the UI draws over its puck area: immutable, safe to hand between threads.

    landmarks: 21 (x, y) in display coordinates (0..1, x right, y down, mirrored like the puck), empty
    when no hand. gesture: "open", "fist", "pinch", "other" or "none". palm: the filtered palm point in the
    same coordinates. puck: the puck position this controller last sent (x, y in -1..1, y up), if any.
    status: "tracking", "no hand", or why tracking is not running (no camera, no model, ...).
    latency_ms: landmark inference time of the last frame; fps: frames processed per second.
    """

    landmarks: tuple[tuple[float, float], ...] = ()
    gesture: str = "none"
    grabbed: bool = False
    paused: bool = False
    palm: tuple[float, float] | None = None
    puck: tuple[float, float] | None = None
    handedness: str = ""
    status: str = "not started"
    latency_ms: float = 0.0
    fps: float = 0.0
    t: float = 0.0


Action = tuple[str, object]  # ("puck", (x, y)) or ("control", "pause"/"resume")


def position_to_puck(pos: tuple[float, float], region: float) -> tuple[float, float]:
    """Display coordinates (0..1, y down) -> puck (-1..1, y up), clipped to the style circle (radius 1)."""
    half = region / 2.0
    x = (pos[0] - 0.5) / half
    y = -(pos[1] - 0.5) / half
    r = (x * x + y * y) ** 0.5
    if r > 1.0:
        x, y = x / r, y / r
    return x, y


class GestureMachine:
    """Debounced gestures, filtered palm, puck and pause/resume decisions; pure logic, one thread."""

    def __init__(self, settings: HandSettings | None = None) -> None:
        self.settings = settings or HandSettings()
        self._filter = OneEuroFilter(self.settings.filter, dims=2)
        self._raw: Gesture | None = None  # the per-frame gesture
        self._raw_since = 0.0
        self._stable: Gesture | None = None  # after debouncing
        self._last_seen: float | None = None
        self.grabbed = False
        self.paused = False
        self.puck: tuple[float, float] | None = None
        self.palm: tuple[float, float] | None = None

    def step(self, t: float, hand: HandInput | None) -> tuple[list[Action], str]:
        """Advance to time `t` with this frame's hand (None: no hand); returns (actions, gesture shown)."""
        s = self.settings
        actions: list[Action] = []
        if hand is None:
            if self._last_seen is None or t - self._last_seen >= s.lost_s:
                # The hand is gone: let go of the puck, and start the filter afresh next time (so the puck
                # does not glide from where the hand left to where it comes back).
                self.grabbed = False
                self._filter.reset()
                self._raw = self._stable = None
                self.palm = None
            return actions, "none"
        self._last_seen = t
        g = classify(hand.points, was_pinching=self._raw is Gesture.PINCH, thresholds=s.thresholds)
        if g is not self._raw:
            self._raw, self._raw_since = g, t
        held = t - self._raw_since
        need = s.grab_hold_s if (g is Gesture.PINCH or self._stable is Gesture.PINCH) else s.hold_s
        if g is not self._stable and held >= need:
            self._stable = g
            if s.pause_resume and g is Gesture.FIST and not self.paused:
                self.paused = True
                actions.append(("control", "pause"))
            elif s.pause_resume and g is Gesture.OPEN and self.paused:
                self.paused = False
                actions.append(("control", "resume"))
        self.grabbed = self._stable is Gesture.PINCH if s.grab == "pinch" else True
        fx, fy = self._filter(t, hand.position)
        self.palm = (fx, fy)
        # While a pinch is being released (raw gesture no longer a pinch, release not yet debounced) the puck
        # holds still: the hand moving as the fingers open must not drag it.
        if self.grabbed and (s.grab == "always" or g is Gesture.PINCH):
            puck = position_to_puck(self.palm, s.region)
            if self.puck is None or abs(puck[0] - self.puck[0]) > 1e-4 or abs(puck[1] - self.puck[1]) > 1e-4:
                self.puck = puck
                actions.append(("puck", puck))
        return actions, g.value


def observation_to_input(obs: object, mirror: bool = True) -> HandInput:
    """A MediaPipe `HandObservation` -> `HandInput` (display coordinates mirrored if asked)."""
    lm = obs.landmarks  # type: ignore[attr-defined]
    xs = 1.0 - lm[:, 0] if mirror else lm[:, 0]
    ys = lm[:, 1]
    overlay = tuple((float(x), float(y)) for x, y in zip(xs, ys, strict=True))
    cx, cy = palm_center(lm)
    position = (1.0 - cx if mirror else cx, cy)
    return HandInput(points=obs.pixel_landmarks(), position=position, overlay=overlay,  # type: ignore[attr-defined]
                     handedness=obs.handedness)  # type: ignore[attr-defined]


class _RateLimitedLog:
    """At most one log line per `period_s` per key, with a count of what was suppressed."""

    def __init__(self, period_s: float = 5.0) -> None:
        self.period_s = period_s
        self._last: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}

    def warning(self, key: str, msg: str, *args: object, exc: bool = False) -> None:
        now = time.monotonic()
        if now - self._last.get(key, -1e9) >= self.period_s:
            n = self._suppressed.pop(key, 0)
            log.warning(msg + (f" ({n} more since the last report)" if n else ""), *args, exc_info=exc)
            self._last[key] = now
        else:
            self._suppressed[key] = self._suppressed.get(key, 0) + 1


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
        self._rl = _RateLimitedLog()
        self.frames = 0
        self.frames_with_hand = 0
        self.errors = 0

    # -- defaults -----------------------------------------------------------------------------------------
    def _camera_factory(self) -> object:
        from textconductor.controllers.hand_tracking import CameraSource

        return CameraSource(self.camera)

    def _mediapipe_factory(self) -> object:
        from textconductor.controllers.hand_tracking import MediaPipeHandTracker

        return MediaPipeHandTracker(self.model, mode="video")

    # -- Controller -----------------------------------------------------------------------------------------
    def available(self) -> tuple[bool, str]:
        """Cheap checks (no camera is opened, no model loaded): mediapipe importable and a model present."""
        from textconductor.controllers.hand_model import HandModelError, find_model
        from textconductor.controllers.hand_tracking import HANDS_EXTRA_HINT, mediapipe_version

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
                self._rl.warning("overlay-callback", "hand overlay callback raised", exc=True)

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
                    self._rl.warning("camera", "camera gives no frames")
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
                self._rl.warning("frame", "hand tracking failed on a frame: %s", e, exc=True)
                if consecutive >= self._max_errors:
                    log.error("hand tracking stopped after %d failing frames in a row", consecutive)
                    self._status(f"error: {e}")
                    return
                continue
            self.frames += 1
            self.frames_with_hand += hand is not None
            for kind, arg in actions:
                try:
                    if kind == "puck":
                        sink.set_puck(*arg)  # type: ignore[misc]
                    else:
                        sink.control(str(arg))
                except Exception:  # noqa: BLE001 - a failing sink (engine gone) must not end tracking
                    self._rl.warning("sink", "control sink raised on %s", kind, exc=True)
            with self._lock:
                self._latencies.append(latency)
                self._frame_times.append(t)
            ft = self._frame_times
            fps = (len(ft) - 1) / (ft[-1] - ft[0]) if len(ft) > 1 and ft[-1] > ft[0] else 0.0
            self._set_overlay(HandOverlay(
                landmarks=hand.overlay if hand else (), gesture=gesture, grabbed=machine.grabbed,
                paused=machine.paused, palm=machine.palm, puck=machine.puck,
                handedness=hand.handedness if hand else "", status="tracking" if hand else "no hand",
                latency_ms=latency, fps=fps, t=t))

