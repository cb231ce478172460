"""A real browser: headless Chromium on a phone-sized viewport opens the room's page, a finger drags
the puck, and a real engine's weights move (Debian's chromium + chromium-driver, selenium)."""

from __future__ import annotations

import time

import pytest

from tests.controllers.audience.conftest import ServerThread
from tests.fakes import EngineProbe
from textconductor.controllers.audience.server import AudienceServer, AudienceSettings
from textconductor.protocol import EngineConnection, decode_output
from textconductor.protocol.puck_geometry import style_positions
from textconductor.tools.phone_browser import missing, phone_browser, touch_drag

pytestmark = pytest.mark.skipif(missing() is not None, reason=f"no headless Chromium here: {missing()}")


def test_a_finger_on_the_phone_moves_the_engine(live_engine, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    port = live_engine.sock.address[1]
    names = live_engine.conductor.names
    probe = EngineProbe(port)
    probe.send("/tc/subscribe", probe.port)
    probe.wait_for("/tc/hello")
    probe.send("/tc/crowd_mode", "crowd")
    connection = EngineConnection("127.0.0.1", port, subscribe=True)
    server = AudienceServer(AudienceSettings(port=0), connection)
    connection.on_message = server.on_engine
    thread = ServerThread(server)
    driver = phone_browser()
    try:
        deadline = time.monotonic() + 20
        while server.bank != names and time.monotonic() < deadline:
            time.sleep(0.05)
        driver.get(thread.base + "/")
        wait = WebDriverWait(driver, 20)
        wait.until(lambda d: d.execute_script("return document.getElementById('state').textContent")
                   .startswith(("connected", "0 phones")))
        canvas = driver.find_element(By.ID, "puck")
        target = names.index("linux")
        x, y = style_positions(len(names))[target]
        touch_drag(driver, canvas, [(0.0, 0.0), (x / 2, y / 2), (x, y)])
        args = probe.wait_for("/tc/tick", lambda a: decode_output("/tc/tick", a).weights[target] > 0.99, timeout=20)
        assert decode_output("/tc/tick", args).weights[target] == pytest.approx(1.0)
        wait.until(lambda d: "linux" in d.find_element(By.ID, "pull").text.lower()
                   or "Linux" in d.find_element(By.ID, "pull").text)
        assert server.counters()["rejected"] == {}
        assert driver.get_screenshot_as_file(str(tmp_path / "phone.png"))
    finally:
        driver.quit()
        thread.close()
        connection.close()
        probe.send("/tc/crowd_mode", "off")
        probe.close()
