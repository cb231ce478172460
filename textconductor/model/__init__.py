"""The runtime model: the char-LSTM, its safetensors checkpoints, and sampling from one style."""
