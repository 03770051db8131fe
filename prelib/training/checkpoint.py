"""Training checkpoints: atomic, self-describing, and refused when they do not fit.

A checkpoint is a ``torch.save`` dict with a ``header`` and the states needed to resume
bit-exactly::

    header      {"format": "prelib-checkpoint", "format_version": 1, "model_name", "profile",
                 "config" (dict), "prelib_version", "epoch", "created" (ISO 8601 UTC)}
    model       model.state_dict()            (DDP "module." prefixes removed)
    optimizer, scheduler, rng (python/numpy/torch[/cuda]), loader_rng, masktune, trainer

Only tensors, numbers, strings, lists and dicts are stored, so loading uses
``torch.load(weights_only=True)``: a checkpoint cannot run code on load. The header carries
``model_sha256``, a SHA-256 of the model tensors (names, dtypes, shapes and bytes), checked on
load: a flipped byte in the weights is an error, not a silently different model. Writes go through
:func:`prelib.atomic.atomic_path`, so a kill during saving leaves the previous file intact.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import pickle
import zipfile
from pathlib import Path
from typing import Any

import torch

from prelib import __version__
from prelib.atomic import atomic_path
from prelib.errors import InvalidDataError

FORMAT = "prelib-checkpoint"
FORMAT_VERSION = 1


def make_header(
    model_name: str, profile: str, config: dict[str, Any], epoch: int
) -> dict[str, Any]:
    """The header dict written at the top of every checkpoint."""
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model_name": str(model_name),
        "profile": str(profile),
        "config": to_plain(config),
        "prelib_version": __version__,
        "epoch": int(epoch),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def to_plain(value: Any) -> Any:
    """Config values as lists/dicts/scalars only (tuples become lists) for ``weights_only``."""
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def tensors_sha256(state: dict[str, Any]) -> str:
    """SHA-256 (hex) of a state dict's tensors: names, dtypes, shapes and bytes, in name order."""
    digest = hashlib.sha256()
    for name in sorted(state):
        value = state[name]
        if not torch.is_tensor(value):
            digest.update(f"{name}={value!r};".encode())
            continue
        tensor = value.detach().to("cpu").contiguous()
        digest.update(f"{name}:{tensor.dtype}:{tuple(tensor.shape)};".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def save_checkpoint(path: str | os.PathLike, payload: dict[str, Any]) -> Path:
    """Write ``payload`` (which must contain a ``header``) atomically to ``path``; the header
    written gains ``model_sha256`` (:func:`tensors_sha256` of ``payload["model"]``)."""
    if "header" not in payload or payload["header"].get("format") != FORMAT:
        raise ValueError("checkpoint payload needs a header made by make_header()")
    if isinstance(payload.get("model"), dict):
        header = {**payload["header"], "model_sha256": tensors_sha256(payload["model"])}
        payload = {**payload, "header": header}
    path = Path(path)
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return path


def load_checkpoint(
    path: str | os.PathLike,
    model_name: str | None = None,
    profile: str | None = None,
    map_location: str | torch.device = "cpu",
) -> dict[str, Any]:
    """Read a checkpoint safely and check that it belongs to the expected model and profile.

    Parameters
    ----------
    path : path-like
        A file written by :func:`save_checkpoint`.
    model_name, profile : str, optional
        When given, the header must match; otherwise a ``ValueError`` says what was found.
    map_location : str or torch.device
        Where tensors are loaded.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is corrupted, not a prelib checkpoint, or for another model/profile.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except (RuntimeError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile, OSError) as err:
        raise ValueError(
            f"checkpoint {path} is corrupted or not a torch checkpoint ({type(err).__name__}: "
            f"{str(err).splitlines()[0] if str(err) else ''})"
        ) from err
    header = payload.get("header") if isinstance(payload, dict) else None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ValueError(f"{path} is not a prelib checkpoint (no '{FORMAT}' header)")
    if header.get("format_version", 0) > FORMAT_VERSION:
        raise ValueError(
            f"{path} has checkpoint format {header['format_version']}; this prelib reads up to "
            f"{FORMAT_VERSION} — upgrade prelib"
        )
    expected = header.get("model_sha256")
    if expected is not None and isinstance(payload.get("model"), dict):
        found = tensors_sha256(payload["model"])
        if found != expected:
            raise InvalidDataError(
                f"checkpoint {path} is corrupted: its model tensors do not match the SHA-256 in "
                f"its header ({found[:12]}... != {expected[:12]}...); use another copy or retrain"
            )
    check_header(header, model_name=model_name, profile=profile, source=str(path))
    return payload


def check_header(
    header: dict[str, Any],
    model_name: str | None = None,
    profile: str | None = None,
    source: str = "checkpoint",
) -> None:
    """Raise ``ValueError`` if the header's model name or profile differ from the expected ones."""
    for key, expected in (("model_name", model_name), ("profile", profile)):
        if expected is not None and header.get(key) != expected:
            raise ValueError(
                f"{source} was written for {key}={header.get(key)!r}, expected {expected!r}"
            )


def strip_ddp_prefix(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Remove the ``module.`` prefix that DistributedDataParallel adds to parameter names."""
    if state_dict and all(k.startswith("module.") for k in state_dict):
        return {k[len("module.") :]: v for k, v in state_dict.items()}
    return dict(state_dict)


def load_model_weights(
    model: torch.nn.Module,
    path: str | os.PathLike,
    model_name: str | None = None,
    profile: str | None = None,
    strict: bool = True,
) -> dict[str, Any]:
    """Load the model weights of a checkpoint into ``model``; returns the header.

    A state dict that does not fit the model (missing/unexpected keys or other shapes) raises
    ``ValueError`` naming the first differences.
    """
    payload = load_checkpoint(path, model_name=model_name, profile=profile)
    load_state_checked(model, payload["model"], str(path), strict=strict)
    return payload["header"]


def load_state_checked(
    module: torch.nn.Module, state: dict[str, Any], source: str, strict: bool = True
) -> None:
    """``module.load_state_dict(state)`` with a clear error naming the tensors that do not fit.

    Raises
    ------
    ValueError
        ``"<source>: tensor 'stem.weight' has shape (8, 3) in the checkpoint but (16, 3) in the
        model"`` (first differences), or the missing / unexpected names when ``strict``.
    """
    state = strip_ddp_prefix(state)
    own = module.state_dict()
    wrong = [
        f"tensor {name!r} has shape {tuple(value.shape)} in the checkpoint but "
        f"{tuple(own[name].shape)} in the model"
        for name, value in state.items()
        if name in own and torch.is_tensor(value) and tuple(value.shape) != tuple(own[name].shape)
    ]
    missing = sorted(set(own) - set(state)) if strict else []
    unexpected = sorted(set(state) - set(own)) if strict else []
    problems = wrong[:3]
    if missing:
        problems.append(f"missing tensors {missing[:5]}{' ...' if len(missing) > 5 else ''}")
    if unexpected:
        problems.append(
            f"unexpected tensors {unexpected[:5]}{' ...' if len(unexpected) > 5 else ''}"
        )
    if problems:
        raise ValueError(f"weights in {source} do not fit the model: " + "; ".join(problems))
    try:
        module.load_state_dict(state, strict=strict)
    except RuntimeError as err:
        raise ValueError(f"weights in {source} do not fit the model: {str(err)[:500]}") from err
