"""The request a call is read with: its options checked where they enter, every default said
once, and the files an annotation leaves named in one place."""

from __future__ import annotations

import pytest

from capstone.calls.metadata import CallInfo, CallInfoError
from capstone.calls.request import CallOutputs, CallRequest, ReadingOptions, ReadingOptionsError
from capstone.cli import _parser


@pytest.mark.parametrize(
    ("options", "said"),
    [
        ({"fps": 0}, "fps must be a number above 0"),
        ({"fps": float("nan")}, "fps must be a number above 0"),
        ({"detect_every": 0}, "detect_every must be 1 or more"),
        ({"detector": "yolo"}, "unknown face detector 'yolo'; use one of mtcnn, haar"),
        ({"min_face": 0}, "min_face must be 1 pixel or more"),
        ({"uncertain_below": 1.5}, "uncertain_below must lie between 0 and 1"),
    ],
)
def test_options_out_of_range_are_refused_saying_which(options: dict, said: str) -> None:
    with pytest.raises(ReadingOptionsError, match=said):
        ReadingOptions(**options)


def test_the_cli_defaults_are_the_options_defaults() -> None:
    args = _parser().parse_args(["annotate", "call.mp4", "--out", "out"])
    given = ReadingOptions(
        fps=args.fps,
        detect_every=args.detect_every,
        detector=args.detector,
        min_face=args.min_face,
        uncertain_below=args.uncertain_below,
    )
    assert given == ReadingOptions()


def test_options_keep_what_a_user_chose_and_leave_the_crop_to_the_model() -> None:
    chosen = ReadingOptions(fps=1.0, detector="haar", uncertain_below=0.3, crop={"margin": 0.2})
    again = ReadingOptions.from_json(chosen.to_json())
    assert again == ReadingOptions(fps=1.0, detector="haar", uncertain_below=0.3)
    assert chosen.classifying() == {"min_face": 24, "crop": {"margin": 0.2}, "uncertain_below": 0.3}
    assert "uncertain_below" not in ReadingOptions().classifying()  # the classifier's own


def test_a_request_refuses_a_use_its_call_does_not_allow() -> None:
    with pytest.raises(CallInfoError, match="must name the rep"):
        CallRequest(CallInfo(), "self-review")
    with pytest.raises(CallInfoError, match="work call"):
        CallRequest(CallInfo(rep="P1"), "research")
    assert CallRequest().use == "customers" and CallRequest().options == ReadingOptions()


def test_outputs_are_named_once_and_move_below_a_folder() -> None:
    shot = CallOutputs.of_screenshot("week1/monday")
    assert (shot.main, shot.record) == ("week1/monday_annotated.png", "week1/monday.json")
    call = CallOutputs.of_recording("call").under("results/7")
    assert (call.main, call.video) == ("results/7/call/report.html", "results/7/call/annotated.mp4")
    assert (call.kind, call.name, call.picture) == ("video", "call", None)
    assert CallOutputs.from_json(call.to_json()) == call
