"""Training speed by Keras backend and device: images per second, and the share of peak.

    python benchmarks/backend_speed.py                                  # CPU: TF and JAX, float32
    python benchmarks/backend_speed.py --backends jax torch --precision mixed_bfloat16 \\
        --peak-tflops 989 --images 65536 --batch-size 256                # one H200, dense bf16

Each backend runs in its own process (Keras picks its backend when it is imported) and
trains the project's CNN on random 48x48 faces with light augmentation, exactly as
:func:`capstone.model.training.train` does: through :func:`capstone.model.inputs.training_inputs`,
so TensorFlow reads a ``tf.data`` pipeline and the other backends NumPy batches with the
augmentation inside the fitted model. ``--tf-neutral`` also times TensorFlow on that
backend-neutral path. One untimed epoch compiles; the table gives the best and the median
of ``--repeats`` timed epochs.

The share of peak counts the network's multiply-adds (convolutions and dense layers, twice
each as floating-point operations, three times over for the forward and backward pass)
against ``--peak-tflops``, the device's dense peak in that precision; without it, only
the achieved TFLOP/s are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
import pandas as pd


def training_flops_per_image(model) -> float:
    """Floating-point operations of one training step per image (3x the forward pass)."""
    import keras

    forward = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            kh, kw = layer.kernel_size
            _, h, w, c_out = layer.output.shape
            forward += 2 * kh * kw * layer.input.shape[-1] * c_out * h * w
        elif isinstance(layer, keras.layers.Dense):
            forward += 2 * layer.input.shape[-1] * layer.units
    return 3.0 * forward


def measure(args: argparse.Namespace, tf_data: bool) -> dict:
    """Time training under this process's backend; one result row."""
    import keras

    from capstone.model.backend import effective_precision, set_seed
    from capstone.model.inputs import training_inputs
    from capstone.model.training import build_model
    from capstone.params import Phase, TrainRun

    set_seed(0)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(args.images, 48, 48), dtype=np.uint8)
    y = rng.integers(0, 7, size=args.images)
    phase = Phase(epochs=1, augment="light")
    run = TrainRun(
        name="bench",
        architecture="compact_cnn",
        width=args.width,
        batch_size=args.batch_size,
        precision=args.precision,
        phases=[phase],
    )
    network = build_model(run)
    data, fitted = training_inputs(network, (x, y), run.batch_size, phase, seed=0, tf_data=tf_data)
    fitted.compile(optimizer="adamw", loss="categorical_crossentropy")
    fitted.fit(data, epochs=1, verbose=0)
    speeds = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        fitted.fit(data, epochs=1, verbose=0)
        speeds.append(args.images / (time.perf_counter() - start))
    flops = training_flops_per_image(network)
    best = max(speeds)
    row = {
        "backend": keras.backend.backend(),
        "data path": "tf.data" if tf_data else "NumPy batches",
        "device": device_name(),
        "precision": effective_precision(args.precision),
        "batch": args.batch_size,
        "images/s (best)": round(best),
        "images/s (median)": round(float(np.median(speeds))),
        "TFLOP/s": round(best * flops / 1e12, 3),
    }
    if args.peak_tflops:
        row["share of peak"] = round(best * flops / 1e12 / args.peak_tflops, 4)
    return row


def run_is_tf() -> bool:
    import keras

    return keras.backend.backend() == "tensorflow"


def device_name() -> str:
    """The device training ran on, as the backend names it."""
    from capstone.model.backend import gpu_visible

    if not gpu_visible():
        return f"CPU ({os.cpu_count()} cores)"
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return jax.devices()[0].device_kind
    if backend == "torch":
        import torch

        return torch.cuda.get_device_name(0)
    return "GPU"


def child(args: argparse.Namespace) -> None:
    tf_data = run_is_tf()  # the path training takes under this backend
    rows = [measure(args, tf_data)]
    if args.tf_neutral and tf_data:
        rows.append(measure(args, False))
    for row in rows:
        print("ROW " + json.dumps(row), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=["tensorflow", "jax"])
    parser.add_argument("--precision", default="float32", choices=["float32", "mixed_bfloat16"])
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--images", type=int, default=4096)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--peak-tflops", type=float, default=None)
    parser.add_argument("--tf-neutral", action="store_true", help="also time TF on NumPy batches")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    rows = []
    for backend in args.backends:
        command = [sys.executable, __file__, "--child", *sys.argv[1:]]
        done = subprocess.run(
            command,
            env=os.environ | {"KERAS_BACKEND": backend},
            capture_output=True,
            text=True,
            check=False,
        )
        found = [json.loads(line[4:]) for line in done.stdout.splitlines() if line[:4] == "ROW "]
        if done.returncode != 0 or not found:
            print(f"{backend}: failed\n{done.stderr[-1500:]}")
            continue
        for row in found:
            print(row, flush=True)
        rows += found
    if rows:
        print(f"\ncompact_cnn(width={args.width}), {args.images} random faces, light augmentation")
        print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
