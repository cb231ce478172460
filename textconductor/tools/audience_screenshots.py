"""Screenshots of the audience for the docs: a phone's page (headless Chromium) and the window with the
crowd cloud, both fed by a real engine (the bundled bank), a real `textconductor audience` server and a
room of simulated phones (`sim_phones`), all on loopback.

    python -m textconductor.tools.audience_screenshots docs/screenshots

writes `audience-phone.png` and `crowd-window.png` there. Needs Chromium (`phone_browser.missing()`).
"""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from pathlib import Path

from textconductor.errors import UserError
from textconductor.tools.harness import stop_process

log = logging.getLogger(__name__)

PHONES = 80
ROOM_STYLES = ("bible", "austen", "sherlock", "linux")  # a room with a taste


def take(out_dir: Path, seconds: float = 25.0) -> list[Path]:
    from textconductor.tools import bench_audience as ba
    from textconductor.tools.harness import free_udp_port
    from textconductor.tools.phone_browser import missing, phone_browser, touch_drag
    from textconductor.tools.screenshots import start_engine
    if missing():
        raise UserError(f"no headless Chromium here: {missing()}")
    out_dir.mkdir(parents=True, exist_ok=True)
    from textconductor.assets import BANK_DIR
    port = free_udp_port()
    engine = start_engine(sorted(str(p) for p in BANK_DIR.glob("*.safetensors")), port, rate=20.0)
    procs: list[subprocess.Popen] = [engine]
    try:
        from textconductor.protocol import EngineConnection
        conn = EngineConnection("127.0.0.1", port)
        if not conn.wait_for_engine(90):
            raise UserError("the engine did not start")
        names = conn.styles
        conn.send("/tc/crowd_mode", "blend", 0.6)
        conn.set_weights({n: (1.0 if n == "whitman" else 0.0) for n in names})
        server, url = ba.start_server(port, max_phones=200, extra=["--allow-prime"])
        procs.append(server)
        procs.append(subprocess.Popen([sys.executable, "-m", "textconductor.tools.sim_phones", url, str(PHONES),
                                       str(seconds + 30), str(len(names)),
                                       ",".join(str(names.index(n)) for n in ROOM_STYLES), "0.5"],
                                      stdout=subprocess.DEVNULL))
        time.sleep(6)
        phone = _phone_shot(out_dir / "audience-phone.png", url, names, phone_browser, touch_drag)
        window = _window_shot(out_dir / "crowd-window.png", port, url)
        conn.send("/tc/crowd_mode", "off")
        conn.close()
        return [phone, window]
    finally:
        for p in reversed(procs):
            stop_process(p)


def _phone_shot(path: Path, url: str, names: list[str], phone_browser, touch_drag) -> Path:
    from selenium.webdriver.common.by import By

    from textconductor.protocol.puck_geometry import style_positions
    driver = phone_browser()
    try:
        driver.get(url)
        time.sleep(2)
        canvas = driver.find_element(By.ID, "puck")
        x, y = style_positions(len(names))[names.index("austen")]
        touch_drag(driver, canvas, [(0.0, 0.0), (0.5 * x, 0.5 * y), (0.78 * x, 0.78 * y)])
        time.sleep(4)  # a few broadcasts: own pull, the room, the text
        driver.save_screenshot(str(path))
    finally:
        driver.quit()
    log.info("wrote %s", path)
    return path


def _window_shot(path: Path, port: int, url: str) -> Path:
    import os
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from textconductor.cli.window_controllers import real_controllers
    from textconductor.frontend.app import build_window, qapp
    from textconductor.tools.screenshots import _pump_until
    qapp()
    win = build_window(f"127.0.0.1:{port}", 0, controllers=real_controllers())
    win.resize(1600, 900)
    win.show()
    win.crowd.set_url(url)
    _pump_until(lambda: len(win.crowd.cloud.points) > 20 and win.ticks_received > 150, 60)
    _pump_until(lambda: False, 1.0)
    win.grab().save(str(path))
    win.close()
    log.info("wrote %s", path)
    return path


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    for p in take(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")):
        print(p)
