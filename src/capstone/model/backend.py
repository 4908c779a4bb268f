"""Where and how training computes: the seed, the numeric precision this CPU or GPU runs
natively (mixed bfloat16 only where the hardware has it: emulated bf16 is 8x slower than
float32), the devices, and the distribution strategy."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

import keras


def set_seed(seed: int) -> None:
    """Fix the Python, NumPy and backend seeds; under TensorFlow, ask for deterministic kernels."""
    keras.utils.set_random_seed(seed)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


def effective_precision(requested: str) -> str:
    """The precision a run trains in on this machine: never bf16 where it would be emulated.

    ``float32`` stays; ``auto`` and ``mixed_bfloat16`` give ``mixed_bfloat16`` where bf16 is
    native (:func:`native_bf16`; also where that cannot be told) and ``float32`` elsewhere.
    """
    if requested == "float32":
        return "float32"
    if requested not in ("auto", "mixed_bfloat16"):
        raise ValueError(f"unknown precision {requested!r}; use auto, float32 or mixed_bfloat16")
    return "float32" if native_bf16() is False else "mixed_bfloat16"


def native_bf16(cpuinfo: str | Path = "/proc/cpuinfo") -> bool | None:
    """Whether bf16 math runs natively: a visible GPU, or a CPU flag ``avx512_bf16``/``amx_bf16``.

    ``None`` when it cannot tell (no GPU and no ``cpuinfo`` file, e.g. not on Linux).
    """
    if gpu_visible():
        return True
    cpuinfo = Path(cpuinfo)
    if not cpuinfo.is_file():
        return None
    return not {"avx512_bf16", "amx_bf16"}.isdisjoint(cpuinfo.read_text().split())


def gpu_visible() -> bool:
    """Whether the Keras backend sees a GPU."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return bool(tf.config.list_physical_devices("GPU"))
    if backend == "jax":
        import jax

        return any(d.platform == "gpu" for d in jax.devices())
    if backend == "torch":
        import torch

        return torch.cuda.is_available()
    return False


def distribution_scope(name: str) -> Callable[[], contextlib.AbstractContextManager]:
    """Where models are built and compiled, as a function that opens that scope:
    ``default``, the current device (CPU or one GPU, on any backend); ``mirrored``, every
    local GPU (TensorFlow's ``MirroredStrategy``; ``batch_size`` is then the global batch,
    split across the GPUs)."""
    if name == "default":
        return contextlib.nullcontext
    if name != "mirrored":
        raise ValueError(f"unknown distribution {name!r}; use default or mirrored")
    if keras.backend.backend() != "tensorflow":
        raise ValueError(
            f"distribution mirrored needs the TensorFlow backend, not {keras.backend.backend()}; "
            "use distribution default (one device)"
        )
    import tensorflow as tf

    return tf.distribute.MirroredStrategy().scope
