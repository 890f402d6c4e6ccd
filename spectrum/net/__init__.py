"""The networks: g segments (``segments``), the spectrum block (``blocks``), and Xception with
its CPU-sized proxies (``xception``)."""
