"""textconductor: a real-time instrument for conducting text with a bank of character LSTMs."""

__version__ = "0.1.0"
