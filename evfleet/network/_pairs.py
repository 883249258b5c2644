"""Compiled one-pair queries on the CSR arrays: bidirectional Dijkstra, ALT landmarks.

:func:`route_pair` answers one origin/destination query in a single call (search, path
and its totals); plain costs run :func:`_bidirectional`, A* and battery-bounded energy
the shared :func:`evfleet.network._kernels._search` loop, whose A* bound can use the
landmark distances of :func:`landmark_distances`. Conventions as in
:mod:`evfleet.network._kernels`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from evfleet.network._kernels import (
    _INF,
    F64,
    I64,
    B,
    _hops,
    _pop,
    _push,
    _search,
    _walk,
    shortest_tree,
    walk_path,
)

Work = tuple[F64, F64, I64, I64, I64, I64, F64, I64, F64, I64, B]
"""Per-thread work arrays of the one-pair searches (:func:`pair_work`)."""


@njit(cache=True, nogil=True, inline="always")
def _settle_one(
    indptr: I64,
    heads: I64,
    slot_edge: I64,
    slot_cost: F64,
    dist: F64,
    other: F64,
    link: I64,
    keys: F64,
    vals: I64,
    size: int,
    best: float,
    meet: int,
    touched: I64,
    n_touched: int,
) -> tuple[int, float, int, int]:
    """One side of :func:`_bidirectional`: settle its heap top, relax its edges, and
    update the best meeting (``other``: the opposite side's distances). Newly labelled
    nodes are listed in ``touched`` (``n_touched`` so far) for the caller's reset.
    """
    top = keys[0]
    u, size = _pop(keys, vals, size)
    if top > dist[u]:
        return size, best, meet, n_touched
    for s in range(indptr[u], indptr[u + 1]):
        v = heads[s]
        nd = top + slot_cost[s]
        if nd < dist[v]:
            if dist[v] == _INF:
                touched[n_touched] = v
                n_touched += 1
            dist[v] = nd
            link[v] = slot_edge[s]
            size = _push(keys, vals, size, nd, v)
            if nd + other[v] < best:
                best = nd + other[v]
                meet = v
    return size, best, meet, n_touched


@njit(cache=True, nogil=True)
def _bidirectional(
    indptr: I64,
    heads: I64,
    slot_edge: I64,
    slot_cost: F64,
    rev_indptr: I64,
    rev_tails: I64,
    rev_slot_edge: I64,
    rev_slot_cost: F64,
    src: int,
    dst: int,
    work: Work,
) -> tuple[int, int, int]:
    """Bidirectional Dijkstra (non-negative costs): ``(meeting node or -1, touched
    forward, touched backward)``.

    The forward search from ``src`` and the backward one from ``dst`` (on the reversed
    CSR) alternate by the smaller heap (balanced work: about 15 % fewer settled nodes
    than alternating by the smaller top on the bench networks); ``best`` is the least
    ``fwd[v] + bwd[v]`` seen, and the search stops once the two tops sum to at least
    ``best`` (lazy heap entries only overstate, so each top is a lower bound of its
    side). ``work`` is :func:`pair_work` (clean: ``fwd``, ``bwd`` all ``inf``); fills
    ``pred`` (edge into ``v`` on the ``src`` side) and ``succ`` (edge out of ``v``
    towards ``dst``) and lists the labelled nodes of each side in its touched array,
    for :func:`_reset` once the path is read.
    """
    fwd, bwd, pred, succ, touched_f, touched_b, fk, fv, bk, bv, _ = work
    fwd[src] = 0.0
    bwd[dst] = 0.0
    touched_f[0] = src
    touched_b[0] = dst
    tf = 1
    tb = 1
    nf = _push(fk, fv, 0, 0.0, src)
    nb = _push(bk, bv, 0, 0.0, dst)
    best = 0.0 if src == dst else _INF
    meet = src if src == dst else -1
    while nf > 0 or nb > 0:
        top_f = fk[0] if nf > 0 else _INF
        top_b = bk[0] if nb > 0 else _INF
        if top_f + top_b >= best:
            break
        if nb == 0 or (nf > 0 and nf <= nb):
            nf, best, meet, tf = _settle_one(
                indptr, heads, slot_edge, slot_cost, fwd, bwd, pred, fk, fv, nf, best, meet,
                touched_f, tf,
            )  # fmt: skip
        else:
            nb, best, meet, tb = _settle_one(
                rev_indptr, rev_tails, rev_slot_edge, rev_slot_cost, bwd, fwd, succ, bk, bv,
                nb, best, meet, touched_b, tb,
            )  # fmt: skip
    return meet, tf, tb


@njit(cache=True, nogil=True)
def pair_work(n: int, m: int) -> Work:
    """Clean work arrays for ``n`` nodes and ``m`` edges (distances, links and touched
    lists per side, the two heaps, and settled flags for the one-way search; reusable:
    each query resets what it labelled)."""
    return (
        np.full(n, _INF),
        np.full(n, _INF),
        np.full(n, -1, dtype=np.int64),
        np.full(n, -1, dtype=np.int64),
        np.empty(n, dtype=np.int64),
        np.empty(n, dtype=np.int64),
        np.empty(m + 1),
        np.empty(m + 1, dtype=np.int64),
        np.empty(m + 1),
        np.empty(m + 1, dtype=np.int64),
        np.zeros(n, dtype=np.bool_),
    )


@njit(cache=True, nogil=True)
def _reset(work: Work, tf: int, tb: int) -> None:
    """Return the labelled entries of :func:`pair_work` arrays to their clean state
    (``tf``/``tb``: the lengths of the forward/backward touched lists)."""
    fwd, bwd, pred, succ, touched_f, touched_b = work[:6]
    settled = work[10]
    for i in range(tf):
        fwd[touched_f[i]] = _INF
        pred[touched_f[i]] = -1
        settled[touched_f[i]] = False
    for i in range(tb):
        bwd[touched_b[i]] = _INF
        succ[touched_b[i]] = -1


@njit(cache=True, nogil=True)
def path_totals(
    edges: I64, time_s: F64, energy: F64, length_m: F64, b0: float, b_max: float
) -> F64:
    """``[time_s, length_m, energy used, battery at the end, lowest battery]`` of a path.

    The battery follows ``b = min(b_max, b - energy)`` from ``b0``: a full battery wastes
    regeneration, so the energy used is the edges' sum plus the wasted part (exactly
    the sum with ``b_max = inf``).
    """
    t = 0.0
    le = 0.0
    used = 0.0
    wasted = 0.0
    b = b0
    low = b0
    for e in edges:
        t += time_s[e]
        le += length_m[e]
        used += energy[e]
        b -= energy[e]
        if b > b_max:
            wasted += b - b_max
            b = b_max
        low = min(low, b)
    return np.array([t, le, used + wasted, b, low])


@njit(cache=True, nogil=True)
def route_pair(
    indptr: I64,
    heads: I64,
    slot_edge: I64,
    slot_cost: F64,
    rev: tuple[I64, I64, I64, F64],
    edge_ends: tuple[I64, I64],
    phi: F64,
    xs: F64,
    ys: F64,
    hk: float,
    landmarks: tuple[F64, F64],
    src: int,
    dst: int,
    battery: tuple[float, float, float],
    clamp: bool,
    edge_data: tuple[F64, F64, F64],
    work: Work,
) -> tuple[bool, I64, F64]:
    """One least-cost query: ``(found, edge indices src -> dst, path_totals)``.

    Plain costs (``phi`` empty, no A* bound ``hk`` or ``landmarks`` (``lm_to``,
    ``lm_from`` of :func:`landmark_distances`), no ``clamp``) run the bidirectional
    Dijkstra on the CSR and its reverse ``rev`` (in-edge indptr, tail rows, edge
    indices, costs per reverse slot); otherwise :func:`_search` with the potential and,
    with ``clamp``, the battery bounds ``battery = (b0, b_min, b_max)`` (costs are then
    energies). ``edge_ends`` are the tail and head rows per edge; ``edge_data`` the
    per-edge time, energy and length that :func:`path_totals` sums along the path (with
    the battery bounds). ``work`` (:func:`pair_work`, left clean) must not be shared
    by concurrent calls.
    """
    tails, edge_heads = edge_ends
    b0, b_min, b_max = battery
    start = min(b0, b_max)
    floor, ceil = (start - b_max, start - b_min) if clamp else (-_INF, _INF)
    lm_to, lm_from = landmarks
    if len(phi) == 0 and hk == 0.0 and lm_to.shape[1] == 0 and not clamp:
        pred, succ = work[2], work[3]
        meet, tf, tb = _bidirectional(
            indptr, heads, slot_edge, slot_cost, rev[0], rev[1], rev[2], rev[3], src, dst,
            work,
        )  # fmt: skip
        if meet < 0:
            _reset(work, tf, tb)
            return False, np.empty(0, dtype=np.int64), np.empty(0)
        k_back = 0
        v = meet
        while v != dst:
            k_back += 1
            v = edge_heads[succ[v]]
        k_fwd = _hops(pred, tails, src, meet)
        edges = np.empty(k_fwd + k_back, dtype=np.int64)
        _walk(pred, tails, src, meet, edges, 0)
        v = meet
        for i in range(k_fwd, k_fwd + k_back):
            edges[i] = succ[v]
            v = edge_heads[succ[v]]
        _reset(work, tf, tb)
    else:
        dist, pred = work[0], work[2]
        touched = _search(
            indptr, heads, slot_edge, slot_cost, phi, xs, ys, hk, lm_to, lm_from, src, dst,
            floor, ceil, dist, pred, work[10], work[4], work[6], work[7],
        )  # fmt: skip
        if dist[dst] == _INF:
            _reset(work, touched, 0)
            return False, np.empty(0, dtype=np.int64), np.empty(0)
        edges = walk_path(pred, tails, src, dst)
        _reset(work, touched, 0)
    time_s, energy, length_m = edge_data
    return True, edges, path_totals(edges, time_s, energy, length_m, start, b_max)


@njit(cache=True, nogil=True)
def landmark_distances(
    csr: tuple[I64, I64, I64, F64], rev: tuple[I64, I64, I64, F64], k: int
) -> tuple[F64, F64]:
    """Least costs to and from ``k`` landmarks, ``(lm_to, lm_from)`` of shape ``(n, k)``.

    Landmarks are chosen farthest-first (deterministic): the first is the node farthest
    from row 0, each next one the node farthest from its nearest chosen landmark (by
    cost from the landmarks; nodes a landmark cannot reach are not chosen). One forward
    Dijkstra on ``csr`` and one backward on ``rev`` per landmark.
    """
    n = len(csr[0]) - 1
    k = min(k, n)
    lm_to = np.empty((n, k))
    lm_from = np.empty((n, k))
    no_targets = np.empty(0, dtype=np.int64)
    nearest = shortest_tree(csr[0], csr[1], csr[2], csr[3], 0, no_targets)[0]
    for j in range(k):
        best = -1
        far = -1.0
        for v in range(n):
            if nearest[v] < _INF and nearest[v] > far:
                far = nearest[v]
                best = v
        if best < 0:
            best = j
        d_from = shortest_tree(csr[0], csr[1], csr[2], csr[3], best, no_targets)[0]
        d_to = shortest_tree(rev[0], rev[1], rev[2], rev[3], best, no_targets)[0]
        for v in range(n):
            lm_from[v, j] = d_from[v]
            lm_to[v, j] = d_to[v]
            nearest[v] = d_from[v] if j == 0 else min(nearest[v], d_from[v])
    return lm_to, lm_from
