"""The report's numbers: plain data computed from a study, no files, no figures, no markup.

Nothing is imported here, so importing one analysis module does not load the others.
"""
