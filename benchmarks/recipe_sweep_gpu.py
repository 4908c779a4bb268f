"""Rank training recipes for the project's CNN on a GPU, with a PyTorch replica of it.

The full profile bought 43 epochs of the CNN in 90 minutes on 2 CPU cores with Keras' batch
norm, and 58 in 69 minutes with the fused one (recipe 10), so a CPU session can try one
recipe. This script trains a PyTorch copy of ``compact_cnn`` (same layers, Keras'
initialisers, batch-norm settings, AdamW, cosine decay, label smoothing, bf16, batch 64,
light augmentation done on the GPU) on FER2013 Training and reports its PublicTest
(validation) accuracy, so that many recipes of the same *CPU* cost can be compared in
minutes. The test sets are never read. It is a development tool: it needs PyTorch, which the
project does not, and its figures rank recipes; the Keras pipeline gives the real ones.

Pack the training and validation faces (lossless WebP, small enough to carry to a GPU
machine; FER2013-derived, so keep the file out of the repository)::

    python benchmarks/recipe_sweep_gpu.py pack data/processed sweep/fer.pkl

Then run every variant with two seeds, eight processes sharing the GPU::

    python benchmarks/recipe_sweep_gpu.py run sweep/fer.pkl OUT --workers 8
    python benchmarks/recipe_sweep_gpu.py run sweep/fer.pkl OUT --jobs seq:42 r7:44

Each finished run appends one JSON line to ``OUT/results.jsonl`` (and, for the ``r8``
variants, a second one with the validation scores after the evaluation stage's head refit);
per-epoch lines go to ``OUT/epochs.txt``. Runs of a variant that keeps its validation
log-probabilities (``r8half``) are ensembled in pairs of consecutive seeds, on any machine::

    python benchmarks/recipe_sweep_gpu.py pairs sweep/fer.pkl OUT/results.jsonl r8half

``--device cpu --limit 600 --jobs smoke:42`` checks the script anywhere.
"""

from __future__ import annotations

import argparse
import json
import math
import pickle
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

CLASSES = 7
# The reference is recipe 7's baseline: (epochs, learning rate, image size) per phase. A
# variant changes some settings and keeps the CPU cost (a 32-px epoch costs 0.55 of a 48-px one).
RECIPE_7 = [(20, 1e-3, 32), (23, 5e-4, 48)]
DEFAULTS = {
    "phases": RECIPE_7,
    "width": 32,
    "opt": "adamw",
    "ls": 0.1,
    "wd": 1e-4,
    "mixup": 0.0,
    "ema": 0.0,
    "seq": False,
    "keep_logits": False,
}
VARIANTS = {
    "r7": {},
    "sgd": {"opt": "sgd", "phases": [(20, 0.02, 32), (23, 0.01, 48)], "wd": 5e-4},
    "mixup": {"mixup": 0.2},
    "ema": {"ema": 0.999},
    "w40": {"width": 40, "phases": [(13, 1e-3, 32), (15, 5e-4, 48)]},
    "all48": {"phases": [(34, 1e-3, 48)]},
    "ls0": {"ls": 0.0},
    "wd05": {"wd": 0.05},
    "seq": {"seq": True},  # Keras' layers: flip, then translate, then rotate, two resamplings
    # Recipe 8 (weight decay 0.05, one resampling) and variants of it; each run is also scored
    # after the evaluation stage's head refit (see finish()).
    "r8": {"wd": 0.05},
    "r8ema": {"wd": 0.05, "ema": 0.999},
    "r8ls2": {"wd": 0.05, "ls": 0.2},
    "r8all48": {"wd": 0.05, "phases": [(34, 1e-3, 48)]},
    # Half of recipe 8's epochs: two such networks cost one recipe 8. Their validation
    # log-probabilities are kept so that pairs of seeds can be ensembled afterwards.
    "r8half": {"wd": 0.05, "phases": [(10, 1e-3, 32), (11, 5e-4, 48)], "keep_logits": True},
}
SMOKE = {
    "smoke": {"phases": [(2, 1e-3, 32), (3, 5e-4, 48)]},
    "smokeseq": {"phases": [(1, 1e-3, 32), (1, 5e-4, 48)], "seq": True},
    "smokeema": {"phases": [(1, 1e-3, 32), (1, 5e-4, 48)], "ema": 0.999, "wd": 0.05},
    "smokehalf": {"phases": [(1, 1e-3, 32), (1, 5e-4, 48)], "keep_logits": True},
}


