"""The engine's composition root in-process, from plain values: load, build, go live, restore."""

from __future__ import annotations

import dataclasses

import pytest

from tests.fakes import next_tick, subscriber_socket
from textconductor.engine import snapshot
from textconductor.engine.root import (
    Live,
    SettingError,
    Settings,
    StyleSource,
    build_conductor,
    open_bank,
    start_engine,
)
from textconductor.errors import UserError
from textconductor.protocol.defaults import DEFAULT_RATE, DEFAULT_TEMPERATURE, RESYNC_CHARS


def test_settings_default_to_the_shared_defaults():
    s = Settings()
    assert (s.rate, s.temperature, s.resync_chars) == (DEFAULT_RATE, DEFAULT_TEMPERATURE, RESYNC_CHARS)
    s.check()


@pytest.mark.parametrize("field,value", [("rate", -3.0), ("temperature", 0.0), ("threshold", 0.9), ("top_p", 0.0),
                                         ("rate", float("nan"))])
def test_an_out_of_range_setting_is_named(field, value):
    with pytest.raises(SettingError) as e:
        dataclasses.replace(Settings(), **{field: value}).check()
    assert e.value.setting == field and "outside" in e.value.problem
    assert isinstance(e.value, UserError)  # one line at the CLI, never a traceback


def test_styles_from_files_or_a_folder(tiny_bank):
    bank, names = open_bank(StyleSource(checkpoints=tuple(tiny_bank)))
    assert names == ["alpha", "beta", "gamma"] and bank.n == 3
    _, names = open_bank(StyleSource(bank=tiny_bank[0].parent, styles=("gamma", "alpha")))
    assert names == ["gamma", "alpha"]
    with pytest.raises(UserError, match="no style"):
        StyleSource(bank=tiny_bank[0].parent, styles=("nope",)).paths()


def test_build_applies_weights_and_prime(tiny_bank):
    bank, names = open_bank(StyleSource(checkpoints=tuple(tiny_bank)))
    c = build_conductor(bank, names, Settings(rate=0.0, seed=3, weights=(("beta", 0.5), ("gamma", 0.5)),
                                              prime="Once upon"))
    assert c.raw.tolist() == [0.0, 0.5, 0.5]
    assert c.params.seed == 3 and c.params.rate == 0.0
    assert c.text_tail(9) == "Once upon"
    with pytest.raises(SettingError, match="unknown style") as e:
        build_conductor(bank, names, Settings(weights=(("zeta", 1.0),)))
    assert e.value.setting == "weights"


def test_the_same_values_give_the_same_text(tiny_bank):
    def text() -> str:
        bank, names = open_bank(StyleSource(checkpoints=tuple(tiny_bank)))
        c = build_conductor(bank, names, Settings(seed=5, weights=(("alpha", 0.5), ("beta", 0.5))))
        return "".join(c.tick().char for _ in range(80))
    assert text() == text()


def test_live_engine_publishes_records_and_restores_its_listeners(tiny_bank, tmp_path):
    bank, names = open_bank(StyleSource(checkpoints=tuple(tiny_bank)))
    sub = subscriber_socket()
    record, state = tmp_path / "perf.jsonl", tmp_path / "state.json"
    engine = start_engine(build_conductor(bank, names, Settings(rate=0.0)),
                          Live(port=0, subscribers=(sub.getsockname(),), record=record, state=state))
    try:
        engine.sock.start()
        engine.run(max_ticks=30)
        assert next_tick(sub).tick == 0
    finally:
        engine.close()
    assert record.read_text().startswith('{"type":"start"')
    assert snapshot.read(state)["tick"] == 30

    # A restarted engine: same tick, the old listener still served, the record continued.
    again = start_engine(build_conductor(bank, names, Settings(rate=0.0)),
                         Live(port=0, record=record, state=state, restore=state))
    try:
        assert again.conductor.tick_index == 30
        assert list(sub.getsockname()) in [list(a) for a in again.subscribers]
    finally:
        again.close()
        sub.close()
    assert '"type":"restore"' in record.read_text().splitlines()[-1]
