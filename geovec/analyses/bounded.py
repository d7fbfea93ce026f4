"""Exact ranking by bounds: each query's rank (candidates strictly closer than its true
one) and nearest candidate without the full float32 queries x candidates product where
cheaper bounds settle most pairs, and at the BLAS rate where they cannot.

Every pair first gets an interval that surely holds its score, the squared distance less
|q|^2 (``e = |c|^2 - 2 q.c``), from one of three sources:

- int8 layers (the default where they pay): each row is ``scale_1 code_1 + rest_1``
  (code: int8, scale: the row's largest magnitude / 127), or with two layers the rest
  rounded again; the products of the codes are exact int32 sums (XLA:CPU's int8 dot,
  about 8 times the float32 rate here, on AMX/VNNI), and Cauchy-Schwarz bounds what the
  rests leave out (:func:`int8_terms`): about 3 % of |q||c| with one layer, 0.03 % with
  two (three products);
- the full float32 product (XLA's dot or numpy's BLAS, whichever a timing of the shape
  picks, :func:`_dot_engine`), whose rounding error is at most ``gamma_D |q||c|``
  (``gamma_D = D u / (1 - D u)``, u = 2^-24, for any order of summation);
- a projection onto the top principal directions of a sample (:func:`principal_basis`,
  float64): with ``a = P x`` and the residual norm ``rho`` of each row, ``|q - c|^2`` lies
  in ``|a_q - a_c|^2 + (rho_q -/+ rho_c)^2`` (the residuals orthogonal to P); on request
  (``mode="projection"``): on ReLU features the residuals keep too much (6 % of the
  energy past 128 directions) for it to win.

Margins cover every float32 rounding of the bounds themselves. A pair whose interval
lies wholly below the true score counts as closer, wholly above it as farther; the rest
(the true candidate itself, its copies, near ties) are settled pair by pair: a float32
product summed in pieces of 256 (error ``gamma_256``, 16 times tighter), then, for what
still straddles, float64 (:func:`exact_scores`: the same function of the two rows' values
wherever they sit, so copies tie exactly). The ranks are those of exact arithmetic on
the float32 inputs (up to float64 rounding, 1e-13 relative): a copy of the true candidate,
or any candidate at exactly its distance, never counts as closer. The nearest candidate
is settled the same way among the pairs whose lower bound is at most the least upper
bound (the smallest index among equals).

Which source a call uses follows a cost model fitted on the spot (:func:`choose_source`):
the share of a sample's pairs each leaves unsettled, priced at the measured cost of
settling a pair, plus its products. On Gaussian noise nothing prunes (every candidate is
about equally far), so it is the full product. Memory stays bounded: chunks of queries
against blocks of candidates, never the full matrix.
"""

from __future__ import annotations

import functools
import time

import jax
import jax.numpy as jnp
import numpy as np

U = 2.0**-24
"""The unit roundoff of float32."""
PIECE = 256
"""Dimensions summed in float32 at a time when a pair is settled on its own."""
QUERY_CHUNK, CANDIDATE_BLOCK = 1024, 8192
"""Queries per chunk and candidates per block of the bounding pass."""
PAIR_BATCH = 256
"""Pairs (or rows) gathered at a time when settling them one by one: in cache."""
SAMPLE_QUERIES, SAMPLE_CANDIDATES, BASIS_SAMPLE = 32, 1024, 512


def _gamma(n: int) -> float:
    return n * U / (1 - n * U)


def _f64_rows(x: np.ndarray, rows=None) -> np.ndarray:
    return np.ascontiguousarray(x if rows is None else x[rows], np.float64)


def exact_scores(queries, candidates, q_rows, c_rows, c_norms=None) -> np.ndarray:
    """``|c|^2 - 2 q.c`` in float64 for the pairs (queries[q_rows[i]],
    candidates[c_rows[i]]): each the same function of its two rows' values wherever they
    sit (one einsum per row, no blocking that depends on the row's position), so two
    copies of a candidate score alike; ``c_norms``: the candidates' float64 squared norms
    (:func:`norms64`), else computed."""
    q_rows, c_rows = np.asarray(q_rows, np.int64), np.asarray(c_rows, np.int64)
    out = np.empty(len(q_rows))
    for s in range(0, len(q_rows), PAIR_BATCH):
        q = _f64_rows(queries, q_rows[s : s + PAIR_BATCH])
        c = _f64_rows(candidates, c_rows[s : s + PAIR_BATCH])
        sq = np.einsum("ij,ij->i", c, c) if c_norms is None else c_norms[c_rows[s : s + PAIR_BATCH]]
        out[s : s + len(q)] = sq - 2.0 * np.einsum("ij,ij->i", q, c)
    return out