def build(width, nn):
    """``capstone.model.architectures.compact_cnn`` in PyTorch, with Keras' default initialisers."""
    layers, channels = [], 1
    for i, filters in enumerate([width, width * 2, width * 4, width * 8]):
        for _ in range(2):
            layers += [
                nn.Conv2d(channels, filters, 3, padding=1, bias=False),
                nn.BatchNorm2d(filters, eps=1e-3, momentum=0.1),  # Keras: momentum 0.9
                nn.ReLU(),
            ]
            channels = filters
        layers.append(nn.MaxPool2d(2))
        if i >= 2:
            layers.append(nn.Dropout(0.1))
    layers += [
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(channels, width * 8),
        nn.ReLU(),
        nn.Dropout(0.3),
        nn.Linear(width * 8, CLASSES),
    ]
    model = nn.Sequential(*layers)
    for m in model.modules():  # Keras defaults: glorot-uniform kernels, zero biases
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return model


def augment(x, g, torch, F):
    """Flip, shift up to 8%, rotate up to 14.4 degrees, reflected borders: one resampling."""
    n = x.shape[0]
    flip = torch.where(torch.rand(n, device=x.device, generator=g) < 0.5, -1.0, 1.0)
    ang = (torch.rand(n, device=x.device, generator=g) * 2 - 1) * 0.04 * 2 * math.pi
    t = (torch.rand(n, 2, device=x.device, generator=g) * 2 - 1) * 0.08 * 2  # grid spans 2
    cos, sin = torch.cos(ang), torch.sin(ang)
    theta = torch.stack(
        [
            torch.stack([cos * flip, -sin, t[:, 0]], 1),
            torch.stack([sin * flip, cos, t[:, 1]], 1),
        ],
        1,
    )
    return _resample(x, theta, F)


def augment_seq(x, g, torch, F):
    """The same distribution as :func:`augment`, in Keras' three steps (two resamplings)."""
    n = x.shape[0]
    flip = torch.rand(n, device=x.device, generator=g) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    one, zero = torch.ones(n, device=x.device), torch.zeros(n, device=x.device)
    t = (torch.rand(n, 2, device=x.device, generator=g) * 2 - 1) * 0.08 * 2
    theta = torch.stack(
        [torch.stack([one, zero, t[:, 0]], 1), torch.stack([zero, one, t[:, 1]], 1)], 1
    )
    x = _resample(x, theta, F)
    ang = (torch.rand(n, device=x.device, generator=g) * 2 - 1) * 0.04 * 2 * math.pi
    cos, sin = torch.cos(ang), torch.sin(ang)
    theta = torch.stack([torch.stack([cos, -sin, zero], 1), torch.stack([sin, cos, zero], 1)], 1)
    return _resample(x, theta, F)


def _resample(x, theta, F):
    """``x`` moved by the affine maps ``theta``: bilinear, reflected borders."""
    grid = F.affine_grid(theta, x.shape, align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)


def macro_f1(pred, y):
    """Unweighted mean of the seven per-class F1 scores."""
    scores = []
    for c in range(CLASSES):
        tp = int(((pred == c) & (y == c)).sum())
        fp, fn = int(((pred == c) & (y != c)).sum()), int(((pred != c) & (y == c)).sum())
        scores.append(2 * tp / max(2 * tp + fp + fn, 1))
    return float(np.mean(scores))


def accuracy_f1(pred, y):
    """``(accuracy, macro-F1)`` of predicted classes ``pred``, rounded to 4 digits."""
    return round(float((pred == y).mean()), 4), round(macro_f1(pred, y), 4)


