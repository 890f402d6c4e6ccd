"""What a network costs: parameters and FLOPs (``counts``), the weights and multiply-adds that
touch real input (``live``), every cost by name (``metrics``), measured latency (``latency``),
width multipliers that match a budget (``matching``), and the table ``spectrum count`` prints
(``table``)."""
