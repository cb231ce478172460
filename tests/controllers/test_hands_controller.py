"""The hand controller's logic (GestureMachine) and its thread (HandController), without camera or model:
frames are dummies and the tracker replays hand-made observations. A fake clock steps 1/30 s per frame,
so timing-dependent behaviour (hold times) is deterministic however loaded the machine is."""

from __future__ import annotations

import itertools
import threading
import time

import numpy as np
import pytest

from tests.controllers.test_hand_gestures import FIST, OPEN, PINCH, make_hand
from tests.fakes import RecordingSink
from textconductor.controllers.hands import (
    GestureMachine,
    HandController,
    HandInput,
    HandOverlay,
    HandSettings,
    observation_to_input,
    position_to_puck,
)
from textconductor.controllers.hands.one_euro import OneEuroParams
from textconductor.controllers.hands.tracking import ArraySource, CameraUnavailable, HandObservation

W, H = 640, 480
DT = 1 / 30


def observation(hand: np.ndarray, cx: float = 0.5, cy: float = 0.5, size_px: float = 80.0) -> HandObservation:
    """A hand-made hand as MediaPipe would report it: palm-size `size_px` pixels, wrist near (cx, cy)."""
    px = np.column_stack([cx * W + size_px * hand[:, 0], cy * H - size_px * hand[:, 1], size_px * hand[:, 2]])
    return HandObservation(landmarks=px / np.array([W, H, W]), image_size=(W, H), handedness="Right", score=0.9)


def hand_input(hand: np.ndarray, pos: tuple[float, float]) -> HandInput:
    return HandInput(points=hand, position=pos)


def test_position_to_puck() -> None:
    assert position_to_puck((0.5, 0.5), 0.6) == (0.0, 0.0)
    x, y = position_to_puck((0.65, 0.35), 0.6)  # right and up in the picture
    assert x == pytest.approx(0.5) and y == pytest.approx(0.5)
    x, y = position_to_puck((1.0, 0.0), 0.6)  # far outside: clipped onto the circle
    assert x == pytest.approx(y) and x * x + y * y == pytest.approx(1.0)


def test_observation_is_mirrored_for_display() -> None:
    obs = observation(OPEN, cx=0.2)
    mirrored, plain = observation_to_input(obs, mirror=True), observation_to_input(obs, mirror=False)
    assert mirrored.position[0] == pytest.approx(1 - plain.position[0])
    assert mirrored.overlay[0][0] == pytest.approx(1 - obs.landmarks[0, 0])
    assert len(mirrored.overlay) == 21
    np.testing.assert_allclose(mirrored.points[:, :2], obs.landmarks[:, :2] * [W, H])


def run(machine: GestureMachine, frames: list[HandInput | None], t0: float = 0.0) -> list:
    actions = []
    for i, f in enumerate(frames):
        a, _g = machine.step(t0 + i * DT, f)
        actions += a
    return actions


def test_pinch_grabs_moves_and_releases_the_puck() -> None:
    m = GestureMachine(HandSettings(filter=OneEuroParams(min_cutoff=50.0, beta=0.0)))  # ~no smoothing
    hover = run(m, [hand_input(OPEN, (0.5 + 0.01 * i, 0.5)) for i in range(10)])
    assert hover == []  # an open hand only hovers
    grab = run(m, [hand_input(PINCH, (0.6, 0.5 - 0.01 * i)) for i in range(10)], t0=1.0)
    pucks = [a[1] for a in grab if a[0] == "puck"]
    assert len(pucks) >= 6 and m.grabbed
    assert pucks[-1][0] > 0.2 and pucks[-1][1] > pucks[0][1]  # right of centre, moving up
    release = run(m, [hand_input(OPEN, (0.2, 0.8)) for i in range(10)], t0=2.0)
    assert [a for a in release if a[0] == "puck"] == [] and not m.grabbed  # the puck stays where it was let go
    assert m.puck == pucks[-1]


def test_fist_pauses_once_and_open_hand_resumes() -> None:
    m = GestureMachine(HandSettings(hold_s=0.4))
    assert run(m, [hand_input(FIST, (0.5, 0.5))] * 5) == []  # 0.13 s: too short
    acts = run(m, [hand_input(OPEN, (0.5, 0.5))] * 3 + [hand_input(FIST, (0.5, 0.5))] * 30, t0=1.0)
    assert acts == [("control", "pause")] and m.paused
    acts = run(m, [hand_input(OPEN, (0.5, 0.5))] * 30, t0=3.0)
    assert acts == [("control", "resume")] and not m.paused
    assert run(m, [hand_input(OPEN, (0.5, 0.5))] * 30, t0=5.0) == []  # no resume spam


