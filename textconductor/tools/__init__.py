"""Tools on top of the library: benchmarks, soak runs, screenshots, reports. They may import any layer."""
