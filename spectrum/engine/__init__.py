"""Training: the engine that trains one net with its data on the device (``train``) and the
throughput benchmark against a plain PyTorch loop (``bench``)."""
