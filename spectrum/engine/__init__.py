"""Training: the engine that trains one net with its data on the device (``train``) and the
throughput benchmark against a plain PyTorch loop (``bench``: the interleaved measurement;
``reference``: the plain loop and the matmul peak; ``bench_report``: its CSV and markdown)."""
