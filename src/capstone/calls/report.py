"""``report.html``: one recording's annotation as a page that opens from disk.

Everything but the video is inside the page (figures and thumbnails as data URIs, no
script or style from the network); the video is the ``annotated.mp4`` beside it. The page
holds the player, the timelines aligned to the stages and to who speaks, the talk metrics,
the prospects' reactions by who speaks and per stage, and the moments as thumbnails that
seek the video when clicked.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from string import Template
from typing import Any

import cv2
import numpy as np

from capstone.artefacts import write_text
from capstone.calls.result import CallResult
from capstone.calls.summary import call_table, headline, reaction_table, stage_table, talk_table

PAGE = Template("""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>$title</title>
<style>
body { font: 15px/1.45 system-ui, sans-serif; max-width: 1100px; margin: 1em auto;
       padding: 0 1em; color: #222; }
video { width: 100%; background: #000; }
table { border-collapse: collapse; margin: .5em 0 1.2em; font-size: 13px; }
th, td { border-bottom: 1px solid #ddd; padding: 3px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.moments { display: flex; flex-wrap: wrap; gap: 10px; }
.moment { width: 120px; cursor: pointer; border: 0; background: none; padding: 0;
          font-size: 12px; text-align: left; }
.moment img { width: 120px; height: 120px; display: block; }
.note { color: #666; font-style: italic; }
.headline { font-size: 17px; }
</style>
</head>
<body>
<h1>$title</h1>
<p class="note">$note</p>
<p class="headline">$headline</p>
$meaning
$use
<video id="video" src="annotated.mp4" controls preload="metadata"></video>
<h2>Moments</h2>
<p>Click a moment to see it in the video.</p>
<div class="moments">$moments</div>
<h2>Perceived expressions over time</h2>
<img src="$timeline" alt="timelines per participant" style="width: 100%">
<h2>Who is who</h2>
<img src="$participants" alt="participants" style="max-width: 100%">
<h2>Talk</h2>
$talk
$call
<h2>The prospects, by who speaks</h2>
$reactions
<h2>Per stage of the pitch</h2>
$stages
<script>
const video = document.getElementById("video");
for (const button of document.querySelectorAll(".moment")) {
  button.addEventListener("click", () => {
    video.currentTime = Number(button.dataset.time);
    video.scrollIntoView({behavior: "smooth"});
  });
}
</script>
</body>
</html>
""")


def data_uri(image_bgr: np.ndarray | None = None, png: Path | None = None) -> str:
    """A ``data:`` URI of a BGR image (JPEG) or of a PNG file (empty if neither)."""
    if png is not None and png.is_file():
        return "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode()
    if image_bgr is None:
        return ""
    _, jpeg = cv2.imencode(".jpg", image_bgr, [cv2.IMWRITE_JPEG_QUALITY, 88])
    return "data:image/jpeg;base64," + base64.b64encode(jpeg.tobytes()).decode()


def moment_buttons(moments: list[dict[str, Any]]) -> str:
    """One button per moment (``participant``, ``time``, ``label``, ``image``) that seeks
    the video to its time."""
    return (
        "\n".join(
            f'<button class="moment" data-time="{m["time"]:.3f}">'
            f'<img src="{data_uri(m["image"])}" alt="">'
            f"{html.escape(m['participant'])} at {m['time']:.1f} s<br>{html.escape(m['label'])}"
            "</button>"
            for m in moments
            if m["image"] is not None
        )
        or "<p>No moments.</p>"
    )


def write_report(out: Path, summary: CallResult, moments: list[dict[str, Any]]) -> Path:
    """Write ``out/report.html`` from the summary, the figures in ``out`` and the
    ``moments`` (see :func:`moment_buttons`); returns its path."""
    use = summary.use
    use_text = f"<p>Use: <b>{html.escape(use.mode)}</b>: {html.escape(use.note)}.</p>"

    def table(frame: Any, empty: str) -> str:
        return frame.to_html(border=0, na_rep="") if len(frame) else f"<p>{empty}</p>"

    page = PAGE.substitute(
        title=html.escape(summary.input),
        note=html.escape(summary.note),
        headline=html.escape(headline(summary)),
        meaning=f"<p>{html.escape(summary.reading_means)}</p>" if summary.reading_means else "",
        use=use_text,
        moments=moment_buttons(moments),
        timeline=data_uri(png=out / "timeline.png"),
        participants=data_uri(png=out / "participants.png"),
        talk=table(talk_table(summary), "No participants."),
        call=table(call_table(summary), ""),
        reactions=table(
            reaction_table(summary), "No prospects' reactions (name them with --call)."
        ),
        stages=table(stage_table(summary), "No stages or no expressions read."),
    )
    write_text(out / "report.html", page)
    return out / "report.html"


INDEX = Template("""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Calls</title>
<style>
body { font: 15px/1.45 system-ui, sans-serif; max-width: 1100px; margin: 1em auto;
       padding: 0 1em; color: #222; }
table { border-collapse: collapse; font-size: 14px; }
th, td { border-bottom: 1px solid #ddd; padding: 4px 10px; text-align: left; }
</style>
</head>
<body>
<h1>Calls</h1>
<p>$count annotated inputs. The labels are perceived facial expressions, not felt emotions.
What every call measured is in <code>store/</code> (Parquet: <code>timelines/</code>,
<code>calls.parquet</code>, <code>reactions.parquet</code>).</p>
<table>
<tr><th>input</th><th>kind</th><th>participants</th><th>length</th><th>report</th></tr>
$rows
</table>
<h2>Trends</h2>
<img src="$trends" alt="trends call by call" style="width: 100%">
</body>
</html>
""")


def write_index(out: Path, entries: dict[str, dict[str, Any]]) -> Path:
    """Write ``out/index.html``: one row per annotated input (``entries``: output name ->
    ``input``, ``kind``, ``participants``, ``duration_s``, ``link`` relative to ``out``),
    and the trends figure ``out/trends.png``."""
    rows = []
    for name, e in sorted(entries.items()):
        length = "" if e.get("duration_s") is None else f"{e['duration_s']:.0f} s"
        cells = [html.escape(name), e["kind"], str(e.get("participants", "")), length]
        link = f'<a href="{html.escape(e["link"])}">open</a>'
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in [*cells, link]) + "</tr>")
    page = INDEX.substitute(
        count=len(entries), rows="\n".join(rows), trends=data_uri(png=out / "trends.png")
    )
    write_text(out / "index.html", page)
    return out / "index.html"
