"""Fixtures shared by several test modules."""

import pytest
import torch
from threadpoolctl import threadpool_limits


@pytest.fixture(scope="module")
def one_thread():
    """Small tensors and t-SNEs of a few hundred points: one thread is faster, and
    much faster on a busy CPU. Module-scoped: restores torch's thread count after."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(1):
        yield
    torch.set_num_threads(threads)
