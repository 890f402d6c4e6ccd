"""The networks: g segments (``segments``), the spectrum block (``blocks``), the network families'
shapes (``presets``), Xception with its CPU-sized proxies (``xception``) and the options of one
network, declared once for the API and the command line (``net_options``)."""
