"""The guards in a real engine process: /tc/guard, /tc/guards, /tc/guarded, the blocklist file
re-read while playing, filtered primes, and an exact replay with both guards acting."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from tests.engine.conftest import LOOP
from tests.fakes import EngineProbe, free_port
from textconductor.engine.record import read_record
from textconductor.protocol import OUT_GUARDED, OUT_GUARDS, OUT_PRIMED, OUT_TICK, Guards
from textconductor.tools.harness import engine_command


def test_guards_live_and_the_performance_replays_exactly(loop_bank, tmp_path):
    record, blocklist, port = tmp_path / "perf.jsonl", tmp_path / "blocklist.txt", free_port()
    blocklist.write_text("# nothing the looper writes yet\nklmno\n")
    proc = subprocess.Popen(engine_command("--port", port, "--rate", 200, "--seed", 5, "--temperature", 0.3,
                                           "--record", record, "--blocklist", blocklist, checkpoints=loop_bank),
                            stderr=subprocess.DEVNULL)
    c = EngineProbe(port)
    seen: dict[str, list] = {OUT_GUARDS: [], OUT_GUARDED: [], OUT_PRIMED: [], OUT_TICK: []}

    def listen(seconds: float) -> None:
        for address, args in c.messages(0.3, at_most=seconds):
            if address in seen:
                seen[address].append(args)

    try:
        deadline = time.monotonic() + 60
        while not seen[OUT_GUARDS] and time.monotonic() < deadline:
            c.send("/tc/subscribe", c.port)
            listen(0.3)
        first = Guards.decode(seen[OUT_GUARDS][0])
        assert first.on and first.blocklist == 1  # on by default; the file was read at start
        listen(2.0)  # the loop guard at work
        c.send("/tc/guard", 0)  # off: the looper's loop comes back, its whole word with it ...
        blocklist.write_text(LOOP.strip() + "\n")  # ... which is now blocked: re-read within a second
        listen(2.5)
        c.send("/tc/guard", 1, 0.9)
        listen(1.0)
        c.send("/tc/prime", "the abcdefghijklmnopqrstuvwxyz is gone")
        listen(1.5)
    finally:
        proc.terminate()
        proc.wait(10)
        c.close()
    last = Guards.decode(seen[OUT_GUARDS][-1])
    assert last.on and last.strength == pytest.approx(0.9) and last.blocklist == 1 and last.loop_acts > 0
    assert last.blocked > 0 and last.prime_dropped == 1
    assert any(Guards.decode(g).on is False for g in seen[OUT_GUARDS])
    kinds = {args[1] for args in seen[OUT_GUARDED]}
    assert {"loop", "blocklist"} <= kinds
    assert ("the  is gone",) in [args[1:] for args in seen[OUT_PRIMED]]  # echoed as it entered: word cut

    lines = read_record(record)
    cmds = [ln["cmd"] for ln in lines if ln["type"] == "event"]
    assert cmds == ["guard", "blocklist", "guard", "prime"]
    assert lines[0]["state"]["blocklist"] == ["klmno"] and lines[0]["state"]["guard"]["on"] is True
    r = subprocess.run([sys.executable, "-m", "textconductor", "replay", str(record)], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0 and "replay matches" in r.stdout, r.stdout + r.stderr