def finish(model, xt, yt, xv, yv, torch):
    """Validation scores after ``capstone.model.calibration.refit_head`` and flip test-time augmentation.

    The last layer is refitted as a multinomial logistic regression on the 256 features of the
    clean training faces and their mirror images (L2 penalty ``1 / (2 C)`` on the weights, as
    scikit-learn's ``C``); class weights ``(max count / count) ** p`` for ``p > 0``.
    """
    features = model[:-2].eval()  # up to the ReLU after the 256-unit layer

    def feats(x):
        with torch.no_grad(), torch.autocast(device_type=x.device.type, dtype=torch.bfloat16):
            return torch.cat([features(x[i : i + 2048]).float() for i in range(0, len(x), 2048)])

    ft = torch.cat([feats(xt), feats(xt.flip(3))])
    ytt = torch.cat([yt, yt]).long()
    fv, fvm = feats(xv), feats(xv.flip(3))
    yv_np = yv.cpu().numpy()
    head = model[-1]

    def score(w, b):
        probs = (fv @ w.T + b).softmax(1) * (fvm @ w.T + b).softmax(1)
        return accuracy_f1(probs.argmax(1).cpu().numpy(), yv_np)

    out = {"trained": score(head.weight.float().detach(), head.bias.float().detach())}
    counts = torch.bincount(ytt, minlength=CLASSES).float()
    for p in (0.0, 0.5):  # each fit is many small GPU steps: slow with 16 runs sharing a GPU
        sample_w = ((counts.max() / counts) ** p)[ytt]
        out[f"refit_C1_p{p}"] = score(*_logistic(ft, ytt, sample_w / sample_w.mean(), head, torch))
    model.train()
    return out


