"""The report's figures: one module per figure family, each with ``draw(...) -> Plot``.

``style`` holds the shared plumbing (matplotlib style, deterministic PNG/SVG saving, colours, the
g axis). Nothing is imported here, so matplotlib loads only when a figure module is imported.
"""
