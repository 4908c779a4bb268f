from __future__ import annotations

import shutil

import numpy as np
import pytest

from capstone.calls.audio import RATE
from capstone.synthetic.speech import SENTENCES, sentences, speech, spoken


def test_the_shipped_file_holds_each_sentence() -> None:
    lines = sentences()
    assert len(lines) == len(SENTENCES)
    assert all(2.0 < len(line) / RATE < 4.5 for line in lines)


def test_speech_fills_its_spans_and_only_them() -> None:
    audio = speech(6, [(1.0, 2.5), (4.0, 6.0)])
    assert len(audio) == 6 * RATE
    loud = np.abs(audio) > 0.05
    assert not loud[: RATE - 10].any() and not loud[int(2.5 * RATE) + 10 : 4 * RATE - 10].any()
    assert loud[RATE : RATE + 1600].any()  # the first sound within 0.1 s of the span's start
    assert loud[int(2.3 * RATE) : int(2.5 * RATE)].any()  # no pause made just before its end


def test_speech_is_resampled_and_reproducible() -> None:
    assert len(speech(2, [(0.5, 1.5)], 44_100)) == pytest.approx(2 * 44_100, abs=2)
    assert np.array_equal(speech(3, [(0, 3)], seed=4), speech(3, [(0, 3)], seed=4))
    assert not np.array_equal(speech(3, [(0, 3)], seed=4), speech(3, [(0, 3)], seed=5))


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="apt-get install espeak-ng")
def test_espeak_speaks_a_sentence_with_its_silences_cut() -> None:
    line = spoken("Thanks for your time today.", "en-us")
    assert 1.0 < len(line) / RATE < 3.0
    assert abs(line[0]) > 0.01 and abs(line[-1]) > 0.01
