"""What a point of the spectrum costs: Xception at g = 8, a proxy at g = 4, the width at which
g = 4 costs what g = C does, and the one-line error an invalid g raises.

Run: python examples/costs.py
"""

import spectrum

model = spectrum.xception(segments=8, num_classes=10)
params = sum(p.numel() for p in model.parameters())
print(f"Xception, g = 8: {params:,} parameters")  # 40,741,058 parameters

proxy = spectrum.proxy(segments=4, entry="C")  # proxy-28: 28x28x1 inputs, 10 classes
counts = spectrum.count(proxy, (1, 28, 28), latency=False)  # FLOPs: multiply-adds, one image
print(f"proxy-28, g = 4 (entry flow g = C): {counts.params:,} params, {counts.flops:,} FLOPs")

matched = spectrum.match_width(4, metric="params")  # the width at which g = 4 costs what g = C does
print(
    f"g = 4 at width {matched.width_multiplier:.3f}: {matched.value:,} params, target {matched.target:,}"
)

try:
    spectrum.proxy(segments=3)
except spectrum.SegmentsError as error:  # the message `spectrum count --segments 3` prints
    print(f"g = 3: {error}")
