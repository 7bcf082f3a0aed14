"""The ONNX Runtime engine: the networks converted by ``indexer models fetch``, on the CPU."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from indexer.vision.engines.cores import usable_cores



class OnnxNetwork:
    """One ONNX file in an ONNX Runtime session; ``run`` returns its outputs in the network's order.
    ``threads``: the threads one run may use — 1 where several photos are read at once, each by a thread of
    its own (``FaceAnalyser``'s workers); None: the cores this process may use (``cores.usable_cores``).
    Never ONNX Runtime's own default, which starts a thread for every core of the machine and pins each to
    its core, whatever ``taskset`` or a container allows the process (measured: a run "on one core" used
    two)."""

    def __init__(self, path: Path, threads: int | None = None):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # errors only: its notices are of no use to a photo indexer's user
        # Without ONNX Runtime's memory arena, which keeps the largest buffers each input shape ever needed:
        # an index run of 40 photos of 12 MP peaks at 0.9 GB instead of 1.2 GB, as fast (bench/memory.py).
        options.enable_cpu_mem_arena = False
        # Idle threads sleep rather than spin: a run alternates four sessions (MTCNN's three networks and
        # FaceNet) and a decoding thread on few cores, and the spinning threads of the session just used
        # took the cores from the next one. On 8 photos of 12 MP (2 cores): FaceNet 116 → 64 ms a photo,
        # the cascade 256 → 223 ms; the same outputs.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.intra_op_num_threads = threads if threads is not None else usable_cores()
        self._session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name

    def run(self, batch: np.ndarray) -> list[np.ndarray]:
        return self._session.run(None, {self._input: np.ascontiguousarray(batch, dtype=np.float32)})


class OnnxCascade:
    """MTCNN's networks on ONNX Runtime (``cascade.CascadeNetworks``); ``files`` are the proposal,
    refinement and output networks in that order, each run with ``threads`` (``OnnxNetwork``)."""

    def __init__(self, files: list[Path], threads: int | None = None):
        self._propose, self._refine, self._output = (OnnxNetwork(path, threads) for path in files)

    def propose(self, level):
        return tuple(self._propose.run(level))

    def refine(self, patches):
        return tuple(self._refine.run(patches))

    def output(self, patches):
        return tuple(self._output.run(patches))
