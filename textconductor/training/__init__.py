"""Training apart from the runtime model: corpora, the training loop, evaluation, n-gram baselines,
the style classifier, and the bank recipe."""