def norms64(x: np.ndarray) -> np.ndarray:
    """Float64 squared norms of the rows (as :func:`exact_scores` computes them)."""
    out = np.empty(len(x))
    for s in range(0, len(x), PAIR_BATCH):
        r = _f64_rows(x[s : s + PAIR_BATCH])
        out[s : s + len(r)] = np.einsum("ij,ij->i", r, r)
    return out


class _Norms:
    """Float64 squared norms of the rows of ``x`` (:func:`norms64`), computed for the rows
    asked for, once: only the candidates some pair is settled with need them."""

    def __init__(self, x: np.ndarray):
        self.x, self.values = x, np.full(len(x), np.nan)

    def __getitem__(self, rows):
        rows = np.asarray(rows, np.int64)
        need = np.unique(rows[np.isnan(self.values[rows])])
        if len(need):
            self.values[need] = norms64(self.x[need])
        return self.values[rows]


def upper_lengths(x: np.ndarray) -> np.ndarray:
    """Upper bounds on the rows' norms from float32 sums of squares (a sum of D
    non-negative rounded squares is within gamma_{D+1} of its value)."""
    sq = np.einsum("ij,ij->i", x, x).astype(np.float64)
    return np.sqrt(sq * (1 + 2 * _gamma(x.shape[1] + 1))) * (1 + 1e-12) + 1e-30


