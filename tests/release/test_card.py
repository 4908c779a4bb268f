"""The model card: every line from the record."""

from __future__ import annotations

from capstone.release.card import model_card


def test_card_says_which_finishing_steps_were_dropped_and_where_training_ran(final_record) -> None:
    rec = dict(final_record)
    rec |= {"size_bytes": 1000, "model_sha256": "cd" * 32, "training_commit": "f00d123"}
    step = rec["calibration"]["validation"]["trained"]
    rec["calibration"] |= {
        "head_refit": {"kept": True, "c": 1.0, "seconds": 12.0},
        "class_offsets_heldout": {"kept": False, "f1_without": 0.648, "f1_with": 0.637},
        "validation": {**rec["calibration"]["validation"], "head_refit": step},
    }
    card = model_card(rec)
    assert "trained at code commit `f00d123`" in card
    assert "learned from FER2013 alone" not in card  # the record's pick is a merged run
    assert "learned from FER2013 alone" in model_card(rec | {"source_stage": "baseline"})
    assert "Last layer: refitted on the clean training images" in card
    rec["calibration"]["head_refit"]["kept"] = False
    assert "refit on the training images was tried" in model_card(rec)
    assert "no class offsets" in card and "from 0.648 to 0.637" in card
    assert "| + class offsets (not kept) |" in card
    assert card.index("| as trained |") < card.index("| + head refitted on clean training")
    assert "Test-time augmentation: predictions average in the mirror image (" in card
    rec["calibration"] |= {"tta_flip": False, "tta_shift": 2}
    assert "average in copies shifted 2 pixels up, down" in model_card(rec)


def test_card_gives_the_intervals_where_the_record_has_them(final_record) -> None:
    rec = final_record | {"size_bytes": 1000, "model_sha256": "cd" * 32}
    assert "In brackets" not in model_card(rec)  # as records released before intervals
    for m in rec["test"].values():
        m |= {"accuracy_95ci": [0.6684, 0.6974], "macro_f1_95ci": [0.6299, 0.6729]}
    card = model_card(rec)
    assert "% (66.8-69.7%) | 0." in card and " (0.630-0.673) |" in card
    assert "In brackets: 95% bootstrap intervals" in card


def test_card_says_what_a_reading_means_against_the_crowd(final_record) -> None:
    rec = final_record | {"size_bytes": 1000, "model_sha256": "cd" * 32}
    assert "Against the crowd" not in model_card(rec)  # a record without FER+
    crowd = {
        "n": 3349,
        "majority_accuracy": 0.851,
        "cross_entropy": 0.702,
        "total_variation": 0.25,
        "crowd_entropy": 0.48,
        "fer2013_labels_agree": 0.655,
    }
    rec["test"] = rec["test"] | {"ferplus": rec["test"]["fer2013"] | {"crowd": crowd, "n": 3349}}
    card = model_card(rec | {"faces": "ferplus"})
    assert "its 3,349 faces with a clear majority" in card and "85.1% of" in card
    assert "cross-entropy against the crowd's vote shares is 0.702" in card
    assert 'a reading of "angry 42%" means that about 4 in 10 people' in card
    assert "| ferplus | 3,349 |" in card
    assert "the crowd's majority for only 65.5% of the clear-majority faces" in card
    assert "calibrated to those, not to how a crowd" in model_card(rec | {"faces": "fer2013"})


def test_card_says_where_the_models_trained(final_record) -> None:
    rec = final_record | {"size_bytes": 1000, "model_sha256": "cd" * 32}
    assert "on the machine that ran the pipeline (not recorded)" in model_card(rec)
    machines = ["a GPU and 16 CPU cores (Xeon), mixed_bfloat16"]
    card = model_card(rec | {"training_machines": machines})
    assert "minutes on a GPU and 16 CPU cores (Xeon), mixed_bfloat16 (precision" in card


def test_card_shows_the_faces_found_on_the_call_layouts(final_record) -> None:
    rec = final_record | {"size_bytes": 1000, "model_sha256": "cd" * 32}
    assert "composed call layouts" not in model_card(rec)  # records from before
    row = {"detector": "mtcnn", "smallest face (px)": 28, "invented": 0}
    layouts = [
        row | {"layout": "gallery 7x7", "faces": 49, "true_positives": 48, "missed": 1},
        row | {"layout": "speaker view", "faces": 5, "true_positives": 5, "missed": 0},
    ]
    card = model_card(rec | {"call_layouts": layouts})
    assert "annotation's detector (mtcnn) found 53 of 54 faces" in card
    assert "| gallery 7x7 | 49 | 28 | 48 | 0 | 1 |" in card
