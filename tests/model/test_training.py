from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from capstone.artefacts import read_json
from capstone.model import backend, training
from capstone.model.backend import native_bf16
from capstone.model.inputs import class_weights, training_dataset
from capstone.model.training import build_model, candidates, select_best, train
from capstone.params import Phase, TrainRun


def faces(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random 48x48 uint8 images, labelled with every class in turn."""
    x = np.random.default_rng(seed).integers(0, 255, size=(n, 48, 48), dtype=np.uint8)
    return x, np.arange(n) % 7


def test_class_weights_favour_rare_classes() -> None:
    w = class_weights(np.array([3] * 90 + [1] * 10 + [0, 2, 4, 5, 6]))
    assert w[1] > w[3]


def test_train_writes_model_history_and_card(tmp_path: Path) -> None:
    x, y = faces(64, seed=0)
    run = TrainRun(
        name="tiny",
        architecture="compact_cnn",
        width=4,
        batch_size=32,
        phases=[Phase(epochs=1, augment="light"), Phase(epochs=1, augment="heavy")],
    )
    model, history = train(run, (x, y), (x[:16], y[:16]), tmp_path, seed=0, verbose=0)
    assert model.output_shape == (None, 7)
    assert list(history["phase"]) == [1, 2]
    saved = pd.read_csv(tmp_path / "tiny_history.csv")
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(saved.columns)
    assert (tmp_path / "tiny.keras").is_file()
    assert (tmp_path / "tiny.json").is_file()
    assert not list(tmp_path.glob("*.part*"))  # no temporary checkpoint left behind


def test_a_run_trains_on_soft_targets(tmp_path: Path) -> None:
    """A crowd's vote shares as targets: the loss is against them, accuracy on the top class."""
    x, y = faces(48, seed=1)
    shares = np.random.default_rng(1).dirichlet(np.ones(7), size=48)
    shares[np.arange(48), y] += 2
    shares /= shares.sum(axis=1, keepdims=True)
    run = TrainRun(
        name="crowd",
        architecture="compact_cnn",
        width=4,
        batch_size=16,
        phases=[Phase(epochs=1, augment="flip")],
    )
    model, history = train(run, (x, shares), (x[:16], shares[:16]), tmp_path, seed=0, verbose=0)
    probs = model.predict(x[:16, :, :, None] / 255.0, verbose=0)
    against_shares = -(shares[:16] * np.log(probs)).sum(axis=1).mean()
    assert history["val_loss"].iloc[-1] == pytest.approx(against_shares, rel=1e-3)
    assert class_weights(shares) == class_weights(y)


def test_a_resumable_run_stopped_mid_way_goes_on_from_its_last_epoch(tmp_path: Path) -> None:
    import keras

    x, y = faces(64, seed=2)
    run = TrainRun(
        name="long",
        architecture="residual_cnn",
        width=4,
        batch_size=32,
        patience=4,
        phases=[Phase(epochs=4, augment="flip")],
    )

    class Stop(keras.callbacks.Callback):  # the session ends after epoch 2
        def on_epoch_end(self, epoch: int, logs=None) -> None:
            if epoch == 1:
                raise KeyboardInterrupt

    def backup() -> keras.callbacks.BackupAndRestore:
        return keras.callbacks.BackupAndRestore(tmp_path / "long_backup")

    with pytest.raises(KeyboardInterrupt):
        train(
            run, (x, y), (x[:16], y[:16]), tmp_path, seed=0, verbose=0, callbacks=[backup(), Stop()]
        )
    assert list(pd.read_csv(tmp_path / "long_history.csv")["epoch"]) == [1, 2]
    best_before = pd.read_csv(tmp_path / "long_history.csv")["val_accuracy"].max()
    _, history = train(
        run, (x, y), (x[:16], y[:16]), tmp_path, seed=0, verbose=0, callbacks=[backup()]
    )
    assert list(history["epoch"]) == [1, 2, 3, 4]  # epochs 3 and 4 only were trained again
    assert list(pd.read_csv(tmp_path / "long_history.csv")["epoch"]) == [1, 2, 3, 4]
    record = read_json(tmp_path / "long.json")
    assert record["best_val_accuracy"] == pytest.approx(
        max(best_before, history["val_accuracy"].max())
    )


def test_select_best_keeps_the_best_on_validation(tmp_path: Path) -> None:
    assert select_best(tmp_path, {"a": 0.61, "b": 0.64, "start": 0.62})["selected"] == "b"
    assert read_json(tmp_path / "selected.json")["val_accuracy"] == {
        "a": 0.61,
        "b": 0.64,
        "start": 0.62,
    }
    assert select_best(tmp_path, {"a": 0.61, "start": 0.63})["selected"] == "start"
    with pytest.raises(ValueError, match="no candidates"):
        select_best(tmp_path, {})


def test_candidates_are_the_runs_then_the_models_they_start_from() -> None:
    def run(name: str, init_from: str | None = None) -> TrainRun:
        return TrainRun(name, "compact_cnn", [Phase(epochs=1)], init_from=init_from)

    runs = [run("two_stage", "baseline"), run("single", "baseline"), run("scratch")]
    assert candidates(runs) == ["two_stage", "single", "scratch", "baseline"]
    assert candidates(runs[2:]) == ["scratch"]


def test_a_run_can_start_from_another_models_weights(tmp_path: Path) -> None:
    x, y = faces(32, seed=1)
    first = TrainRun(name="first", architecture="compact_cnn", width=4, phases=[Phase(epochs=1)])
    start, _ = train(first, (x, y), (x, y), tmp_path, seed=0, verbose=0)
    second = TrainRun(
        name="second",
        architecture="compact_cnn",
        width=4,
        phases=[Phase(epochs=1, learning_rate=0.0)],
    )
    model, _ = train(
        second, (x, y), (x, y), tmp_path, seed=0, verbose=0, init_weights=tmp_path / "first.keras"
    )
    assert np.allclose(model.get_weights()[0], start.get_weights()[0])


def test_a_low_resolution_phase_still_saves_a_48_pixel_model(tmp_path: Path) -> None:
    x, y = faces(32, seed=2)
    run = TrainRun(
        name="progressive",
        architecture="compact_cnn",
        width=4,
        batch_size=16,
        phases=[Phase(epochs=1, image_size=32), Phase(epochs=1)],
    )
    model, history = train(run, (x, y), (x, y), tmp_path, seed=0, verbose=0)
    assert model.input_shape == (None, 48, 48, 1)
    assert len(history) == 2
    # only the full-size phase is checkpointed: the best score is its validation accuracy
    card = read_json(tmp_path / "progressive.json")
    assert card["best_val_accuracy"] == pytest.approx(history["val_accuracy"].iloc[1])
    batch = next(iter(training_dataset((x, y), 16, "light", seed=0, image_size=32)))
    assert tuple(batch[0].shape) == (16, 32, 32, 1)


def test_seed_cnn_cannot_train_at_another_size() -> None:
    with pytest.raises(ValueError, match="image_size"):
        TrainRun(name="s", architecture="seed_cnn", phases=[Phase(epochs=1, image_size=32)])


def test_the_last_phase_must_be_at_full_size() -> None:
    with pytest.raises(ValueError, match="last phase"):
        TrainRun(
            name="c",
            architecture="compact_cnn",
            phases=[Phase(epochs=1), Phase(epochs=1, image_size=32)],
        )


def test_native_bf16_reads_the_cpu_flags(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(backend, "gpu_visible", lambda: False)
    avx2 = tmp_path / "avx2"
    avx2.write_text("flags\t\t: fpu sse2 avx2 fma\n")
    sapphire = tmp_path / "sapphire"
    sapphire.write_text("flags\t\t: fpu avx2 avx512f avx512_bf16 amx_bf16 fma\n")
    assert native_bf16(avx2) is False
    assert native_bf16(sapphire) is True
    assert native_bf16(tmp_path / "absent") is None


@pytest.mark.parametrize(("native", "warned"), [(False, True), (True, False), (None, False)])
def test_bf16_without_native_support_is_warned_about(monkeypatch, caplog, native, warned) -> None:
    monkeypatch.setattr(backend, "native_bf16", lambda: native)
    run = TrainRun(
        name="slow",
        architecture="compact_cnn",
        width=4,
        precision="mixed_bfloat16",
        phases=[Phase(epochs=1)],
    )
    with caplog.at_level("WARNING", logger="capstone.model.training"):
        model = build_model(run)
    assert ("training in float32 instead" in caplog.text) == warned
    assert ("slow: precision mixed_bfloat16" in caplog.text) == warned
    dtype = model.layers[1].compute_dtype
    assert dtype == ("float32" if native is False else "bfloat16")


@pytest.mark.parametrize(
    ("native", "requested", "expected"),
    [
        (False, "auto", "float32"),
        (True, "auto", "mixed_bfloat16"),
        (None, "auto", "mixed_bfloat16"),
        (True, "float32", "float32"),
        (False, "mixed_bfloat16", "float32"),
    ],
)
def test_precision_follows_the_hardware(monkeypatch, native, requested, expected) -> None:
    monkeypatch.setattr(backend, "native_bf16", lambda: native)
    assert backend.effective_precision(requested) == expected


def test_a_run_without_phases_adopts_its_starting_network(tmp_path: Path) -> None:
    x, y = faces(32, seed=4)
    source = TrainRun(name="src", architecture="compact_cnn", width=4, phases=[Phase(epochs=1)])
    trained, _ = train(source, (x, y), (x[:8], y[:8]), tmp_path / "a", seed=0, verbose=0)
    adopt = TrainRun(
        name="adopted", architecture="compact_cnn", width=4, phases=[], init_file="src.keras"
    )
    model, history = train(
        adopt,
        (x, y),
        (x[:8], y[:8]),
        tmp_path / "b",
        seed=0,
        verbose=0,
        init_weights=tmp_path / "a" / "src.keras",
    )
    assert history.empty
    x4 = x[:4, ..., None] / 255.0
    np.testing.assert_allclose(
        model.predict(x4, verbose=0), trained.predict(x4, verbose=0), atol=1e-5
    )
    record = read_json(tmp_path / "b" / "adopted.json")
    assert record["init_weights"] == "src.keras" and 0 <= record["best_val_accuracy"] <= 1


def test_start_weights_follow_init_from_or_init_file(tmp_path: Path) -> None:
    from capstone.paths import ProjectPaths

    paths = ProjectPaths(tmp_path)
    (paths.stage("baseline")).mkdir(parents=True, exist_ok=True)
    (paths.stage("baseline") / "baseline.keras").write_bytes(b"")
    phases = [Phase(epochs=1)]
    assert training.start_weights(TrainRun("a", "compact_cnn", phases), paths) is None
    after = TrainRun("b", "compact_cnn", phases, init_from="baseline")
    assert training.start_weights(after, paths) == paths.stage("baseline") / "baseline.keras"
    adopted = TrainRun("c", "compact_cnn", [], init_file="models/archive/v1.keras")
    assert training.start_weights(adopted, paths) == tmp_path / "models/archive/v1.keras"


def test_the_training_data_can_be_degraded_like_a_webcam() -> None:
    x, y = faces(16, seed=5)
    plain = next(iter(training_dataset((x, y), 16, "none", seed=1)))[0].numpy()
    degraded = next(iter(training_dataset((x, y), 16, "none", seed=1, degrade=["noise"])))[0]
    assert degraded.shape == plain.shape
    assert not np.allclose(degraded.numpy(), plain)


def test_inverse_time_decay_follows_keras_2s_decay() -> None:
    """The seed's Adam(learning_rate=1e-4, decay=1e-6): lr / (1 + decay * step)."""
    run = TrainRun(
        name="seed",
        architecture="seed_cnn",
        optimizer="adam",
        schedule="inverse_time",
        decay=1e-6,
        phases=[Phase(epochs=1)],
    )
    schedule = training._optimizer(run, 1e-4, steps=100)._learning_rate  # the schedule itself
    assert float(schedule(0)) == pytest.approx(1e-4)
    assert float(schedule(450_000)) == pytest.approx(1e-4 / 1.45)