def _logistic(features, labels, sample_w, head, torch, c=1.0):
    """Weights and bias of a weighted multinomial logistic regression, started from ``head``."""
    w = head.weight.float().detach().clone().requires_grad_(True)
    b = head.bias.float().detach().clone().requires_grad_(True)
    opt = torch.optim.LBFGS([w, b], max_iter=100, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        ce = torch.nn.functional.cross_entropy(features @ w.T + b, labels, reduction="none")
        loss = (ce * sample_w).mean() + (w**2).sum() / (2 * c * len(labels))
        loss.backward()
        return loss

    opt.step(closure)
    return w.detach(), b.detach()


def train(name, seed, data, out, device):
    """Train variant ``name`` with ``seed``; append its result to ``out/results.jsonl``."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    torch.set_num_threads(2)
    spec = {**DEFAULTS, **{**VARIANTS, **SMOKE}[name]}
    torch.manual_seed(seed)
    torch.backends.cudnn.benchmark = True
    xt, yt, xv, yv = (torch.as_tensor(a).to(device) for a in data)
    xt = xt[:, None].float().div(255)
    xv = xv[:, None].float().div(255)
    model = build(spec["width"], nn).to(device).to(memory_format=torch.channels_last)
    ema = None
    if spec["ema"]:
        average = torch.optim.swa_utils.get_ema_multi_avg_fn(spec["ema"])
        ema = torch.optim.swa_utils.AveragedModel(model, multi_avg_fn=average, use_buffers=True)
    g = torch.Generator(device=device)
    g.manual_seed(seed)
    batch, n = 64, len(xt)
    steps = n // batch
    loss_fn = nn.CrossEntropyLoss(label_smoothing=spec["ls"])
    amp = {"device_type": "cuda" if device != "cpu" else "cpu", "dtype": torch.bfloat16}

    def logits(m, x):
        parts = [
            m(x[i : i + 1024].contiguous(memory_format=torch.channels_last)).float()
            for i in range(0, len(x), 1024)
        ]
        return torch.cat(parts)

    def evaluate(m, tta=False):
        m.eval()
        with torch.no_grad(), torch.autocast(**amp):
            scores = logits(m, xv)
            if tta:  # product of the softmaxes of the image and its mirror image
                scores = scores.softmax(1) * logits(m, xv.flip(3)).softmax(1)
        m.train()
        return float((scores.argmax(1) == yv).float().mean())

    curve, epoch_seconds, start = [], [], time.time()
    for epochs, lr, size in spec["phases"]:
        if spec["opt"] == "adamw":
            opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=spec["wd"], eps=1e-7)
        else:
            opt = torch.optim.SGD(
                model.parameters(), lr=lr, momentum=0.9, nesterov=True, weight_decay=spec["wd"]
            )
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs * steps, eta_min=0.0)
        images = xt
        if size != 48:
            images = F.interpolate(xt, size=(size, size), mode="bilinear", antialias=True)
        for _ in range(epochs):
            t0 = time.time()
            order = torch.randperm(n, device=device, generator=g)
            for s in range(steps):
                idx = order[s * batch : (s + 1) * batch]
                xb = (augment_seq if spec["seq"] else augment)(images[idx], g, torch, F)
                xb = xb.contiguous(memory_format=torch.channels_last)
                yb = F.one_hot(yt[idx].long(), CLASSES).float()
                if spec["mixup"]:
                    rng = np.random.default_rng(seed * 100000 + len(curve) * 1000 + s)
                    lam = float(rng.beta(spec["mixup"], spec["mixup"]))
                    mix = torch.randperm(batch, device=device, generator=g)
                    xb, yb = lam * xb + (1 - lam) * xb[mix], lam * yb + (1 - lam) * yb[mix]
                with torch.autocast(**amp):
                    loss = loss_fn(model(xb).float(), yb)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                schedule.step()
                if ema is not None:
                    ema.update_parameters(model)
            curve.append(round(evaluate(ema.module if ema is not None else model), 4))
            epoch_seconds.append(round(time.time() - t0, 1))
            print(name, seed, size, len(curve), curve[-1], epoch_seconds[-1], flush=True)
    final = ema.module if ema is not None else model
    result = {
        "variant": name,
        "seed": seed,
        "spec": spec,
        "curve": curve,
        "best_val": max(curve),
        "final_val": curve[-1],
        "final_val_flip": evaluate(final, tta=True),
        "seconds": round(time.time() - start, 1),
        "epoch_s": epoch_seconds[:3],
    }
    if spec["keep_logits"]:  # log-probabilities of the validation faces and their mirrors
        final.eval()
        with torch.no_grad(), torch.autocast(**amp):
            both = [logits(final, xv).log_softmax(1), logits(final, xv.flip(3)).log_softmax(1)]
        result["val_logp"] = [np.round(t.float().cpu().numpy(), 3).tolist() for t in both]
        _report(result, out)
        return
    _report(result, out)
    # The refit comes second: under a deadline the training result is already written.
    finished = finish(final, xt, yt, xv, yv, torch)  # (accuracy, macro-F1) with flip
    _report({"variant": name, "seed": seed, "finished": finished}, out)


def _report(result, out):
    """Append ``result`` to ``out/results.jsonl`` and print it without its long fields."""
    with (Path(out) / "results.jsonl").open("a") as f:
        f.write(json.dumps(result) + "\n")
    shown = {k: v for k, v in result.items() if k not in ("curve", "spec", "val_logp")}
    print("RESULT", json.dumps(shown), flush=True)


def pack(processed: Path, target: Path) -> None:
    """FER2013 training and validation faces from the pipeline's stores, as lossless WebP."""
    import cv2

    store, splits = np.load(processed / "fer2013.npz"), np.load(processed / "splits.npz")
    packed = {}
    for split in ("train", "val"):
        idx = splits[f"fer2013__{split}"]
        packed[f"{split}_y"] = store["y"][idx].astype("uint8")
        packed[f"{split}_x"] = [
            cv2.imencode(".webp", face, [cv2.IMWRITE_WEBP_QUALITY, 101])[1].tobytes()
            for face in store["x"][idx]
        ]
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as f:
        pickle.dump(packed, f)


def load(path: Path, limit: int | None = None) -> tuple[np.ndarray, ...]:
    """The packed faces; ``limit`` keeps that many of each split, drawn at random."""
    import cv2

    with path.open("rb") as f:
        packed = pickle.load(f)  # a file written by pack()

    def pick(n):  # the stores are sorted by class: a subset must be drawn at random
        return np.sort(np.random.default_rng(0).permutation(n)[:limit]) if limit else np.arange(n)

    def decode(blobs, idx):
        return np.stack(
            [cv2.imdecode(np.frombuffer(blobs[i], np.uint8), cv2.IMREAD_GRAYSCALE) for i in idx]
        )

    it, iv = pick(len(packed["train_y"])), pick(len(packed["val_y"]))
    return (
        decode(packed["train_x"], it),
        packed["train_y"][it],
        decode(packed["val_x"], iv),
        packed["val_y"][iv],
    )


def run_all(data: Path, out: Path, jobs: list[str], workers: int, device, limit) -> None:
    """Run ``jobs`` (``variant:seed``), ``workers`` processes at a time."""
    out.mkdir(parents=True, exist_ok=True)
    queue, running = list(jobs), []
    with (out / "epochs.txt").open("a") as log:
        while queue or running:
            running = [p for p in running if p.poll() is None]
            while queue and len(running) < workers:
                cmd = [sys.executable, __file__, "one", str(data), str(out), queue.pop(0)]
                cmd += ["--device", device] + (["--limit", str(limit)] if limit else [])
                running.append(subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT))
            time.sleep(1)


