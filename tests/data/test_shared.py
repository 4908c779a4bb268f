"""The data stage on the real data in ../shared (skipped where that folder is absent)."""

from __future__ import annotations

import pytest

from capstone.data.splits import load_data
from capstone.params import DATASETS
from capstone.paths import ProjectPaths

pytestmark = pytest.mark.slow  # the real data's download stage, once a run


@pytest.fixture(scope="module")
def quality(shared_project) -> tuple[dict, ProjectPaths]:
    return shared_project


def test_fer2013_counts_are_exactly_kaggles(quality) -> None:
    fer = quality[0]["fer2013"]
    assert fer["found"] == fer["stored"] == 35_887
    assert fer["per_subset"] == {"PrivateTest": 3589, "PublicTest": 3589, "Training": 28709}
    assert fer["manifest"]["archives"][0]["sha256"].startswith("6e4fd3bf08c9")


def test_fer2013_duplicate_figures_are_reproduced(quality) -> None:
    dup = quality[0]["fer2013"]["duplicates"]
    assert (dup["groups"], dup["redundant_copies"]) == (1516, 1853)
    assert (dup["groups_only_train"], dup["groups_only_test"], dup["groups_across"]) == (
        936,
        49,
        531,
    )
    assert dup["test_images_in_train"] == 568
    assert (dup["conflicting_groups"], dup["conflicting_across"]) == (57, 25)
    assert dup["largest"]["size"] == 12


def test_test_split_is_untouched_and_leaks_are_removed(quality) -> None:
    fer = quality[0]["fer2013"]
    assert sum(fer["counts"]["test"].values()) == 3589
    assert fer["leakage_removed"]["train"] > 0
    assert sum(fer["counts"]["train"].values()) == 28709 - fer["leakage_removed"]["train"]


def test_merged_splits_are_built_with_sfew(quality) -> None:
    report, paths = quality
    sfew = report["wild"]
    assert sfew["found"] == 1260
    assert sum(sfew["counts"]["test"].values()) == 405  # SFEW's own val: different movies
    data = load_data(paths)
    x, y = data.merged("train")  # FER2013's copy of the faces and SFEW; FER+ is the other copy
    assert x.shape[1:] == (48, 48)
    assert len(y) == sum(sum(report[name]["counts"]["train"].values()) for name in DATASETS)
