"""Balance of the Stage-I loss terms, measured on the student's shared encoder.

The Swath-Distilling loss adds distillation terms (feature KL, reconstruction MSE,
self-consistency, …) to the task loss. With the paper's fixed weights (λ = 0.2 on the KL,
γ = 50 on the reconstruction) on per-element-mean reductions, the reconstruction gradient on the
encoder is tens to hundreds of times the task's, so global clipping then shrinks the task's
share of every step. :class:`LossBalancer` makes the balance a measured choice:

* every ``gradnorm_every`` training steps it measures ``‖∂L/∂θ_enc‖`` of the task loss and of
  each weighted distillation term on the shared encoder parameters θ_enc (the student's
  ``encoder``, or a UNet's ``inc`` + ``down``) with :func:`torch.autograd.grad`;
* ``weighting="paper"`` / ``"code"`` keep the fixed weights (scales 1) and only log the norms;
* ``weighting="gradnorm"`` rescales each term so that its gradient norm is
  ``gradnorm_fraction`` × the task's (scales re-measured every ``gradnorm_every`` steps and
  held in between);
* the last measured norms (``gradnorm_task``, ``gradnorm_<term>``, after scaling) and the scales
  (``balance_<term>``) are returned with every step, so the trainer logs them as
  ``train_gradnorm_*`` in ``metrics.csv``.

Scales, norms and the step counter are buffers: checkpointed with the model, so a resumed run
continues with the same scales.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch
from torch import nn

TERMS: tuple[str, ...] = ("kl", "rec", "sc", "kd", "mgd")
"""Distillation terms a balancer tracks (a distiller returns them as ``part_<term>``)."""


def shared_encoder_parameters(student: nn.Module) -> list[nn.Parameter]:
    """Trainable parameters of the part of ``student`` that every loss term reaches.

    PRE-Net: its ``encoder``; UNet: ``inc`` and ``down``; otherwise every parameter.
    """
    if hasattr(student, "encoder"):
        params = list(student.encoder.parameters())
    elif hasattr(student, "inc") and hasattr(student, "down"):
        params = [*student.inc.parameters(), *student.down.parameters()]
    else:
        params = list(student.parameters())
    return [p for p in params if p.requires_grad]


def _grad_norm(loss: torch.Tensor, params: list[nn.Parameter]) -> float:
    if not loss.requires_grad:
        return 0.0
    grads = torch.autograd.grad(loss, params, retain_graph=True, allow_unused=True)
    squares = [g.detach().float().pow(2).sum() for g in grads if g is not None]
    return float(torch.stack(squares).sum().sqrt()) if squares else 0.0


class LossBalancer(nn.Module):
    """Combines the task loss with the distillation terms (see the module docstring).

    Parameters
    ----------
    mode : {"fixed", "gradnorm"}
        ``fixed`` keeps the distiller's weights; ``gradnorm`` rescales every term.
    fraction : float or mapping of str to float
        Target ratio ‖∇ term‖ / ‖∇ task‖ of ``gradnorm``: one for every term, or one per term
        (a term missing from the mapping keeps scale 1).
    every : int
        Measure the gradient norms every this many training steps (``0``: never; ``gradnorm``
        needs ≥ 1).
    terms : tuple of str
        The terms it can combine (default :data:`TERMS`, Stage I's).
    """

    def __init__(
        self,
        mode: str = "fixed",
        fraction: float | Mapping[str, float] = 0.1,
        every: int = 10,
        terms: tuple[str, ...] = TERMS,
    ) -> None:
        super().__init__()
        if mode not in ("fixed", "gradnorm"):
            raise ValueError(f"mode must be 'fixed' or 'gradnorm', got {mode!r}")
        if mode == "gradnorm" and every < 1:
            raise ValueError("gradnorm balancing needs gradnorm_every >= 1")
        fractions = (
            dict(fraction) if isinstance(fraction, Mapping) else dict.fromkeys(terms, fraction)
        )
        unknown = sorted(set(fractions) - set(terms))
        if unknown:
            raise ValueError(f"fractions of unknown terms {unknown}; known: {list(terms)}")
        if not all(value > 0 for value in fractions.values()):
            raise ValueError(f"gradnorm_fraction must be > 0, got {fraction!r}")
        self.mode, self.every, self.terms = mode, int(every), tuple(terms)
        self.fractions = {name: float(value) for name, value in fractions.items()}
        self.register_buffer("scales", torch.ones(len(self.terms)))
        self.register_buffer("norms", torch.full((len(self.terms) + 1,), math.nan))
        self.register_buffer("steps", torch.zeros((), dtype=torch.long))

    @classmethod
    def from_config(cls, config) -> LossBalancer:
        """The balancer of a :class:`~prelib.models.config.DistillConfig`."""
        mode = "gradnorm" if config.weighting == "gradnorm" else "fixed"
        return cls(mode, config.gradnorm_fraction, config.gradnorm_every)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # Checkpoints written before the balancer existed load with its initial state.
        for name, buffer in self.named_buffers(recurse=False):
            state_dict.setdefault(prefix + name, buffer.detach().clone())
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def combine(
        self,
        task_loss: torch.Tensor,
        parts: dict[str, torch.Tensor],
        shared: list[nn.Parameter],
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """``task_loss + Σ scale_k · part_k`` and the scalars to log.

        Parameters
        ----------
        task_loss : Tensor, scalar
        parts : dict of str to Tensor
            Weighted distillation terms (keys among the balancer's ``terms``), differentiable.
        shared : list of Parameter
            The shared encoder parameters the norms are measured on.

        Returns
        -------
        total : Tensor, scalar
        log : dict of str to Tensor
            ``gradnorm_task``, ``gradnorm_<term>`` (of the scaled term), ``balance_<term>``.
        """
        unknown = sorted(set(parts) - set(self.terms))
        if unknown:
            raise ValueError(f"unknown loss terms {unknown}; known: {list(self.terms)}")
        index = {name: self.terms.index(name) for name in parts}
        measuring = (
            self.training
            and torch.is_grad_enabled()
            and self.every > 0
            and bool(shared)
            and int(self.steps) % self.every == 0
        )
        if measuring:
            with torch.no_grad():
                task_norm = _grad_norm(task_loss, shared)
                self.norms[0] = task_norm
                for name, part in parts.items():
                    norm = _grad_norm(part, shared)
                    fraction = self.fractions.get(name)
                    if self.mode == "gradnorm" and fraction and norm > 0 and task_norm > 0:
                        self.scales[index[name]] = fraction * task_norm / norm
                    self.norms[1 + index[name]] = norm * float(self.scales[index[name]])
        if self.training and torch.is_grad_enabled():
            self.steps += 1
        total = task_loss
        for name, part in parts.items():
            total = total + self.scales[index[name]].to(part.dtype) * part
        log = {"gradnorm_task": self.norms[0].clone()}
        for name in parts:
            log[f"gradnorm_{name}"] = self.norms[1 + index[name]].clone()
            log[f"balance_{name}"] = self.scales[index[name]].clone()
        return total, log