def pairs(data: Path, results: Path, variant: str) -> None:
    """Print validation scores of ``variant``'s runs alone and averaged in pairs of seeds.

    Each pair's prediction averages the log-probabilities of both networks on each face and
    its mirror image (flip test-time augmentation, as the evaluation stage does).
    """
    with data.open("rb") as f:
        y = pickle.load(f)["val_y"].astype(int)  # a file written by pack()
    runs = [json.loads(line) for line in results.open()]
    logp = {
        r["seed"]: np.asarray(r["val_logp"]).mean(axis=0) for r in runs if r["variant"] == variant
    }
    seeds = sorted(logp)
    alone = [accuracy_f1(logp[s].argmax(1), y) for s in seeds]
    together = [
        accuracy_f1((logp[a] + logp[b]).argmax(1), y)
        for a, b in zip(seeds[::2], seeds[1::2], strict=False)
    ]
    for label, rows in (("alone", alone), ("pairs", together)):
        mean = np.mean(rows, axis=0).round(4).tolist()
        print(f"{variant} {label}: {len(rows)} runs, (accuracy, macro-F1) {rows}, mean {mean}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("pack", help="pack FER2013 train/val from data/processed")
    p.add_argument("processed", type=Path)
    p.add_argument("target", type=Path)
    for name in ("run", "one"):
        p = commands.add_parser(name, help="run jobs" if name == "run" else "one job (internal)")
        p.add_argument("data", type=Path)
        p.add_argument("out", type=Path)
        if name == "run":
            every = [f"{v}:{s}" for s in (42, 43) for v in VARIANTS]
            p.add_argument("--jobs", nargs="+", default=every, help="variant:seed")
            p.add_argument("--workers", type=int, default=8)
        else:
            p.add_argument("job", help="variant:seed")
        p.add_argument("--limit", type=int, default=None)
        p.add_argument("--device", default="cuda")
    p = commands.add_parser("pairs", help="score a variant's runs alone and in pairs of seeds")
    p.add_argument("data", type=Path)
    p.add_argument("results", type=Path)
    p.add_argument("variant")
    args = parser.parse_args()
    if args.command == "pairs":
        pairs(args.data, args.results, args.variant)
    elif args.command == "pack":
        pack(args.processed, args.target)
    elif args.command == "run":
        run_all(args.data, args.out, args.jobs, args.workers, args.device, args.limit)
    else:
        name, seed = args.job.split(":")
        train(name, int(seed), load(args.data, args.limit), args.out, args.device)


if __name__ == "__main__":
    main()