def test_one_frame_misdetection_does_not_grab() -> None:
    m = GestureMachine(HandSettings(grab_hold_s=0.08))
    frames = [hand_input(OPEN, (0.5, 0.5))] * 5 + [hand_input(PINCH, (0.5, 0.5))] + [hand_input(OPEN, (0.5, 0.5))] * 5
    assert [a for a in run(m, frames) if a[0] == "puck"] == []


def test_losing_the_hand_releases_the_grab() -> None:
    m = GestureMachine(HandSettings(lost_s=0.5))
    run(m, [hand_input(PINCH, (0.5, 0.5))] * 10)
    assert m.grabbed
    run(m, [None] * 3, t0=10 * DT)
    assert m.grabbed  # a short dropout (0.1 s) keeps it
    run(m, [None] * 20, t0=13 * DT)
    assert not m.grabbed and m.palm is None


def test_always_mode_and_filter_smooths_a_still_hand() -> None:
    rng = np.random.default_rng(0)
    noisy = [hand_input(OPEN, (0.6 + rng.normal(0, 0.003), 0.5 + rng.normal(0, 0.003))) for _ in range(90)]
    m = GestureMachine(HandSettings(grab="always"))
    pucks = np.array([a[1] for a in run(m, noisy) if a[0] == "puck"])
    raw = np.array([position_to_puck(h.position, 0.6) for h in noisy])
    assert len(pucks) > 30
    assert np.std(np.diff(pucks[30:], axis=0)) < 0.3 * np.std(np.diff(raw[30:], axis=0))
    assert pucks[-1][0] == pytest.approx(position_to_puck((0.6, 0.5), 0.6)[0], abs=0.05)


class ReplayTracker:
    """Returns the recorded observations in turn; raises on the frame numbers in `fail_on`."""

    def __init__(self, observations: list[HandObservation | None], fail_on: set[int] = frozenset()) -> None:
        self.obs, self.fail_on, self.i, self.closed = observations, fail_on, 0, False

    def process(self, rgb: np.ndarray, t_s: float) -> HandObservation | None:
        i, self.i = self.i, self.i + 1
        if i in self.fail_on:
            raise RuntimeError(f"tracker failed on frame {i}")
        return self.obs[i % len(self.obs)]

    def close(self) -> None:
        self.closed = True


def fake_clock():
    counter = itertools.count()
    return lambda: next(counter) * DT


def controller(observations: list, sink_frames: int | None = None, **kw: object) -> tuple[HandController, object]:
    n = sink_frames or len(observations)
    frames = [np.zeros((4, 4, 3), np.uint8)] * n
    tracker = ReplayTracker(observations, kw.pop("fail_on", set()))  # type: ignore[arg-type]
    ctl = HandController(kw.pop("settings", HandSettings()),  # type: ignore[arg-type]
                         source_factory=lambda: ArraySource(frames),
                         tracker_factory=lambda: tracker, clock=fake_clock(), **kw)  # type: ignore[arg-type]
    return ctl, tracker


def test_controller_thread_drives_the_sink_and_publishes_the_overlay() -> None:
    seen: list[HandOverlay] = []
    obs = [observation(OPEN, 0.5, 0.6)] * 5 + [observation(PINCH, 0.3 + 0.01 * i, 0.6) for i in range(20)]
    ctl, tracker = controller(obs, on_overlay=seen.append)
    sink = RecordingSink(["a", "b"])
    ctl.start(sink)
    ctl.join(30)
    assert not ctl.running and tracker.closed
    assert len(sink.pucks) >= 10
    assert sink.pucks[-1][0] > 0  # hand left of centre in the camera = right of centre on a mirror display
    ov = ctl.overlay()
    assert ov.status == "finished" and ctl.frames == 25 and ctl.frames_with_hand == 25
    tracked = [o for o in seen if o.status == "tracking"]
    assert tracked[-1].gesture == "pinch" and tracked[-1].grabbed and len(tracked[-1].landmarks) == 21
    assert all(0 <= x <= 1 and 0 <= y <= 1 for x, y in tracked[-1].landmarks)
    assert ctl.latency_stats()["frames"] == 25


