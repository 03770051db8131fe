"""DataLoaders over tensors held in memory, for the :class:`~prelib.training.trainer.Trainer`.

Small experiments (the downscaling models train on a few hundred patches) keep their whole
training set as tensors. :func:`tensor_loader` serves them as dict batches, as the Trainer
expects, without touching the global random generators: the shuffling order comes from the
sampler's own generator (one ``torch.randperm`` per epoch, seeded once) and the loader's base
seed from a second one, so dropout and noise draws in the step function see the same global
stream whether or not a loader is iterated, and both generators are saved in checkpoints.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch.utils.data import DataLoader, Dataset, Sampler, SequentialSampler


class TensorDictDataset(Dataset):
    """Samples ``{name: tensor[i]}`` of equally long tensors; batches by one gather each.

    Parameters
    ----------
    tensors : mapping of str to Tensor
        Same leading size ``n`` (samples).
    """

    def __init__(self, tensors: Mapping[str, torch.Tensor]) -> None:
        if not tensors:
            raise ValueError("TensorDictDataset needs at least one tensor")
        sizes = {name: len(t) for name, t in tensors.items()}
        if len(set(sizes.values())) != 1:
            raise ValueError(f"tensors must have the same number of samples, got {sizes}")
        self.tensors = dict(tensors)
        self.size = next(iter(sizes.values()))

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return {name: t[index] for name, t in self.tensors.items()}

    def __getitems__(self, indices: list[int]) -> dict[str, torch.Tensor]:
        """A whole batch, ``tensor[indices]`` per name (what the DataLoader asks for)."""
        return {name: t[indices] for name, t in self.tensors.items()}


class PermutationSampler(Sampler[int]):
    """One ``torch.randperm(n, generator)`` per epoch, from a generator seeded once.

    (``RandomSampler`` draws a second, empty-sliced permutation every epoch, so its order from
    the second epoch on is not the plain sequence of permutations.) ``generator`` is public so
    that checkpoints save and restore it.
    """

    def __init__(self, size: int, seed: int = 0) -> None:
        self.size = int(size)
        self.generator = torch.Generator().manual_seed(int(seed))

    def __len__(self) -> int:
        return self.size

    def __iter__(self):
        return iter(torch.randperm(self.size, generator=self.generator).tolist())


def _as_batch(batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return batch


def tensor_loader(
    tensors: Mapping[str, torch.Tensor], batch_size: int, shuffle: bool, seed: int = 0
) -> DataLoader:
    """A DataLoader of dict batches over in-memory tensors.

    Parameters
    ----------
    tensors : mapping of str to Tensor
        Same leading size ``n``.
    batch_size : int
        The last batch may be smaller (``ceil(n / batch_size)`` batches per epoch).
    shuffle : bool
        A new permutation every epoch, ``torch.randperm(n, generator)`` with a generator seeded
        once with ``seed``; otherwise the samples in order.
    seed : int

    Returns
    -------
    DataLoader
        Main-process loading (``num_workers=0``).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    dataset = TensorDictDataset(tensors)
    sampler = PermutationSampler(len(dataset), seed) if shuffle else SequentialSampler(dataset)
    return DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=sampler,
        collate_fn=_as_batch,
        generator=torch.Generator().manual_seed(int(seed) + 1),
    )
