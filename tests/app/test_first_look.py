"""The numbers and roles a manager gives at first look are those of the annotation: the same
faces, however the call goes on (a face that joins late, tiles that swap, a face that leaves)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib import cbook

from capstone.app.database import Call, database_url, open_database, session
from capstone.app.jobs import run_pending
from capstone.app.services import Upload, first_look, save_call
from capstone.calls.metadata import People, Person
from capstone.media import load_image
from capstone.synthetic.calls import person_at, write_call
from capstone.synthetic.layouts import HOPPER_FACE, people

FPS = 5  # of the composed recording
#: (participant, start, end) of who speaks; (from, layout, tiles in order) of what is shown
SCRIPT = [(0, 0.5, 3.0), (1, 4.0, 6.5), (2, 8.0, 10.5), (3, 12.0, 14.5)]
SCENES = [
    (0.0, "gallery", [0, 1, 2]),  # three at first
    (4.0, "gallery", [0, 1, 2, 3]),  # a fourth joins late
    (8.0, "gallery", [3, 2, 1, 0]),  # the tiles swap
    (12.0, "gallery", [3, 2, 0]),  # one leaves
]
ROLES = {"P1": Person("rep", "Ana"), "P2": Person("prospect", "Dana"), "P3": Person("staff")}


def test_first_look_numbers_and_roles_are_the_annotations(tmp_path: Path) -> None:
    hopper = load_image(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    video = tmp_path / "call.mp4"
    truth = write_call(people(hopper, HOPPER_FACE), video, SCRIPT, 16, fps=FPS, scenes=SCENES)
    data = tmp_path / "app"

    seen = first_look(tmp_path, [video.name])
    assert [face.id for face in seen] == ["P1", "P2", "P3"]
    who = {face.id: person_at(truth, 0.0, face.box, FPS) for face in seen}
    assert who == {"P1": 0, "P2": 1, "P3": 2}  # in reading order: the tiles show 0, 1, 2

    engine = open_database(database_url(data))
    call = Call(title="a call", people=People({pid: ROLES[pid] for pid in who}), informed=True)
    call_id = save_call(engine, data, call, [Upload(video.name, video.read_bytes())])
    assert run_pending(engine, data) == 1
    with session(engine) as s:
        stored = s.get(Call, call_id)
        assert stored is not None and stored.results.recordings

    timeline = pd.read_csv(data / str(stored.results.recordings[0].timeline))
    timeline["person"] = [
        person_at(truth, r.time, (r.x, r.y, r.w, r.h), FPS) for r in timeline.itertuples()
    ]
    named = timeline[timeline["participant"].isin(list(who))]
    assert (named["person"] == named["participant"].map(who)).all()  # the same faces throughout
    assert set(named[named["time"] >= 8]["participant"]) == set(who)  # after the swap too
    late = timeline[~timeline["participant"].isin(list(who))]
    assert set(late["person"]) == {3} and late["time"].min() >= 4  # the one who joined late
    assert (late["status"] == "not_read").all()  # unnamed: never read
    assert (timeline[timeline["participant"] == "P3"]["status"] == "not_read").all()  # staff
    prospect = timeline[timeline["participant"] == "P2"]
    assert prospect["status"].isin(["ok", "uncertain"]).all() and len(prospect) > 0
    assert not (timeline[timeline["time"] >= 12]["person"] == 1).any()  # who left is gone
