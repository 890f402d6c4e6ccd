"""Report sections: plain data from :mod:`spectrum.report.analysis` turned into document blocks.

Each module has one ``*_blocks`` function per section; the sweep and search reports lay them out.
"""
