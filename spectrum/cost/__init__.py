"""What a network costs: parameters and FLOPs (``counts``), measured latency (``latency``),
width multipliers that match a budget (``matching``), and the table ``spectrum count`` prints
(``table``)."""
