"""Checkpoints that cannot lie (issue 12): a digest of the content, the config, the data.

The file is a header line (format tag and the SHA-256 of the payload) followed by the
``torch.save`` payload. Loading recomputes the digest before unpickling, so a truncated
or bit-flipped file is refused, naming the file and how to start over, instead of
resuming into corrupt optimiser state. The payload records the training config and the
identity of the training data (name and a digest of the arrays and constraints); a
checkpoint of another dataset or config is refused, except a larger ``nepochs``, which
continues the run.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import torch

from cftrain.atomic import atomic_path
from cftrain.constraints import Constraints

MAGIC = b"cftrain-checkpoint-v1"
RESTART_HINT = "delete it or pass restart=True to start the run over"


class CheckpointError(ValueError):
    """A checkpoint that cannot be used: unreadable, corrupt, or of another run."""


def data_identity(
    name: str, arrays: Iterable[torch.Tensor | None], constraints: Constraints | None
) -> dict[str, str]:
    """``{"name", "sha256"}`` of the training data: the arrays' dtypes, shapes and bytes,
    and the constraints' bounds and mutability."""
    h = hashlib.sha256()
    for a in arrays:
        if a is None:
            h.update(b"none")
            continue
        if a.dtype == torch.bfloat16:  # NumPy has no bfloat16: hash its bits
            h.update(f"bfloat16{tuple(a.shape)}".encode())
            h.update(a.detach().cpu().contiguous().view(torch.int16).numpy().tobytes())
            continue
        a = np.ascontiguousarray(a.detach().cpu().numpy())
        h.update(f"{a.dtype}{a.shape}".encode())
        h.update(a.tobytes())
    if constraints is not None:
        for bound in (constraints.lower, constraints.upper):
            if bound is not None:
                h.update(np.ascontiguousarray(bound.double().cpu().numpy()).tobytes())
        h.update(repr(constraints.mutability).encode())
    return {"name": name, "sha256": h.hexdigest()}


def save(path: Path, state: dict) -> None:
    """Write ``state`` with its digest atomically (a killed run keeps the previous file)."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    payload = buffer.getvalue()
    header = MAGIC + b" " + hashlib.sha256(payload).hexdigest().encode() + b"\n"
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(header + payload)


def load(path: Path) -> dict:
    """The state saved at ``path`` after checking its digest; :class:`CheckpointError` if
    the file is truncated, corrupt or not a checkpoint of this format."""
    try:
        raw = Path(path).read_bytes()
    except OSError as err:
        raise CheckpointError(f"checkpoint {path} cannot be read ({err}); {RESTART_HINT}") from err
    header, _, payload = raw.partition(b"\n")
    magic, _, digest = header.partition(b" ")
    if magic != MAGIC:
        raise CheckpointError(
            f"checkpoint {path} is not a {MAGIC.decode()} file (an older format or another "
            f"file); {RESTART_HINT}"
        )
    if hashlib.sha256(payload).hexdigest().encode() != digest:
        raise CheckpointError(
            f"checkpoint {path} is corrupt or truncated (its SHA-256 does not match the one "
            f"recorded when it was written); {RESTART_HINT}"
        )
    return torch.load(io.BytesIO(payload), map_location="cpu", weights_only=True)


def check_resumable(path: Path, state: dict, config: dict, identity: dict[str, str]) -> None:
    """Refuse a checkpoint written for other data or another config; a larger
    ``nepochs`` (with the same burn-in epochs) continues the run."""
    if state["data"] != identity:
        raise CheckpointError(
            f"checkpoint {path} was written for other training data (dataset "
            f"{state['data']['name']!r}, sha256 {state['data']['sha256'][:12]}…; now "
            f"{identity['name']!r}, {identity['sha256'][:12]}…); {RESTART_HINT}"
        )
    old = state["config"]
    diff = sorted(k for k in config.keys() | old.keys() if old.get(k) != config.get(k))
    if diff == ["nepochs"] and config["nepochs"] > old["nepochs"]:
        burnin = config["burnin"]
        if round(burnin * config["nepochs"]) == round(burnin * old["nepochs"]):
            return
        diff = ["nepochs (it changes the burn-in epochs)"]
    if diff:
        raise CheckpointError(
            f"checkpoint {path} was written with a different config (keys {diff}); only a "
            f"larger nepochs continues a run; {RESTART_HINT}"
        )