def _piece_scores(queries, candidates, q_rows, c_rows, c_norms, q_len, c_len):
    """(score, error bound) per pair from float32 products of PIECE dimensions summed in
    float64: |error| <= 2 gamma_PIECE |q||c| (Cauchy-Schwarz over the pieces) plus
    float64 rounding."""
    dim = queries.shape[1]
    pieces = -(-dim // PIECE)
    est = np.empty(len(q_rows))
    for s in range(0, len(q_rows), PAIR_BATCH):
        qi, cj = q_rows[s : s + PAIR_BATCH], c_rows[s : s + PAIR_BATCH]
        if dim % PIECE:
            q = np.zeros((len(qi), pieces * PIECE), np.float32)
            c = np.zeros((len(qi), pieces * PIECE), np.float32)
            q[:, :dim], c[:, :dim] = queries[qi], candidates[cj]
        else:
            q, c = queries[qi], candidates[cj]
        part = np.einsum(
            "pbd,pbd->pb", q.reshape(len(qi), pieces, PIECE), c.reshape(len(qi), pieces, PIECE)
        )
        est[s : s + len(qi)] = c_norms[cj] - 2.0 * part.sum(axis=1, dtype=np.float64)
    bound = (2.0 * _gamma(PIECE) + 1e-10) * q_len[q_rows] * c_len[c_rows] * 1.001
    return est, bound + 1e-10 * c_len[c_rows] ** 2 + 1e-30


@jax.jit
def _classify(e, a_lo, a_hi, b_lo, b_hi, s, w, t_lo, t_hi, run_min, start, limit):
    """One block: each pair's score interval ``e + a + b -/+ sum_t s_t w_t`` against the true
    score's [t_lo, t_hi]; returns the count of pairs surely closer, the running minimum of
    the upper bounds (over candidates before ``limit``) and a code per pair: 1 unsettled,
    2 possibly the nearest (its lower bound at most that minimum), 3 both."""
    sw = jnp.sum(s[:, None, :] * w[None, :, :], axis=2)
    lo = e + a_lo[None, :] + b_lo[:, None] - sw
    hi = e + a_hi[None, :] + b_hi[:, None] + sw
    closer = hi < t_lo[:, None]
    farther = lo > t_hi[:, None]
    index = start + jnp.arange(e.shape[1], dtype=jnp.int32)
    inside = index[None, :] < limit
    run_min = jnp.minimum(run_min, jnp.min(jnp.where(inside, hi, jnp.inf), axis=1))
    near = (lo <= run_min[:, None]) & inside
    code = (~closer & ~farther).astype(jnp.uint8) | (near.astype(jnp.uint8) << 1)
    return jnp.sum(closer, axis=1, dtype=jnp.int32), run_min, code


@jax.jit
def _project_block(aq, ac, a_norm):
    return a_norm[None, :] - 2.0 * (aq @ ac.T)


@functools.partial(jax.jit, static_argnames="layers")
def _int8_block(q8, q_scale, c8, c_scale, c_norm, layers):
    """|c|^2 - 2 q.c from int8 layers (exact int32 products): layer a of q against layer
    b of c for a + b < layers, counting from 0 (1 layer: one product; 2: three; 3: six)."""
    dot = 0.0
    for a in range(layers):
        for b in range(layers - a):
            i = jax.lax.dot_general(
                q8[a], c8[b], (((1,), (1,)), ((), ())), preferred_element_type=jnp.int32
            )
            dot = dot + (q_scale[:, a, None] * c_scale[None, :, b]) * i.astype(jnp.float32)
    return c_norm[None, :] - 2.0 * dot


@functools.partial(jax.jit, static_argnames="layers")
def _quantize_rows(x, layers):
    r = x
    codes, scales, rests = [], [], []
    for _ in range(layers):
        peak = jnp.max(jnp.abs(r), axis=1)
        scale = jnp.where(peak > 0, peak / 127.0, 1.0)
        code = jnp.clip(jnp.rint(r / scale[:, None]), -127, 127)
        r = r - code * scale[:, None]
        codes.append(code.astype(jnp.int8))
        scales.append(scale)
        rests.append(jnp.sqrt(jnp.sum(r * r, axis=1)))
    return jnp.stack(codes), jnp.stack(scales, 1), jnp.stack(rests, 1)


def quantize(x: np.ndarray, x_len: np.ndarray, layers: int):
    """Int8 layers of each row: ``x = sum_l scale_l * code_l + rest_l``, each layer the
    rounding of what the ones before leave (scale: its largest magnitude / 127, a float32
    number; the products scale * code are exact reals). Returns (codes (layers, n, dim)
    int8, scales (n, layers) float32, upper bounds (n, layers) on the norm of each rest):
    the rests are computed in float32, so their norms are inflated by the worst rounding
    (2u |x| per element's subtraction, gamma_D on the sum of squares)."""
    n, dim = x.shape
    if n * dim <= 1 << 20:  # small: numpy, no compilation (the same steps in float32)
        codes, scales, rests = _quantize_estimate(x, layers)
        codes = np.stack(codes).astype(np.int8)
    else:
        codes = np.empty((layers, n, dim), np.int8)
        scales = np.empty((n, layers), np.float32)
        rests = np.empty((n, layers))
        step = 4096
        for s in range(0, n, step):
            rows = _pad_rows(np.asarray(x[s : s + step], np.float32), min(step, _bucket(n)))
            c, sc, r = _quantize_rows(jnp.asarray(rows), layers)
            k = min(step, n - s)
            codes[:, s : s + k] = np.asarray(c)[:, :k]
            scales[s : s + k] = np.asarray(sc)[:k]
            rests[s : s + k] = np.asarray(r, np.float64)[:k]
    slack = 4 * layers * U * x_len[:, None] * 1.01 + 1e-30
    return codes, scales, rests * (1 + 2 * _gamma(dim)) * 1.0001 + slack


def _bucket(n: int) -> int:
    """A power of two at or above ``n`` (at least 8): few shapes, few compilations."""
    return 1 << max(3, (int(n) - 1).bit_length())


def int8_terms(rest, length, layers):
    """Factors of the error bound of :func:`_int8_block` for one side, as (query
    factors, candidate factors) of each row (pair a query's with a candidate's).

    With q = q_0 + ... + q_{L-1} + r (layer l: scale_l code_l; r the last rest), the
    products computed are q_a.c_b for a + b < L; what they leave out is the sum of
    q_a.c_b for a + b >= L (a, b < L), plus (q_0 + ... + q_{L-1}).r_c + r_q.c: at most
    the sum of |q_a||c_b| + (|q| + |r_q|)|r_c| + |r_q||c| (Cauchy-Schwarz), with
    |q_a| <= |rest_{a-1}| + |rest_a| (a layer is what its rest takes from the one
    before). One layer: (|q| + |r1q|)|r1c| + |r1q||c|."""
    piece = [None] + [rest[:, a - 1] + rest[:, a] for a in range(1, layers)]
    q_f, c_f = [], []
    for a in range(1, layers):
        for b in range(1, layers):
            if a + b >= layers:
                q_f.append(piece[a])
                c_f.append(piece[b])
    last = rest[:, layers - 1]
    q_f += [length + last, last]
    c_f += [last, length]
    return np.stack(q_f, 1), np.stack(c_f, 1)


@jax.jit
def _xla_block(q, c, c_norm):
    return c_norm[None, :] - 2.0 * (q @ c.T)


_DOT_CHOICE: dict[tuple[int, int, int], str] = {}


def _dot_engine(rows: int, dim: int, block: int) -> str:
    """ "xla" or "numpy": whichever computes a (rows, dim) x (dim, block) float32 product
    faster here, timed once per shape and process (the second of two calls each)."""
    key = (rows, dim, block)
    if key not in _DOT_CHOICE:
        rng = np.random.default_rng(0)
        q = rng.random((rows, dim), np.float32)
        c = rng.random((block, dim), np.float32)
        n = np.zeros(block, np.float32)
        jq, jc, jn = jnp.asarray(q), jnp.asarray(c), jnp.asarray(n)
        times = {"xla": [], "numpy": []}
        for _ in range(2):
            t0 = time.perf_counter()
            _xla_block(jq, jc, jn).block_until_ready()
            times["xla"].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            n[None, :] - 2.0 * (q @ c.T)
            times["numpy"].append(time.perf_counter() - t0)
        _DOT_CHOICE[key] = min(times, key=lambda k: times[k][-1])
    return _DOT_CHOICE[key]


class _Source:
    """Per-pair score intervals, block by block: the float32 estimate ``e`` of each pair
    (:meth:`block`) and the per-candidate (``a_lo``, ``a_hi``, ``w``) and per-query
    (:meth:`query_terms`) terms of :func:`_classify`. ``mode``: "dense" (the float32
    product), "int8" with ``layers`` 1 or 2, or "projection" onto ``basis``. Candidates
    are padded to whole blocks (+inf bounds: never closer, never nearest), so every
    block has one shape."""

    def __init__(self, queries, candidates, q_len, c_len, mode="dense", layers=2, basis=None):
        self.q, self.q_len, self.mode, self.layers, self.basis = (
            queries,
            q_len,
            mode,
            layers,
            basis,
        )
        m, dim = candidates.shape
        self.size = min(CANDIDATE_BLOCK, -(-m // 128) * 128)
        self.m = m
        padded = -(-m // self.size) * self.size
        # the estimate's |c|^2: float32 sums of squares, within gamma_{D+1} |c|^2
        sq = np.einsum("ij,ij->i", candidates, candidates)
        slack = (16 * U + 2 * _gamma(dim + 1)) * c_len**2 + 1e-30
        a_lo, a_hi, self.engine = -slack, slack, "xla"
        margin = c_len * 64 * U * 1.001  # float32 rounding of the estimate, generously
        if mode == "dense":  # |error of q.c| <= gamma_D |q||c|
            inputs = candidates
            w = np.stack([c_len * 2 * _gamma(dim) * 1.001, margin], 1)
            self.engine = _dot_engine(256, dim, 2048)
        elif mode == "int8":
            inputs, scales, rest = quantize(candidates, c_len, layers)
            self.c_scale = _pad_rows(scales, padded)
            _, c_terms = int8_terms(rest, c_len, layers)
            w = np.concatenate([2.0 * c_terms * 1.0001, margin[:, None]], 1)
        else:
            self.mu = (2 * basis.shape[0] + 64) * U
            inputs, rho_lo, rho_hi = _project(candidates, basis, c_len)
            sq = np.einsum("ij,ij->i", inputs, inputs)
            slack = self.mu * c_len**2 + 1e-30
            a_lo, a_hi = rho_lo**2 - slack, rho_hi**2 + slack
            w = np.stack([2.0 * rho_hi * 1.0001, margin], 1)

        if mode == "int8":
            self.c_in = np.zeros((layers, padded, dim), np.int8)
            self.c_in[:, :m] = inputs
            self.c_in = jnp.asarray(self.c_in)
            self.c_scale = jnp.asarray(self.c_scale)
        else:
            self.c_in = _pad_rows(np.asarray(inputs, np.float32), padded)
            if self.engine == "xla":
                self.c_in = jnp.asarray(self.c_in)
        self.c_sq_np = _pad_rows(np.asarray(sq, np.float32), padded)
        self.c_sq = jnp.asarray(self.c_sq_np)
        self.w = jnp.asarray(_pad_rows(np.asarray(w, np.float32), padded))
        self.a_lo = jnp.asarray(_pad_rows(np.asarray(a_lo, np.float32), padded, np.inf))
        self.a_hi = jnp.asarray(_pad_rows(np.asarray(a_hi, np.float32), padded, np.inf))

    def query_terms(self, rows, chunk):
        """(inputs, b_lo, b_hi, s) of a chunk of query rows, padded to ``chunk`` rows."""
        q_len = self.q_len[rows]
        slack = 16 * U * q_len**2 + 1e-30
        b_lo, b_hi, margin = -slack, slack, q_len
        if self.mode == "dense":
            inputs, s = _pad_rows(self.q[rows], chunk), np.stack([q_len, margin], 1)
            if self.engine == "xla":
                inputs = jnp.asarray(inputs)
        elif self.mode == "int8":
            codes, scales, rest = quantize(self.q[rows], q_len, self.layers)
            q_terms, _ = int8_terms(rest, q_len, self.layers)
            padded = np.zeros((self.layers, chunk, codes.shape[2]), np.int8)
            padded[:, : len(rows)] = codes
            inputs = (jnp.asarray(padded), jnp.asarray(_pad_rows(scales, chunk)))
            s = np.concatenate([q_terms, margin[:, None]], 1)
        else:
            a, rho_lo, rho_hi = _project(self.q[rows], self.basis, q_len)
            shift = np.einsum("ij,ij->i", a, a) - q_len**2  # |a_q|^2 - |q|^2
            slack = self.mu * q_len**2 + 1e-30
            b_lo, b_hi = shift + rho_lo**2 - slack, shift + rho_hi**2 + slack
            inputs = jnp.asarray(_pad_rows(a.astype(np.float32), chunk))
            s = np.stack([rho_hi, margin], 1)
        pad = lambda v: jnp.asarray(_pad_rows(np.asarray(v, np.float32), chunk))  # noqa: E731
        return inputs, pad(b_lo), pad(b_hi), pad(s)

    def block(self, q_in, start):
        stop = start + self.size
        if self.mode == "int8":
            q8, q_scale = q_in
            return _int8_block(
                q8,
                q_scale,
                self.c_in[:, start:stop],
                self.c_scale[start:stop],
                self.c_sq[start:stop],
                self.layers,
            )
        if self.mode == "projection":
            return _project_block(q_in, self.c_in[start:stop], self.c_sq[start:stop])
        if self.engine == "numpy":
            return jnp.asarray(
                self.c_sq_np[None, start:stop] - 2.0 * (q_in @ self.c_in[start:stop].T)
            )
        return _xla_block(q_in, self.c_in[start:stop], self.c_sq[start:stop])


def _pad_rows(x: np.ndarray, rows: int, fill=0.0) -> np.ndarray:
    """``x`` with rows of ``fill`` appended up to ``rows``."""
    if len(x) == rows:
        return x
    out = np.full((rows, *x.shape[1:]), fill, x.dtype)
    out[: len(x)] = x
    return out


def _project(x, basis, x_len):
    """(a = P x in float64, lower and upper bounds on the residual norm |x - P^T a|)."""
    a = np.empty((len(x), basis.shape[0]))
    for s in range(0, len(x), PAIR_BATCH):
        a[s : s + PAIR_BATCH] = _f64_rows(x[s : s + PAIR_BATCH]) @ basis.T
    rho2 = x_len**2 - np.einsum("ij,ij->i", a, a)
    slack = 1e-9 * x_len**2  # float64 rounding of the product and the norms, generously
    return a, np.sqrt(np.maximum(rho2 - slack, 0)), np.sqrt(np.maximum(rho2 + slack, 0))


def principal_basis(candidates, queries, size: int, seed: int = 0) -> np.ndarray:
    """Up to ``size`` orthonormal rows (float64) spanning the top principal directions
    (uncentred: the mean direction too) of a sample of candidates and queries; fewer
    when the sample spans fewer."""
    rng = np.random.default_rng(seed)
    take_c = min(len(candidates), BASIS_SAMPLE * 3 // 4)
    take_q = min(len(queries), BASIS_SAMPLE - take_c)
    sample = np.concatenate(
        [
            _f64_rows(candidates, np.sort(rng.choice(len(candidates), take_c, replace=False))),
            _f64_rows(queries, np.sort(rng.choice(len(queries), take_q, replace=False))),
        ]
    )
    values, vectors = np.linalg.eigh(sample @ sample.T)
    keep = np.argsort(values)[::-1][:size]
    keep = keep[values[keep] > max(values.max(), 0) * 1e-10] if values.max() > 0 else keep[:0]
    if len(keep) == 0:
        return np.zeros((0, candidates.shape[1]))
    basis, _ = np.linalg.qr((vectors[:, keep].T @ sample).T)
    return np.ascontiguousarray(basis.T)


def _classify_chunk(source, rows, chunk, t_lo, t_hi, limit):
    """Counts of surely-closer candidates and the (query row, candidate) pairs left
    unsettled or possibly nearest, with their codes, for one chunk of query rows (row
    positions within the chunk)."""
    q_in, b_lo, b_hi, s = source.query_terms(rows, chunk)
    t_lo = jnp.asarray(_pad_rows(t_lo, chunk))
    t_hi = jnp.asarray(_pad_rows(t_hi, chunk))
    count = np.zeros(len(rows), np.int64)
    run_min = np.full(chunk, np.inf, np.float32)
    qi, cj, codes = [], [], []
    for start in range(0, source.m, source.size):
        stop = start + source.size
        c, run_min, code = _classify(
            source.block(q_in, start),
            source.a_lo[start:stop],
            source.a_hi[start:stop],
            b_lo,
            b_hi,
            s,
            source.w[start:stop],
            t_lo,
            t_hi,
            run_min,
            np.int32(start),
            np.int32(limit),
        )
        count += np.asarray(c)[: len(rows)]
        code = np.asarray(code)[: len(rows)]
        i, j = np.nonzero(code)
        qi.append(i)
        cj.append(j + start)
        codes.append(code[i, j])
    return count, np.concatenate(qi), np.concatenate(cj), np.concatenate(codes)


def _settle(queries, candidates, q_rows, c_rows, t, c_norms, q_len, c_len):
    """Scores of pairs exact enough to compare: the float32 piece sums with their error
    bounds, float64 (:func:`exact_scores`) where the bound straddles ``t`` (one value per
    pair, compared with that pair's query's true score). Returns (lower, upper, exact
    mask): lower == upper where the float64 score is used."""
    est, err = _piece_scores(queries, candidates, q_rows, c_rows, c_norms, q_len, c_len)
    lo, hi = est - err, est + err
    redo = (lo <= t) & (hi >= t)
    if redo.any():
        value = exact_scores(queries, candidates, q_rows[redo], c_rows[redo], c_norms)
        lo[redo] = hi[redo] = value
    return lo, hi


INT8_SPEED = 6.0
"""Int8 products (exact, int32 sums) per float32 product of the same shape, at the least
(XLA:CPU measured 8-9x with AMX/VNNI here; the model assumes less)."""


def choose_source(queries, candidates, q_len, c_len, t, c_norms):
    """(mode, layers) the cost model prefers: for each kind of bound, the share of a
    sample's pairs it leaves unsettled (estimated in numpy on a sample of queries and
    candidates), priced at the measured cost of settling a pair on its own, plus the
    kind's products (see the module)."""
    n, dim = queries.shape
    m = len(candidates)
    if n * m < 1 << 22 or dim < 16:
        return "dense", 0
    rng = np.random.default_rng(1)
    sq = np.sort(rng.choice(n, min(n, SAMPLE_QUERIES), replace=False))
    sc = np.sort(rng.choice(m, min(m, SAMPLE_CANDIDATES), replace=False))
    q, c = queries[sq], candidates[sc]
    qn, cn, tq = q_len[sq], c_len[sc], t[sq][:, None]
    pair = _pair_cost(queries, candidates, c_len, q_len) * dim
    e = (cn**2)[None, :] - 2.0 * (q @ c.T)
    half = 2 * _gamma(dim) * qn[:, None] * cn[None, :]
    costs = {("dense", 0): 2.0 * dim + pair * float(np.mean(np.abs(e - tq) <= half))}
    for layers, products in ((1, 1), (2, 3)):  # three layers: one compile took minutes
        q8, q_scale, q_rest = _quantize_estimate(q, layers)
        c8, c_scale, c_rest = _quantize_estimate(c, layers)
        dot = 0.0
        for a in range(layers):
            for b in range(layers - a):
                i = q8[a] @ c8[b].T
                dot = dot + q_scale[:, a, None] * c_scale[None, :, b] * i
        e = (cn**2)[None, :] - 2.0 * dot
        qt, _ = int8_terms(q_rest, qn, layers)
        _, ct = int8_terms(c_rest, cn, layers)
        half = 2.0 * qt @ ct.T
        share = float(np.mean(np.abs(e - tq) <= half))
        costs["int8", layers] = 2.0 * dim * products / INT8_SPEED + 40.0 + pair * share
    return min(costs, key=costs.get)


def _quantize_estimate(x, layers):
    """:func:`quantize`'s steps in numpy float32, without its rounding allowances."""
    r = np.asarray(x, np.float32)
    codes, scales, rests = [], [], []
    for _ in range(layers):
        peak = np.abs(r).max(axis=1)
        scale = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)
        code = np.clip(np.rint(r / scale[:, None]), -127, 127)
        r = r - code * scale[:, None]
        codes.append(code)
        scales.append(scale)
        rests.append(np.sqrt(np.einsum("ij,ij->i", r, r)))
    return codes, np.stack(scales, 1), np.stack(rests, 1).astype(np.float64)


def _outward(t, q_len, c_len, c_norm):
    """The true scores rounded outward to float32, with room for float64's rounding."""
    room = 1e-10 * (q_len * c_len + c_norm) + 1e-30
    t_lo = np.nextafter((t - room).astype(np.float32), np.float32(-np.inf))
    t_hi = np.nextafter((t + room).astype(np.float32), np.float32(np.inf))
    return t_lo, t_hi


_PAIR_COST: dict[int, float] = {}


def _pair_cost(queries, candidates, c_len, q_len) -> float:
    """Seconds to settle a pair on its own (:func:`_piece_scores`) per second of one
    float32 product flop, per dimension: measured once per dimension and process."""
    dim = queries.shape[1]
    if dim not in _PAIR_COST:
        rng = np.random.default_rng(2)
        qi = rng.integers(0, len(queries), 512)
        cj = rng.integers(0, len(candidates), 512)
        norms = c_len**2
        _piece_scores(queries, candidates, qi[:8], cj[:8], norms, q_len, c_len)
        t0 = time.perf_counter()
        _piece_scores(queries, candidates, qi, cj, norms, q_len, c_len)
        per_pair = (time.perf_counter() - t0) / len(qi)
        a = rng.random((256, dim), np.float32)
        b = rng.random((1024, dim), np.float32)
        a @ b.T
        t0 = time.perf_counter()
        a @ b.T
        per_flop = (time.perf_counter() - t0) / (2.0 * 256 * 1024 * dim)
        _PAIR_COST[dim] = per_pair / per_flop / dim
    return _PAIR_COST[dim]


def bounded_rank_best(
    predicted: np.ndarray,
    candidates: np.ndarray,
    true_idx: np.ndarray,
    limit: int | None = None,
    mode: str | None = None,
    layers: int = 2,
    basis: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ranks, nearest, nearest_score): per query, how many candidates are strictly
    closer than its true one (``true_idx``), its nearest candidate among the first
    ``limit`` (default all; the smallest index among equals; -1 for none) and that one's
    float64 score |c|^2 - 2 q.c (comparable across calls for one query; +inf for none).

    ``mode``: force the bounds ("dense", "int8" with ``layers``, "projection" onto the
    rows of ``basis``, :func:`principal_basis`); default: the cost model's choice (see
    the module). Every mode gives the same answers."""
    q = np.ascontiguousarray(predicted, np.float32)
    c = np.ascontiguousarray(candidates, np.float32)
    true_idx = np.asarray(true_idx, np.int64)
    n, m = len(q), len(c)
    limit = m if limit is None else int(limit)
    ranks = np.zeros(n, np.int64)
    nearest = np.full(n, -1, np.int64)
    nearest_d = np.full(n, np.inf)
    if n == 0:
        return ranks, nearest, nearest_d
    if mode == "projection":  # its residuals need the norms themselves
        c_norms = norms64(c)
        c_len, q_len = np.sqrt(c_norms), np.sqrt(norms64(q))
    else:  # the bounds need upper bounds only; the settling, float64 norms of a few
        c_norms, c_len, q_len = _Norms(c), upper_lengths(c), upper_lengths(q)
    t = exact_scores(q, c, np.arange(n), true_idx, c_norms)
    if mode is None:
        mode, layers = choose_source(q, c, q_len, c_len, t, c_norms)
    source = _Source(q, c, q_len, c_len, mode, layers, basis)
    t_lo, t_hi = _outward(t, q_len, c_len[true_idx], c_norms[true_idx])
    chunk = min(QUERY_CHUNK, _bucket(n))
    for start in range(0, n, chunk):
        rows = np.arange(start, min(n, start + chunk))
        count, qi, cj, code = _classify_chunk(source, rows, chunk, t_lo[rows], t_hi[rows], limit)
        qi = qi + start
        lo, hi = _settle(q, c, qi, cj, t[qi], c_norms, q_len, c_len)
        unsettled = (code & 1) > 0
        closer = hi[unsettled] < t[qi[unsettled]]
        count += np.bincount(qi[unsettled] - start, closer, len(rows)).astype(np.int64)
        ranks[rows] = count
        _nearest(qi, cj, code, lo, hi, q, c, c_norms, nearest, nearest_d, limit)
    return ranks, nearest, nearest_d


def _nearest(qi, cj, code, lo, hi, q, c, c_norms, nearest, nearest_d, limit):
    """Each query's nearest candidate among its possibly-nearest pairs (code bit 2):
    those whose settled interval could hold the minimum, scored in float64."""
    near = ((code & 2) > 0) & (cj < limit)
    qi, cj, lo, hi = qi[near], cj[near], lo[near], hi[near]
    if len(qi) == 0:
        return
    n = len(nearest)
    top = np.full(n, np.inf)
    np.minimum.at(top, qi, hi)
    keep = lo <= top[qi]
    qi, cj, lo, hi = qi[keep], cj[keep], lo[keep], hi[keep]
    value = np.where(lo == hi, lo, np.nan)
    redo = np.isnan(value)
    if redo.any():
        value[redo] = exact_scores(q, c, qi[redo], cj[redo], c_norms)
    order = np.lexsort((cj, value, qi))  # per query: the least score, then the least index
    first = order[np.r_[True, qi[order][1:] != qi[order][:-1]]]
    nearest[qi[first]] = cj[first]
    nearest_d[qi[first]] = value[first]


def closer_pairs(predicted, candidates, true_idx, q_rows, c_rows) -> np.ndarray:
    """For pairs (query q_rows[i], candidate c_rows[i]): whether the candidate is strictly
    closer to the query than the query's true candidate, exactly as
    :func:`bounded_rank_best` decides it."""
    q = np.ascontiguousarray(predicted, np.float32)
    c = np.ascontiguousarray(candidates, np.float32)
    q_rows, c_rows = np.asarray(q_rows, np.int64), np.asarray(c_rows, np.int64)
    true_idx = np.asarray(true_idx, np.int64)
    if len(q_rows) == 0:
        return np.zeros(0, bool)
    c_norms, c_len, q_len = _Norms(c), upper_lengths(c), upper_lengths(q)
    t = exact_scores(q, c, q_rows, true_idx[q_rows], c_norms)
    _, hi = _settle(q, c, q_rows, c_rows, t, c_norms, q_len, c_len)
    return hi < t
