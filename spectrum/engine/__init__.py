"""Training: the engine that trains one net with its data on the device (``train``), the data
one training process holds (``device_data``) and one trial across processes (``distributed``).
Its throughput benchmark is :mod:`spectrum.bench.train`."""
