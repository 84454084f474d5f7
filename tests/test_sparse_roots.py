"""The mixture's covariance square roots are stored sparse (core/posterior.py): restored bit for bit, sampled and
summarised as the dense roots would be, and saved without their zeros. Posteriors here are SYNTHETIC (made in the
tests), except the shipped fit's."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from dxsim.core import saved_calibration as sc
from dxsim.core.posterior import IndicatorPosterior, sparse_roots


def _posterior(parts: int, rng: np.random.Generator) -> tuple[IndicatorPosterior, np.ndarray]:
    """A SYNTHETIC posterior of 3 geos and one offset (P = 7), and its dense roots: upper triangular, with zeros
    that differ between parts (one part has an entry the others lack) and a -0.0."""
    P = 7
    roots = np.triu(rng.normal(size=(parts, P, P)))
    roots[:, 1, 4] = roots[:, 0, 5] = roots[:, 2, 3] = 0.0
    roots[0, 1, 4] = 0.7                  # nonzero in one part only
    roots[-1, 2, 3] = -0.0                # a -0.0 where the other parts have 0.0
    return IndicatorPosterior(indicator="x", geos=("vietnam", "a", "b"), offsets=("other",), slope_offsets=(),
                              t0=2022.0, hyper_map=np.ones(2), hypers=np.ones((parts, 2)),
                              means=rng.normal(size=(parts, P)), **sparse_roots(roots)), roots


def test_sparse_roots_restore_the_dense_roots_bit_for_bit():
    post, roots = _posterior(4, np.random.default_rng(0))
    assert post.root_values.shape[1] < roots[0].size          # the zeros are not stored
    assert post.roots.tobytes() == roots.tobytes()            # -0.0 included


@pytest.mark.parametrize(("parts", "draws"), [(4, 11), (7, 5), (1, 3)])
def test_sampling_from_the_sparse_roots_is_the_dense_product(parts, draws):
    post, roots = _posterior(parts, np.random.default_rng(1))
    sampled = post.sample(draws, np.random.default_rng(2))
    z = np.random.default_rng(2).standard_normal((draws, 7))
    part = np.arange(draws) % parts                            # draw i: mixture part i % H
    beta = post.means[part] + np.einsum("dij,dj->di", roots[part], z)
    for got, expected in zip(sampled, post.layout.split(beta), strict=True):
        assert got.shape == expected.shape
        assert np.allclose(got, expected, rtol=0, atol=1e-12)


def test_sampling_never_builds_every_part_s_dense_root_at_once():
    """Each part's dense root is built for its own product only: the memory a draw needs does not grow with the
    mixture's parts x P x P (SYNTHETIC posterior: 64 parts, P = 7 + 2 x 60 geos)."""
    parts, geos = 64, 61
    P = 2 + 2 * (geos - 1) + 1
    rng = np.random.default_rng(4)
    roots = np.zeros((parts, P, P))
    roots[:, np.arange(P), np.arange(P)] = rng.uniform(0.1, 1.0, size=(parts, P))
    post = IndicatorPosterior(indicator="x", geos=("vietnam", *(f"g{k}" for k in range(1, geos))), offsets=("other",),
                              slope_offsets=(), t0=2022.0, hyper_map=np.ones(2), hypers=np.ones((parts, 2)),
                              means=np.zeros((parts, P)), **sparse_roots(roots))
    tracemalloc.start()
    try:
        post.sample(parts, np.random.default_rng(5))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < roots.nbytes / 8


def test_moments_are_the_mixture_mean_and_covariance():
    post, roots = _posterior(5, np.random.default_rng(3))
    mean, cov = post.moments()
    dev = post.means - post.means.mean(axis=0)
    expected = np.mean([r @ r.T for r in roots], axis=0) + dev.T @ dev / 5
    assert np.allclose(mean, post.means.mean(axis=0), rtol=0, atol=1e-14)
    assert np.allclose(cov, expected, rtol=0, atol=1e-12)


def test_the_saved_calibration_holds_no_dense_roots(calibrator, inputs, tmp_path):
    sc.save(calibrator, inputs.observations, tmp_path)
    with np.load(tmp_path / sc.ARRAYS) as npz:
        names = set(npz.files)
        for name, post in calibrator.posteriors_.items():
            assert f"{name}.roots" not in names
            values = npz[f"{name}.root_values"]
            dense = post.roots
            # entries nonzero in some part, -0.0 counted (as sparse_roots stores them)
            stored = np.count_nonzero(np.any((dense != 0.0) | np.signbit(dense), axis=0))
            assert values.shape == (len(post.means), stored)
            assert npz[f"{name}.root_index"].shape == (2, stored)
