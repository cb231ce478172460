"""Frames in, 21 landmarks out: the MediaPipe HandLandmarker and the frame sources (camera, image files).

Why separate from the controller: the controller's logic is tested with recorded landmarks and no
MediaPipe at all, and `textconductor hands check` times this layer alone. mediapipe and OpenCV are
imported lazily, so importing this module is cheap and works where they are not installed.

Coordinates: MediaPipe's normalised image landmarks, x right and y down in 0..1 of the frame, z a relative
depth on roughly the scale of x. `HandObservation.pixel_landmarks()` gives them in pixels (z scaled by the
width), the unit-consistent form the gesture classifier wants.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from textconductor.controllers.hands.model import find_model
from textconductor.errors import UserError

log = logging.getLogger(__name__)

HANDS_EXTRA_HINT = "install the hand-gesture extra: pip install 'textconductor[hands]'"


class HandTrackingUnavailable(UserError):
    """mediapipe, OpenCV, a system library or the model is missing; the message says which and how to fix."""


class CameraUnavailable(UserError):
    """No camera at that index (or it cannot be opened)."""


@dataclass(frozen=True)
class HandObservation:
    """One tracked hand in one frame."""

    landmarks: np.ndarray  # (21, 3) normalised image coordinates
    image_size: tuple[int, int]  # (width, height) in pixels
    handedness: str = ""
    score: float = 0.0

    def pixel_landmarks(self) -> np.ndarray:
        w, h = self.image_size
        return self.landmarks * np.array([w, h, w], dtype=np.float64)


class HandTracker(Protocol):
    """Anything that finds a hand in an RGB frame; `t_s` is the frame's time in seconds."""

    def process(self, rgb: np.ndarray, t_s: float) -> HandObservation | None: ...

    def close(self) -> None: ...


class FrameSource(Protocol):
    """Anything that yields RGB frames (H, W, 3 uint8); `read` returns None when no frame came.

    A finite source (files, recordings) also has a true `exhausted` attribute once it has run out.
    """

    def read(self) -> np.ndarray | None: ...

    def close(self) -> None: ...


def _import_mediapipe():  # the module object
    # Quieten the C++ side (glog, TFLite) before it is loaded; the user may still override.
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        import mediapipe as mp
        from mediapipe.tasks.python import BaseOptions, vision
    except ImportError as e:
        raise HandTrackingUnavailable(f"mediapipe is not installed ({e}); {HANDS_EXTRA_HINT}") from e
    return mp, BaseOptions, vision


def _import_cv2():  # the module object
    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
    try:
        import cv2
    except ImportError as e:
        raise HandTrackingUnavailable(f"OpenCV (cv2) is not importable ({e}); {HANDS_EXTRA_HINT}") from e
    return cv2


def mediapipe_version() -> str | None:
    try:
        from importlib.metadata import version

        return version("mediapipe")
    except Exception:  # noqa: BLE001 - any failure means "not installed" here
        return None


