"""Device selection and the per-device settings every trial shares.

``auto`` picks the first CUDA GPU when one is visible, else the CPU. On CUDA: cuDNN autotuning
(``cudnn.benchmark``) and TF32 matmuls. On every device: channels_last memory format (oneDNN and
cuDNN both run NHWC convolutions faster). On the CPU, torch's intra-op thread count is set to the
number of usable cores unless ``SPECTRUM_THREADS`` says otherwise (documented environment
variable; a worker sharing a machine with others should lower it), and subnormal floats are
flushed to zero.

Precision: ``float32``, or ``bfloat16`` mixed precision (autocast: float32 weights, optimizer and
loss; convolutions and matmuls in bf16). ``auto`` picks bf16 where the hardware computes it
natively: CUDA GPUs that support it (Ampere and later), and CPUs with AVX512-BF16 or AMX-BF16
instructions, where oneDNN runs bf16 convolutions at about twice the float32 rate. Elsewhere bf16
would be emulated and slower, so ``auto`` means float32 there. ``SPECTRUM_DISABLE_BF16=1``
(documented environment variable) makes ``auto`` resolve as on a CPU without those instructions,
so a machine of either kind can run what the other kind runs.

Describing the device: its name and thread count for trial records and benchmark reports, the CPU
model and feature flags (the one reader of /proc/cpuinfo), and the threading environment.
"""

from __future__ import annotations

import contextlib
import functools
import os
import platform

import torch
from torch import nn

from .errors import SpecError


def resolve_device(name: str = "auto") -> torch.device:
    """Parse ``auto``, ``cpu``, ``cuda`` or ``cuda:N``; the error names the flag value."""
    text = str(name).strip().lower()
    if text == "auto":
        return torch.device("cuda:0") if torch.cuda.is_available() else torch.device("cpu")
    if text == "cpu":
        return torch.device("cpu")
    if text == "cuda" or text.startswith("cuda:"):
        index_text = text.partition(":")[2] or "0"
        if not index_text.isdigit():
            raise SpecError(f"device {name!r}: use auto, cpu, cuda or cuda:N")
        if not torch.cuda.is_available():
            raise SpecError(f"device {name!r}: no CUDA GPU is visible here; use --device cpu")
        index = int(index_text)
        if index >= torch.cuda.device_count():
            raise SpecError(f"device {name!r}: only {torch.cuda.device_count()} GPU(s) visible")
        return torch.device("cuda", index)
    raise SpecError(f"device {name!r}: use auto, cpu, cuda or cuda:N")


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def configure(device: torch.device) -> None:
    """Apply the process-wide settings for ``device`` (idempotent)."""
    if device.type == "cuda":
        torch.cuda.set_device(device)
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    else:
        threads = int(os.environ.get("SPECTRUM_THREADS", "0")) or usable_cores()
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
        # Subnormal numbers take a slow path in the CPU's arithmetic; bf16 training on the CPU
        # ran up to 1.4x slower with them (float32 no slower). Flushing them to zero changes
        # only values below 1e-38.
        torch.set_flush_denormal(True)


def prepare_model(model: nn.Module, device: torch.device) -> nn.Module:
    return model.to(device=device, memory_format=torch.channels_last)


PRECISIONS = ("auto", "float32", "bfloat16")
NATIVE_BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")


def cpuinfo_value(key: str) -> str | None:
    """The text after the colon of the first /proc/cpuinfo line starting with ``key``.

    None where there is no such file or line (not Linux, or a container without /proc).
    """
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith(key):
                    return line.split(":", 1)[1]
    except OSError:
        pass
    return None


@functools.cache
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags from /proc/cpuinfo (empty where there is no such file)."""
    flags = cpuinfo_value("flags")
    return frozenset(flags.split()) if flags is not None else frozenset()


def cpu_name() -> str:
    """The CPU's model name, from /proc/cpuinfo where there is one."""
    name = cpuinfo_value("model name")
    if name is not None:
        return name.strip()
    return platform.processor() or platform.machine()


def native_bf16(device: torch.device) -> bool:
    """True where bf16 convolutions run in hardware (not emulated) on ``device``."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported(including_emulation=False)
    if device.type == "cpu":
        if os.environ.get("SPECTRUM_DISABLE_BF16", "") not in ("", "0"):
            return False
        return any(flag in cpu_flags() for flag in NATIVE_BF16_CPU_FLAGS)
    return False


def check_precision(precision: str) -> str:
    if precision not in PRECISIONS:
        raise SpecError(f"precision {precision!r} is not one of: {', '.join(PRECISIONS)}")
    return precision


def resolve_precision(precision: str, device: torch.device) -> str:
    """``float32`` or ``bfloat16``: what ``precision`` (auto | float32 | bfloat16) means here."""
    if check_precision(precision) == "auto":
        return "bfloat16" if native_bf16(device) else "float32"
    return precision


def autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager:
    """bf16 autocast for a resolved ``precision`` of ``bfloat16``; a no-op for ``float32``."""
    if precision == "bfloat16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


# ---------------------------------------------------------------------------------------------
# Describing the device (for records and benchmark reports)


def device_name(device: torch.device) -> str:
    """``cuda:0 (NVIDIA H200)`` or ``cpu``."""
    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    return "cpu"


def device_summary(device: torch.device) -> str:
    """:func:`device_name` with the torch thread count on the CPU, as trial records store it."""
    if device.type == "cuda":
        return device_name(device)
    return f"cpu ({torch.get_num_threads()} threads)"


def torch_threads() -> int:
    """Host threads (torch's intra-op thread count), on every device."""
    return torch.get_num_threads()


def device_label(device: torch.device, threads: int | None = None) -> str:
    """``cuda0``, ``cpu``, or ``cpu-1t`` when fewer threads than usable cores run (``threads``;
    default: the threads this process is configured with)."""
    if device.type == "cuda":
        return f"cuda{device.index or 0}"
    threads = torch.get_num_threads() if threads is None else threads
    return device.type if threads == usable_cores() else f"{device.type}-{threads}t"


THREADING_ENV = ("SPECTRUM_THREADS", "OMP_NUM_THREADS", "OMP_WAIT_POLICY", "MKL_NUM_THREADS")


def threading_env() -> dict[str, str]:
    """The environment variables that change how the CPU threads behave, as set for this run."""
    return {name: os.environ[name] for name in THREADING_ENV if name in os.environ}
