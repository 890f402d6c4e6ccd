"""The networks: g segments (``segments``), the spectrum block (``blocks``), the network families'
shapes (``presets``) and Xception with its CPU-sized proxies (``xception``)."""
