"""Training: the model-agnostic :class:`~prelib.training.trainer.Trainer`, checkpoints, the
optimiser/schedule builders, task losses and the Rand-/Self-MaskTune mask strategies.

Import the sub-modules directly (``from prelib.training.trainer import Trainer``); this package
imports nothing heavy by itself.
"""
