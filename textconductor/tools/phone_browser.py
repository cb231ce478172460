"""A phone in a headless Chromium (Debian's chromium + chromium-driver, driven by selenium): for the
audience page's browser test and its screenshot. Nothing here is needed to play.

Chromium is found on PATH; when it (or selenium) is missing, `missing()` says what to install.
"""

from __future__ import annotations

import shutil
from typing import Any

INSTALL = "apt-get install chromium chromium-driver && pip install selenium  (the dev extra has selenium)"
PHONE = (390, 844)  # CSS pixels: a common phone's viewport


def missing() -> str | None:
    """None when a headless phone can start here; else what to install."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return INSTALL
    if not (shutil.which("chromium") or shutil.which("chromium-browser")) or not shutil.which("chromedriver"):
        return INSTALL
    return None


def phone_browser(width: int = PHONE[0], height: int = PHONE[1], scale: float = 2.0) -> Any:
    """A headless Chromium emulating a touch phone of `width` x `height` CSS pixels."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--disable-extensions", "--disable-background-networking"):
        opts.add_argument(arg)
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary:
        opts.binary_location = binary
    opts.add_experimental_option("mobileEmulation", {
        "deviceMetrics": {"width": width, "height": height, "pixelRatio": scale, "touch": True},
        "userAgent": "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/150 Mobile"})
    return webdriver.Chrome(options=opts, service=Service(shutil.which("chromedriver")))


def puck_offset(driver: Any, canvas: Any, x: float, y: float) -> tuple[int, int]:
    """Pixels from the canvas's centre of the puck position (x, y) in circle units, asked of the page itself."""
    sx, sy, w, h = driver.execute_script(
        "const p = window.tcPuck.toScreen(arguments[1], arguments[2]);"
        "return [p[0], p[1], arguments[0].clientWidth, arguments[0].clientHeight];", canvas, float(x), float(y))
    return round(sx - w / 2), round(sy - h / 2)


def touch_drag(driver: Any, canvas: Any, path: list[tuple[float, float]], step_ms: int = 60) -> None:
    """A finger on the canvas: down at the first point (circle units), through the rest, then up."""
    from selenium.webdriver.common.actions import interaction
    from selenium.webdriver.common.actions.action_builder import ActionBuilder
    from selenium.webdriver.common.actions.pointer_input import PointerInput
    finger = PointerInput(interaction.POINTER_TOUCH, "finger")
    actions = ActionBuilder(driver, mouse=finger, duration=step_ms)
    first = True
    for x, y in path:
        dx, dy = puck_offset(driver, canvas, x, y)
        actions.pointer_action.move_to(canvas, dx, dy)
        if first:
            actions.pointer_action.pointer_down()
            first = False
        actions.pointer_action.pause(step_ms / 1000)
    actions.pointer_action.pointer_up()
    actions.perform()
