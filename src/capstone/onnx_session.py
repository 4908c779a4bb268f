"""One way to start an ONNX Runtime session: on the CPU, quiet, and with threads that sleep
when idle.

Annotation runs several small networks (the face detector's three, the expression model,
the voice detector) one after the other, while another thread decodes the video and FFmpeg
encodes it. ONNX Runtime's worker threads spin between calls by default, taking the cores
those need; here they sleep instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def onnx_session(model: bytes | str | Path, threads: int = 0) -> Any:
    """An ONNX Runtime session for ``model`` (a file, or its bytes) on the CPU, with
    ``threads`` threads for one operator (0: one a core)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # its notes on the graph are not for users
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    source = model if isinstance(model, bytes) else str(model)
    return onnxruntime.InferenceSession(source, options, providers=["CPUExecutionProvider"])
