"""Shared fixtures of the evaluation tests."""
import _reference_scorers
import numpy as np
import pytest


@pytest.fixture
def ref():
    """The slow per-frame reference scorers written for these tests."""
    return _reference_scorers


@pytest.fixture
def rng():
    return np.random.default_rng(0)
