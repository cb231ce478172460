"""The engine: the bank, mixer, sampler, conductor (one tick, no I/O), OSC server, runner, record
and replay. `root` assembles them from plain values (load, build, go live) for every caller."""
