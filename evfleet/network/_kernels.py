"""Compiled shortest-path kernels (numba) on CSR arrays.

Conventions: nodes are rows ``0..n-1``; the CSR slots ``indptr[u]:indptr[u+1]`` list the
out-edges of ``u`` with their head rows in ``heads``, their edge indices in ``slot_edge``
and their costs in ``slot_cost`` (non-negative). ``hk`` scales the straight-line A* bound
(``hk * euclid(x, target)``, consistent by construction); ``hk = 0`` is plain Dijkstra.
The binary heap uses lazy deletion. Work arrays are reset through a touched list, so a
batch of queries costs only what each search visits.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
B = NDArray[np.bool_]

_INF = np.inf
ALT_SAFETY = 1.0 - 1e-9
"""Landmark bounds are scaled down by this factor (float sums are not exact)."""


@njit(cache=True, inline="always")
def _push(keys: F64, vals: I64, size: int, key: float, val: int) -> int:
    """Insert ``(key, val)``: parents move down into the hole (one write per level)."""
    i = size
    while i > 0:
        parent = (i - 1) >> 1
        if keys[parent] <= key:
            break
        keys[i] = keys[parent]
        vals[i] = vals[parent]
        i = parent
    keys[i] = key
    vals[i] = val
    return size + 1


@njit(cache=True, inline="always")
def _pop(keys: F64, vals: I64, size: int) -> tuple[int, int]:
    """Remove the least entry; the last one sinks from the root through the hole."""
    val = vals[0]
    size -= 1
    key = keys[size]
    last = vals[size]
    i = 0
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        if child + 1 < size and keys[child + 1] < keys[child]:
            child += 1
        if key <= keys[child]:
            break
        keys[i] = keys[child]
        vals[i] = vals[child]
        i = child
    keys[i] = key
    vals[i] = last
    return val, size


@njit(cache=True, nogil=True, inline="always")
def _landmark_bound(lm_to: F64, lm_from: F64, v: int, t: int) -> float:
    """ALT lower bound of the cost ``v -> t`` from landmark distances (triangle inequality).

    ``lm_to[x, k]`` is the least cost ``x -> landmark k``, ``lm_from[x, k]`` the least
    cost ``landmark k -> x``; ``d(v, t) >= d(v, L) - d(t, L)`` and ``>= d(L, t) - d(L, v)``.
    Terms with an unknown side (``inf - inf``) are skipped; ``inf`` means ``t`` is
    unreachable from ``v``. Scaled by ``ALT_SAFETY`` so rounding keeps it consistent.
    """
    h = 0.0
    for k in range(lm_to.shape[1]):
        a = lm_to[v, k] - lm_to[t, k]
        b = lm_from[t, k] - lm_from[v, k]
        if a > h and lm_to[t, k] < _INF:
            h = a
        if b > h and lm_from[v, k] < _INF:
            h = b
    return h * ALT_SAFETY


@njit(cache=True, nogil=True)
def _search(
    indptr: I64,
    heads: I64,
    slot_edge: I64,
    slot_cost: F64,
    phi: F64,
    xs: F64,
    ys: F64,
    hk: float,
    lm_to: F64,
    lm_from: F64,
    src: int,
    dst: int,
    floor: float,
    ceil: float,
    dist: F64,
    pred: I64,
    settled: B,
    touched: I64,
    heap_k: F64,
    heap_v: I64,
) -> int:
    """A* / Dijkstra from ``src``; stops when ``dst`` is settled (``dst < 0``: never).

    ``dist[v]`` is the cost so far, clamped: ``max(floor, dist[u] + cost)``, and a node
    is reached only while it stays ``<= ceil``. Plain costs use ``floor = -inf, ceil =
    inf``; battery consumption uses ``floor = b0 - b_max`` (a full battery wastes regen)
    and ``ceil = b0 - b_min`` (the reserve). The clamp is monotone, so the least cost
    per node dominates. Costs may be negative when ``phi`` (a node potential, empty for
    none) makes ``cost - phi[v] + phi[u]`` non-negative: the heap key is the reduced
    cost so far plus the larger of ``hk * euclid`` to the target and the landmark bound
    of :func:`_landmark_bound` (``lm_*`` with no columns: none). Returns the number of
    touched nodes, listed in ``touched`` for the caller to reset (an empty ``touched``:
    fresh work arrays, nothing listed).
    """
    track = len(touched) > 0
    n_touched = 1
    if track:
        touched[0] = src
    dist[src] = max(floor, 0.0)
    tx = xs[dst] if dst >= 0 else 0.0
    ty = ys[dst] if dst >= 0 else 0.0
    has_phi = len(phi) > 0
    n_lm = lm_to.shape[1] if dst >= 0 else 0
    phi_src = phi[src] if has_phi else 0.0
    size = _push(heap_k, heap_v, 0, 0.0, src)
    while size > 0:
        u, size = _pop(heap_k, heap_v, size)
        if settled[u]:
            continue
        settled[u] = True
        if u == dst:
            break
        du = dist[u]
        for s in range(indptr[u], indptr[u + 1]):
            v = heads[s]
            if settled[v]:
                continue
            nd = max(floor, du + slot_cost[s])
            if nd > ceil or nd >= dist[v]:
                continue
            if track and dist[v] == _INF:
                touched[n_touched] = v
                n_touched += 1
            dist[v] = nd
            pred[v] = slot_edge[s]
            key = nd
            if has_phi:
                key += phi_src - phi[v]
            h = 0.0
            if hk > 0.0:
                h = hk * np.sqrt((xs[v] - tx) ** 2 + (ys[v] - ty) ** 2)
            if n_lm > 0:
                h = max(h, _landmark_bound(lm_to, lm_from, v, dst))
            size = _push(heap_k, heap_v, size, key + h, v)
    return n_touched


@njit(cache=True, nogil=True)
def _reset(dist: F64, pred: I64, settled: B, touched: I64, n_touched: int) -> None:
    for i in range(n_touched):
        t = touched[i]
        dist[t] = _INF
        pred[t] = -1
        settled[t] = False


@njit(cache=True, nogil=True)
def _hops(pred: I64, tails: I64, src: int, dst: int) -> int:
    """Number of edges on the tree path src->dst (-1: dst not reached)."""
    n = 0
    v = dst
    while v != src:
        e = pred[v]
        if e < 0:
            return -1
        n += 1
        v = tails[e]
    return n


@njit(cache=True, nogil=True)
def _walk(pred: I64, tails: I64, src: int, dst: int, out: I64, start: int) -> int:
    """Write the edge indices src->dst into ``out[start:]``; return the count (-1: none)."""
    n = _hops(pred, tails, src, dst)
    v = dst
    for i in range(n - 1, -1, -1):
        e = pred[v]
        out[start + i] = e
        v = tails[e]
    return n


@njit(cache=True, nogil=True)
def route_batch(
    indptr: I64,
    heads: I64,
    slot_edge: I64,
    slot_cost: F64,
    tails: I64,
    xs: F64,
    ys: F64,
    hk: float,
    srcs: I64,
    dsts: I64,
    edge_cost: F64,
    length_m: F64,
    time_s: F64,
) -> tuple[B, F64, F64, F64, I64, I64]:
    """Fastest paths for many (src, dst) row pairs.

    Returns ``(found, cost, length_m, time_s, offsets, edges)``: path ``i`` is
    ``edges[offsets[i]:offsets[i + 1]]`` (edge indices in driving order).
    """
    n = len(indptr) - 1
    m = len(srcs)
    dist = np.full(n, _INF)
    pred = np.full(n, -1, dtype=np.int64)
    settled = np.zeros(n, dtype=np.bool_)
    touched = np.empty(n, dtype=np.int64)
    heap_k = np.empty(len(heads) + 1)
    heap_v = np.empty(len(heads) + 1, dtype=np.int64)
    no_phi = np.empty(0)
    no_lm = np.empty((0, 0))
    found = np.zeros(m, dtype=np.bool_)
    cost = np.full(m, np.nan)
    length = np.full(m, np.nan)
    time = np.full(m, np.nan)
    offsets = np.zeros(m + 1, dtype=np.int64)
    out = np.empty(max(16, 64 * m), dtype=np.int64)
    total = 0
    for i in range(m):
        src, dst = srcs[i], dsts[i]
        n_touched = _search(
            indptr,
            heads,
            slot_edge,
            slot_cost,
            no_phi,
            xs,
            ys,
            hk,
            no_lm,
            no_lm,
            src,
            dst,
            -_INF,
            _INF,
            dist,
            pred,
            settled,
            touched,
            heap_k,
            heap_v,
        )
        if settled[dst]:
            need = total + n
            if need > len(out):
                bigger = np.empty(max(need, 2 * len(out)), dtype=np.int64)
                bigger[:total] = out[:total]
                out = bigger
            k = _walk(pred, tails, src, dst, out, total)
            c = 0.0
            le = 0.0
            ti = 0.0
            for j in range(total, total + k):
                e = out[j]
                c += edge_cost[e]
                le += length_m[e]
                ti += time_s[e]
            found[i] = True
            cost[i] = c
            length[i] = le
            time[i] = ti
            total += k
        offsets[i + 1] = total
        _reset(dist, pred, settled, touched, n_touched)
    return found, cost, length, time, offsets, out[:total].copy()


@njit(cache=True, nogil=True)
def shortest_tree(
    indptr: I64, heads: I64, slot_edge: I64, slot_cost: F64, src: int, targets: I64
) -> tuple[F64, I64]:
    """Dijkstra from ``src`` until every target row is settled (all nodes if none given).

    Returns ``(dist, pred)`` over all nodes (``inf`` / ``-1`` where not reached).
    """
    n = len(indptr) - 1
    dist = np.full(n, _INF)
    pred = np.full(n, -1, dtype=np.int64)
    settled = np.zeros(n, dtype=np.bool_)
    is_target = np.zeros(n, dtype=np.bool_)
    remaining = 0
    for t in targets:
        if not is_target[t]:
            is_target[t] = True
            remaining += 1
    heap_k = np.empty(len(heads) + 1)
    heap_v = np.empty(len(heads) + 1, dtype=np.int64)
    dist[src] = 0.0
    size = _push(heap_k, heap_v, 0, 0.0, src)
    while size > 0:
        u, size = _pop(heap_k, heap_v, size)
        if settled[u]:
            continue
        settled[u] = True
        if is_target[u]:
            remaining -= 1
            if remaining == 0:
                break
        du = dist[u]
        for s in range(indptr[u], indptr[u + 1]):
            v = heads[s]
            nd = du + slot_cost[s]
            if not settled[v] and nd < dist[v]:
                dist[v] = nd
                pred[v] = slot_edge[s]
                size = _push(heap_k, heap_v, size, nd, v)
    for v in range(n):
        if not settled[v]:
            dist[v] = _INF
    return dist, pred


@njit(cache=True, nogil=True)
def walk_path(pred: I64, tails: I64, src: int, dst: int) -> I64:
    """Edge indices of the tree path src->dst (empty array if dst was not reached)."""
    out = np.empty(max(_hops(pred, tails, src, dst), 0), dtype=np.int64)
    _walk(pred, tails, src, dst, out, 0)
    return out


@njit(cache=True)
def johnson_potential(indptr: I64, heads: I64, slot_cost: F64) -> tuple[F64, bool]:
    """Shortest distances from a virtual source joined to every node by 0-cost edges.

    Queue-based Bellman-Ford (costs may be negative). ``phi = dist`` makes every reduced
    cost ``cost + phi[u] - phi[v]`` non-negative (Johnson's reweighting). Returns
    ``(phi, ok)``; ``ok`` is False when a negative cycle exists (a node is relaxed ``n``
    times), so the search stops instead of looping.
    """
    n = len(indptr) - 1
    dist = np.zeros(n)
    count = np.zeros(n, dtype=np.int64)
    queued = np.ones(n, dtype=np.bool_)
    queue = np.arange(n).astype(np.int64)
    head, size = 0, n
    while size > 0:
        u = queue[head]
        head = (head + 1) % n
        size -= 1
        queued[u] = False
        du = dist[u]
        for s in range(indptr[u], indptr[u + 1]):
            v = heads[s]
            nd = du + slot_cost[s]
            if nd < dist[v] - 1e-12 * (1.0 + abs(nd)):
                dist[v] = nd
                count[v] += 1
                if count[v] >= n:
                    return dist, False
                if not queued[v]:
                    queued[v] = True
                    queue[(head + size) % n] = v
                    size += 1
    return dist, True


@njit(cache=True, nogil=True)
def battery_route(
    indptr: I64,
    heads: I64,
    slot_edge: I64,
    slot_energy: F64,
    phi: F64,
    xs: F64,
    ys: F64,
    hk: float,
    src: int,
    dst: int,
    b0: float,
    b_min: float,
    b_max: float,
) -> tuple[F64, I64]:
    """Energy-optimal search under battery bounds (one label per node: the most charge).

    The battery after an edge is ``min(b_max, b - energy)`` (a full battery wastes regen)
    and must stay ``>= b_min``. That transfer is monotone in ``b``, so the label with the
    most charge at a node dominates every other; :func:`_search` runs it as consumption
    ``min(b0, b_max) - b`` clamped to ``[b0 - b_max, b0 - b_min]``, keyed by the
    consumption reduced by ``phi`` (non-negative) plus ``hk * euclid`` (A*, consistent
    from the reduced energies). Returns ``(battery, pred)`` per node (``-inf`` / ``-1``
    where unreached; ``dst < 0`` searches the whole graph).
    """
    n = len(indptr) - 1
    dist = np.full(n, _INF)
    pred = np.full(n, -1, dtype=np.int64)
    settled = np.zeros(n, dtype=np.bool_)
    touched = np.empty(0, dtype=np.int64)
    heap_k = np.empty(len(heads) + 1)
    heap_v = np.empty(len(heads) + 1, dtype=np.int64)
    start = min(b0, b_max)
    _search(
        indptr, heads, slot_edge, slot_energy, phi, xs, ys, hk, np.empty((0, 0)),
        np.empty((0, 0)), src, dst, start - b_max, start - b_min, dist, pred, settled,
        touched, heap_k, heap_v,
    )  # fmt: skip
    return start - dist, pred


@njit(cache=True)
def reverse_need(
    rev_indptr: I64,
    rev_tails: I64,
    rev_slot_edge: I64,
    edge_cost: F64,
    edge_energy: F64,
    heads: I64,
    init: F64,
) -> tuple[F64, F64, F64]:
    """Energy needed to reach a source set along least-cost paths, for every node.

    Multi-source Dijkstra on the reversed graph (``rev_*``: in-edges of each node, their
    tail rows and edge indices) with non-negative ``edge_cost`` and initial distances
    ``init`` (``inf`` for non-sources). Along the resulting tree, returns the battery a
    node needs above the floor to follow its path to the sources: the deepest cumulative
    drawdown of ``edge_energy`` (``need[v] = max(0, e + need[next])``) and the path's net
    energy, and the least cost itself; ``inf`` where no source is reachable.
    """
    n = len(rev_indptr) - 1
    dist = init.copy()
    succ = np.full(n, -1, dtype=np.int64)
    settled = np.zeros(n, dtype=np.bool_)
    order = np.empty(n, dtype=np.int64)
    heap_k = np.empty(len(rev_tails) + n + 1)
    heap_v = np.empty(len(rev_tails) + n + 1, dtype=np.int64)
    size = 0
    for v in range(n):
        if dist[v] < _INF:
            size = _push(heap_k, heap_v, size, dist[v], v)
    n_order = 0
    while size > 0:
        v, size = _pop(heap_k, heap_v, size)
        if settled[v]:
            continue
        settled[v] = True
        order[n_order] = v
        n_order += 1
        dv = dist[v]
        for s in range(rev_indptr[v], rev_indptr[v + 1]):
            u = rev_tails[s]
            e = rev_slot_edge[s]
            nd = dv + edge_cost[e]
            if not settled[u] and nd < dist[u]:
                dist[u] = nd
                succ[u] = e
                size = _push(heap_k, heap_v, size, nd, u)
    need = np.full(n, _INF)
    net = np.full(n, _INF)
    for i in range(n_order):
        v = order[i]
        e = succ[v]
        if e < 0:
            need[v] = 0.0
            net[v] = 0.0
        else:
            need[v] = max(0.0, edge_energy[e] + need[heads[e]])
            net[v] = edge_energy[e] + net[heads[e]]
    return need, net, dist
