"""The performer's window (Qt + pyqtgraph): renders a Qt-free `performer.Performer`, talks OSC to the engine.

Layering: imports only the foundation modules, `textconductor.protocol`, Qt, pyqtgraph and numpy.
Controllers reach it through `controller_api` Protocols injected from above (`cli.window_controllers`).
"""
