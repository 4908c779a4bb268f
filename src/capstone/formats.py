"""The media files the project reads, by suffix: one list for the code and the help texts.

A leaf module (nothing of ours imported), so that the CLI can name the formats in its help
without loading the image and video code.
"""

from __future__ import annotations

#: Still images: call screenshots, dataset faces.
IMAGE_SUFFIXES: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".webp", ".bmp")

#: Recordings, read with OpenCV (FFmpeg).
VIDEO_SUFFIXES: tuple[str, ...] = (".mp4", ".mov", ".webm", ".mkv", ".avi")

#: Everything ``capstone annotate`` accepts.
MEDIA_SUFFIXES: tuple[str, ...] = (*IMAGE_SUFFIXES, *VIDEO_SUFFIXES)


def listed(suffixes: tuple[str, ...]) -> str:
    """The suffixes as a person reads them: ``"png, jpg, jpeg"``."""
    return ", ".join(suffix.lstrip(".") for suffix in suffixes)
