"""Performance records: written by a real engine process, replayed exactly, exported."""

import json
import subprocess
import sys
import time

import pytest

from tests.fakes import EngineProbe, free_port
from textconductor.engine.record import read_record
from textconductor.errors import UserError
from textconductor.tools.harness import engine_command


def cli(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "textconductor", *args], capture_output=True, text=True,
                          timeout=timeout)


def test_live_performance_replays_exactly(tiny_bank, tmp_path):
    record, port = tmp_path / "perf.jsonl", free_port()
    proc = subprocess.Popen(engine_command("--port", port, "--rate", 150, "--seed", 9, "--record", record,
                                           checkpoints=tiny_bank), stderr=subprocess.DEVNULL)
    c = EngineProbe(port)
    try:
        c.wait_until_up()
        script = [("/tc/weights", 0.5, 0.5, 0.0), ("/style/gamma", 1.0), ("/tc/temperature", 0.6),
                  ("/tc/prime", "And it was so.\n\n"), ("/tc/mix", "product"), ("/tc/enable", "alpha", 0),
                  ("/tc/pause",), ("/tc/resume",), ("/tc/weight", "beta", 0.0)]
        for msg in script:
            c.send(*msg)
            time.sleep(0.25)
        time.sleep(1.5)
    finally:
        proc.terminate()
        proc.wait(10)
        c.close()
    lines = read_record(record)
    events = [ln for ln in lines if ln["type"] == "event"]
    assert [e["cmd"] for e in events] == ["weights", "weight", "temperature", "prime", "mix", "enable", "pause",
                                          "resume", "weight"]
    r = cli("replay", str(record))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "replay matches" in r.stdout
    chars = sum(len(ln["text"]) for ln in lines if ln["type"] == "text")
    assert chars > 150 and f"{chars:,} of {chars:,}" in r.stdout

    md = cli("export", str(record), "--format", "md")
    assert md.returncode == 0 and md.stdout.startswith("# Performance") and "%" in md.stdout
    txt = cli("export", str(record))
    assert "And it was so." in txt.stdout


def test_tampered_record_diverges(tiny_bank, tmp_path):
    record = tmp_path / "p.jsonl"
    r = cli("engine", "--checkpoints", *map(str, tiny_bank), "--port", "0", "--rate", "0", "--max-chars", "200",
            "--record", str(record), "--weights", "alpha=1", "beta=1")
    assert r.returncode == 0, r.stderr
    lines = [json.loads(x) for x in record.read_text().splitlines()]
    text = next(ln for ln in lines if ln["type"] == "text")
    k = 57
    text["text"] = text["text"][:k] + ("#" if text["text"][k] != "#" else "%") + text["text"][k + 1:]
    record.write_text("\n".join(json.dumps(ln) for ln in lines) + "\n")
    r = cli("replay", str(record))
    assert r.returncode == 1 and f"DIVERGES at tick {text['tick'] + k}" in r.stdout


def test_torn_last_line_is_tolerated_and_garbage_refused(tmp_path):
    p = tmp_path / "r.jsonl"
    p.write_text('{"type":"start","seed":0,"styles":[],"files":[],"state":{}}\n{"type":"text","tick":0,"te')
    assert len(read_record(p)) == 1
    p.write_text("hello\nworld\n")
    with pytest.raises(UserError):
        read_record(p)


def test_a_new_performance_never_appends_to_a_record_that_has_one(tiny_bank, tmp_path):
    record = tmp_path / "show.jsonl"
    for seed in (1, 2):  # `play --record show.jsonl` twice: two performances, one file each
        run = subprocess.run(engine_command("--port", free_port(), "--rate", 0, "--seed", seed, "--max-chars", 120,
                                            "--record", record, checkpoints=tiny_bank),
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr[-2000:]
    second = tmp_path / "show-2.jsonl"
    assert "holds a performance already: recording this one to" in run.stderr and second.exists()
    for path, seed in ((record, 1), (second, 2)):
        lines = read_record(path)
        assert [ln["type"] for ln in lines].count("start") == 1 and lines[0]["seed"] == seed
        r = cli("replay", str(path))
        assert r.returncode == 0 and "replay matches" in r.stdout, r.stdout + r.stderr


def test_a_missing_or_unreadable_record_is_a_one_line_error(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b"\xff\xfe")
    for path in (tmp_path / "missing.jsonl", bad):
        r = cli("replay", str(path))
        assert r.returncode == 2 and "cannot read the record" in r.stderr and "Traceback" not in r.stderr