class MediaPipeHandTracker:
    """MediaPipe Tasks HandLandmarker, in "image" mode (every frame detected afresh) or "video" mode
    (the palm detector runs only when tracking is lost: several times cheaper per frame).

    Not thread-safe; create and use it on the tracking thread.
    """

    def __init__(self, model: str | os.PathLike[str] | None = None, mode: str = "video", num_hands: int = 1,
                 min_detection_confidence: float = 0.5, min_presence_confidence: float = 0.5,
                 min_tracking_confidence: float = 0.5) -> None:
        if mode not in ("image", "video"):
            raise ValueError(f"mode must be 'image' or 'video', got {mode!r}")
        self.mode = mode
        self.model_path = find_model(model)
        self._mp, base_options, vision = _import_mediapipe()
        running = vision.RunningMode.IMAGE if mode == "image" else vision.RunningMode.VIDEO
        opts = vision.HandLandmarkerOptions(
            base_options=base_options(model_asset_path=str(self.model_path)), running_mode=running,
            num_hands=num_hands, min_hand_detection_confidence=min_detection_confidence,
            min_hand_presence_confidence=min_presence_confidence, min_tracking_confidence=min_tracking_confidence)
        try:
            self._landmarker = vision.HandLandmarker.create_from_options(opts)
        except Exception as e:  # noqa: BLE001 - MediaPipe raises RuntimeError/OSError/ValueError here
            hint = ""
            if "GLES" in str(e) or "libGL" in str(e) or "EGL" in str(e):
                hint = " (on Debian/Ubuntu: apt-get install libgles2)"
            raise HandTrackingUnavailable(f"MediaPipe HandLandmarker could not be created from "
                                          f"{self.model_path}: {e}{hint}") from e
        self._last_ts_ms = -1

    def process(self, rgb: np.ndarray, t_s: float) -> HandObservation | None:
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"expected an RGB uint8 frame (H, W, 3), got {rgb.dtype} {rgb.shape}")
        image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))
        if self.mode == "image":
            result = self._landmarker.detect(image)
        else:
            # VIDEO mode demands strictly increasing timestamps.
            ts = max(int(t_s * 1000.0), self._last_ts_ms + 1)
            self._last_ts_ms = ts
            result = self._landmarker.detect_for_video(image, ts)
        if not result.hand_landmarks:
            return None
        pts = np.array([[p.x, p.y, p.z] for p in result.hand_landmarks[0]], dtype=np.float64)
        cat = result.handedness[0][0] if result.handedness and result.handedness[0] else None
        return HandObservation(landmarks=pts, image_size=(rgb.shape[1], rgb.shape[0]),
                               handedness=cat.category_name if cat else "", score=float(cat.score) if cat else 0.0)

    def close(self) -> None:
        lm, self._landmarker = getattr(self, "_landmarker", None), None
        if lm is not None:
            lm.close()

    def __enter__(self) -> MediaPipeHandTracker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def load_rgb(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an image file as RGB uint8; UserError naming the file if it cannot be read."""
    cv2 = _import_cv2()
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise UserError(f"cannot read image {path}")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


class ArraySource:
    """Frames held in memory (tests, recordings).

    `exhausted` tells the controller the sequence has ended (a camera that gives no frame is retried).
    """

    def __init__(self, frames: Sequence[np.ndarray]) -> None:
        self._frames = list(frames)
        self._i = 0

    @property
    def exhausted(self) -> bool:
        return self._i >= len(self._frames)

    def read(self) -> np.ndarray | None:
        if self._i >= len(self._frames):
            return None
        self._i += 1
        return self._frames[self._i - 1]

    def close(self) -> None:
        self._i = len(self._frames)


class ImageFilesSource(ArraySource):
    """Image files as a frame sequence (each repeated `repeat` times): for `hands check` and tests.

    Each file is read once; a repeat is the same array again, so a long check costs no memory.
    """

    def __init__(self, paths: Iterable[str | os.PathLike[str]], repeat: int = 1) -> None:
        super().__init__([frame for frame in map(load_rgb, paths) for _ in range(repeat)])


class CameraSource:
    """A webcam through OpenCV; opening fails with CameraUnavailable, never with a crash."""

    def __init__(self, index: int = 0, width: int = 640, height: int = 480) -> None:
        if sys.platform.startswith("linux") and not Path(f"/dev/video{index}").exists():
            raise CameraUnavailable(f"no camera {index}: /dev/video{index} does not exist")
        cv2 = _import_cv2()
        self._cv2 = cv2
        self._cap = cv2.VideoCapture(index)
        if not self._cap.isOpened():
            self._cap.release()
            raise CameraUnavailable(f"camera {index} could not be opened (in use, or no permission?)")
        # A small frame keeps inference fast; the landmark model works on a 224x224 crop anyway.
        self._cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        self._cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)

    def read(self) -> np.ndarray | None:
        ok, bgr = self._cap.read()
        if not ok or bgr is None:
            return None
        return self._cv2.cvtColor(bgr, self._cv2.COLOR_BGR2RGB)

    def close(self) -> None:
        self._cap.release()
