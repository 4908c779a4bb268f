"""The `capstone annotate` command on a mix of good and bad inputs."""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import pytest
from matplotlib import cbook

from capstone.calls.metadata import Person
from capstone.cli import main
from capstone.formats import MEDIA_SUFFIXES
from capstone.media import load_image
from capstone.model.architectures import compact_cnn
from capstone.synthetic.calls import write_recording
from capstone.synthetic.layouts import HOPPER_FACE, gallery


def test_one_bad_input_never_loses_the_others(tmp_path: Path, capstone_cli) -> None:
    hopper = load_image(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    cv2.imwrite(str(tmp_path / "call.png"), gallery(hopper, HOPPER_FACE, 2)[0])
    write_recording(hopper, HOPPER_FACE, tmp_path / "rec.mp4", seconds=2, fps=5)
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42")
    compact_cnn(4).save(tmp_path / "model.keras")
    inputs = ["notes.txt", "call.png", "broken.mp4", "rec.mp4"]
    proc = capstone_cli(
        "annotate",
        *(str(tmp_path / name) for name in inputs),
        "--out",
        str(tmp_path / "out"),
        "--model",
        str(tmp_path / "model.keras"),
        "--fps",
        "2",
    )
    assert proc.returncode == 1  # some inputs failed; the others were annotated
    assert "notes.txt: not an image or a video" in proc.stderr
    assert "broken.mp4: cannot open as a video" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert (tmp_path / "out/call_annotated.png").is_file()
    assert (tmp_path / "out/rec/annotated.mp4").is_file()
    assert "wrote 1 annotated image(s) and 1 video(s)" in proc.stdout


def test_an_unwritable_output_folder_is_a_clear_error(tmp_path: Path, capstone_cli) -> None:
    hopper = load_image(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    cv2.imwrite(str(tmp_path / "call.png"), hopper)
    (tmp_path / "taken").write_text("a file where the output folder should be")
    compact_cnn(4).save(tmp_path / "model.keras")
    proc = capstone_cli(
        "annotate",
        str(tmp_path / "call.png"),
        "--out",
        str(tmp_path / "taken/out"),
        "--model",
        str(tmp_path / "model.keras"),
    )
    assert proc.returncode == 2
    assert "a file is in the way where a folder should be" in proc.stderr
    assert "disk" not in proc.stderr
    assert "Traceback" not in proc.stderr
    assert (tmp_path / "call.png").is_file()


def test_inputs_with_one_name_get_outputs_of_their_own(tmp_path: Path, capstone_cli) -> None:
    hopper = load_image(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    (tmp_path / "a").mkdir()
    for name in ("good.jpg", "good.png", "a/good.png"):
        cv2.imwrite(str(tmp_path / name), hopper)
    compact_cnn(4).save(tmp_path / "model.keras")
    inputs = [str(tmp_path / n) for n in ("good.jpg", "good.png", "a/good.png", "good.jpg")]
    model = ["--model", str(tmp_path / "model.keras"), "--detector", "haar"]
    proc = capstone_cli("annotate", *inputs, "--out", str(tmp_path / "out"), *model)
    assert proc.returncode == 0, proc.stderr
    written = sorted(p.name for p in (tmp_path / "out").glob("*.json"))
    assert written == ["a_good_png.json", "good_jpg.json", "good_png.json"]
    assert "wrote 3 annotated image(s)" in proc.stdout  # the repeated file once


def test_options_out_of_range_are_usage_errors(tmp_path: Path, capstone_cli) -> None:
    for option, value, problem in [
        ("--fps", "0", "above 0"),
        ("--fps", "nan", "out of range"),
        ("--fps", "1e9", "at most 120"),
        ("--fps", "fast", "not a number"),
        ("--detect-every", "0", "at least 1"),
        ("--detect-every", "2.5", "not a whole number"),
        ("--min-face", "-3", "at least 1"),
        ("--uncertain-below", "1.5", "at most 1"),
    ]:
        proc = capstone_cli("annotate", "x.png", "--out", str(tmp_path), option, value)
        assert proc.returncode == 2
        assert option in proc.stderr and problem in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr


def test_a_folder_or_an_unreadable_video_leaves_nothing_behind(tmp_path: Path) -> None:

    (tmp_path / "shots").mkdir()
    (tmp_path / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(100))
    compact_cnn(4).save(tmp_path / "model.keras")
    out = tmp_path / "out"
    args = [str(tmp_path / "shots"), str(tmp_path / "broken.mp4"), "--out", str(out)]
    assert main(["annotate", *args, "--model", str(tmp_path / "model.keras")]) == 1
    assert list(out.iterdir()) == []  # no empty folder, no .part file


def test_an_unexpected_error_on_one_input_is_reported_and_the_others_go_on(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    from capstone.library import annotate as runner

    hopper = load_image(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    for name in ("first.png", "second.png"):
        cv2.imwrite(str(tmp_path / name), hopper)
    compact_cnn(4).save(tmp_path / "model.keras")
    real = runner.annotate_image

    def flaky(path, *args, **kwargs):
        if Path(path).name == "first.png":
            raise ZeroDivisionError("a bug")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(runner, "annotate_image", flaky)
    inputs = [str(tmp_path / "first.png"), str(tmp_path / "second.png")]
    model = ["--model", str(tmp_path / "model.keras"), "--detector", "haar"]
    assert main(["annotate", *inputs, "--out", str(tmp_path / "out"), *model]) == 1
    err = capsys.readouterr().err
    assert "first.png: could not be annotated (ZeroDivisionError: a bug)" in err
    assert "1 of 2 input(s) failed" in err
    assert (tmp_path / "out/second.json").is_file()


def test_the_use_decides_whose_expressions_are_read(tmp_path: Path, capsys) -> None:

    hopper = load_image(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    cv2.imwrite(str(tmp_path / "call.png"), gallery(hopper, HOPPER_FACE, 2)[0])
    compact_cnn(4).save(tmp_path / "model.keras")
    (tmp_path / "call.yaml").write_text("rep: P1\nprospects: {P2: Dana}\ninformed: true\n")
    args = [str(tmp_path / "call.png"), "--model", str(tmp_path / "model.keras")]
    args += ["--detector", "haar", "--out"]
    assert main(["annotate", *args, str(tmp_path / "none")]) == 0
    said = capsys.readouterr().out
    assert "call.png P1: not read" in said and "Not named in the call metadata" in said
    call = ["--call", str(tmp_path / "call.yaml")]
    assert main(["annotate", *args, str(tmp_path / "named"), *call]) == 0
    said = capsys.readouterr().out
    assert "P1 (rep): not read" in said and "P2 (prospect (Dana)): " in said
    assert "P2 (prospect (Dana)): not read" not in said and "informed" not in said
    out = tmp_path / "research"
    assert main(["annotate", *args, str(out), *call, "--use", "research"]) == 2
    assert "this is a work call" in capsys.readouterr().err and not out.exists()


def test_the_help_names_every_format_annotate_accepts(capsys) -> None:
    """The help is written from the list the code accepts, so the two cannot drift apart."""
    with pytest.raises(SystemExit):
        main(["annotate", "--help"])
    helped = " ".join(capsys.readouterr().out.split())  # argparse wraps the lines
    named = set(re.findall(r"\b(\w+)[,)]", helped.split("inputs", 2)[2].split("options:")[0]))
    assert {suffix.lstrip(".") for suffix in MEDIA_SUFFIXES} <= named


def test_annotate_can_fill_the_apps_database_by_the_apps_own_path(tmp_path: Path, capsys) -> None:
    from capstone.app.accounts import add_user
    from capstone.app.database import calls, database_url, open_database

    hopper = load_image(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    cv2.imwrite(str(tmp_path / "call.png"), gallery(hopper, HOPPER_FACE, 2)[0])
    (tmp_path / "call.yaml").write_text("rep: P1\nprospects: {P2: Dana}\ninformed: true\n")
    args = ["annotate", str(tmp_path / "call.png"), "--call", str(tmp_path / "call.yaml")]
    assert main([*args, "--data", str(tmp_path / "app")]) == 2  # whose calls?
    assert "--owner NAME, a rep" in capsys.readouterr().err
    engine = open_database(database_url(tmp_path / "app"))
    ana = add_user(engine, "Ana", "rep", "correct horse battery", "east")
    research = [*args, "--data", str(tmp_path / "app"), "--owner", "Ana", "--use", "research"]
    assert main(research) == 2  # the app's calls are calls at work
    assert "faces not at work" in capsys.readouterr().err
    assert main([*args, "--data", str(tmp_path / "app"), "--owner", "Ana"]) == 0
    (saved,) = calls(engine)
    assert (saved.owner_id, saved.sales_team, saved.rep) == (ana.id, "east", "Ana")
    assert saved.people.by_id["P2"] == Person("prospect", "Dana")
    assert saved.results.headline.startswith("Dana looked") and saved.results.screenshots
    assert main(args) == 2  # neither --out nor --data
    assert "give --out" in capsys.readouterr().err