def test_a_raising_tracker_sink_or_callback_does_not_stop_tracking(caplog: pytest.LogCaptureFixture) -> None:
    def bad_callback(ov: HandOverlay) -> None:
        raise ValueError("drawing failed")

    obs = [observation(FIST, 0.5, 0.6)] * 40
    ctl, _ = controller(obs, fail_on={0, 3, 7}, on_overlay=bad_callback,
                        settings=HandSettings(grab="always"))
    sink = RecordingSink(["a", "b"], fail=True)
    ctl.start(sink)
    ctl.join(30)
    assert ctl.errors == 3 and ctl.frames == 37
    assert sink.controls == ["pause"]  # the fist still paused, though the sink raised
    assert len(sink.pucks) >= 1
    assert any("tracker failed" in r.getMessage() or "failed on a frame" in r.getMessage() for r in caplog.records)


def test_a_tracker_that_always_fails_ends_with_a_status_not_a_crash() -> None:
    obs = [observation(OPEN)] * 20
    ctl, _ = controller(obs, fail_on=set(range(20)), max_consecutive_errors=5)
    ctl.start(RecordingSink(["a", "b"]))
    ctl.join(30)
    assert not ctl.running and ctl.overlay().status.startswith("error:")


@pytest.mark.parametrize("which", ["source", "tracker"])
def test_missing_camera_or_model_leaves_an_explained_status(which: str) -> None:
    def no_camera() -> object:
        raise CameraUnavailable("no camera 3: /dev/video3 does not exist")

    frames = [np.zeros((4, 4, 3), np.uint8)]
    kw = {"source_factory": no_camera} if which == "source" else {
        "source_factory": lambda: ArraySource(frames), "tracker_factory": lambda: (_ for _ in ()).throw(
            RuntimeError("no hand-landmark model: run `textconductor hands setup`"))}
    ctl = HandController(**kw)  # type: ignore[arg-type]
    t0 = time.monotonic()
    ctl.start(RecordingSink(["a", "b"]))
    assert time.monotonic() - t0 < 1.0  # start never waits for the device
    ctl.join(10)
    status = ctl.overlay().status
    assert status.startswith("unavailable:") and ("camera" in status or "hands setup" in status)


def test_default_controller_without_a_camera_runs_and_explains() -> None:
    ctl = HandController(camera=97)
    ctl.start(RecordingSink(["a", "b"]))
    ctl.join(10)
    assert not ctl.running
    assert "camera 97" in ctl.overlay().status or "not installed" in ctl.overlay().status
    ctl.stop()


def test_camera_source_explains_a_missing_camera() -> None:
    from textconductor.controllers.hands.tracking import CameraSource

    with pytest.raises(CameraUnavailable, match="camera 97"):
        CameraSource(97)


def test_available_names_the_missing_model(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    from textconductor.controllers.hands import tracking as hand_tracking

    monkeypatch.setattr(hand_tracking, "mediapipe_version", lambda: "1.2.2")
    monkeypatch.setenv("TEXTCONDUCTOR_HAND_MODEL", str(tmp_path / "absent.task"))
    ok, why = HandController().available()
    assert not ok and "hands setup" in why and "absent.task" in why


def test_overlay_reads_do_not_wait_for_tracking() -> None:
    """overlay() from another thread while the tracker is slow returns at once."""
    release = threading.Event()

    class SlowTracker(ReplayTracker):
        def process(self, rgb: np.ndarray, t_s: float) -> HandObservation | None:
            release.wait(10)
            return super().process(rgb, t_s)

    tracker = SlowTracker([observation(OPEN)])
    frames = [np.zeros((4, 4, 3), np.uint8)] * 2
    ctl = HandController(source_factory=lambda: ArraySource(frames), tracker_factory=lambda: tracker,
                         clock=fake_clock())
    ctl.start(RecordingSink(["a", "b"]))
    t0 = time.perf_counter()
    for _ in range(100):
        ctl.overlay()
    assert time.perf_counter() - t0 < 0.5
    release.set()
    ctl.join(10)
    assert ctl.overlay().status == "finished"


def test_settings_are_validated() -> None:
    with pytest.raises(ValueError):
        HandSettings(grab="wave")
    with pytest.raises(ValueError):
        HandSettings(region=0.0)
    assert make_hand().shape == (21, 3)


def test_package_re_exports_resolve_lazily() -> None:
    """Every name `hands` re-exports resolves to its submodule's object, and the list matches the map."""
    import importlib

    from textconductor.controllers import hands

    assert sorted(hands.__all__) == sorted(hands._EXPORTS)
    for name, module in hands._EXPORTS.items():
        sub = importlib.import_module(f"textconductor.controllers.hands.{module}")
        assert getattr(hands, name) is getattr(sub, name)
    with pytest.raises(AttributeError):
        hands.no_such_name  # noqa: B018
