"""Compiled kernels of the customisable contraction hierarchy (CCH) of a road graph.

A contraction hierarchy ranks the nodes; contracting them from the lowest rank up adds
shortcut arcs between the higher-ranked neighbours of each contracted node, so that
every shortest path becomes an up-then-down path in the ranked graph and a
point-to-point query needs only two small upward Dijkstra searches. The *customisable*
variant (Dibbelt, Strasser & Wagner, "Customizable contraction hierarchies", JEA 2016)
splits the work in two:

* :func:`chordal_arcs` and :func:`triangles` (once per graph, any costs): the ranking
  comes from a nested dissection of the undirected graph and the arcs from its symbolic
  elimination (the chordal supergraph), so the hierarchy does not depend on the costs;
* :func:`customise` (once per cost array, O(triangles)): the costs of all arcs in both
  directions, each shortcut remembering the lower triangle that realises it;
* :func:`query` (per pair): the elimination-tree query, which relaxes the upward arcs
  of the origin's and the destination's ancestors in rank order (no heap), exact for
  non-negative costs; :func:`unpack` expands the shortcuts back into edge indices.

Nodes here are *ranks* (``0`` is contracted first). The upward CSR ``up_indptr`` /
``up_head`` lists, per rank, the higher ranks it is joined to in ascending order; arc
``a`` joins ``lo`` (its tail in the CSR) and ``up_head[a]``; ``w_up[a]`` is the cost
``lo -> hi`` and ``w_down[a]`` the cost ``hi -> lo`` (``inf`` where no path of that
direction is known).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Final

import numpy as np
import pymetis
from numba import njit
from numba.typed import List
from numpy.typing import NDArray

from evfleet.network._kernels import _INF, F64, I64
from evfleet.network._pairs import Work, _reset, path_totals

I32 = NDArray[np.int32]

METIS_SEED: Final = 1
"""Seed of the nested dissection (the ranking, hence every answer, is reproducible)."""


@dataclass(frozen=True)
class Hierarchy:
    """The cost-independent part of a CCH: ranks, upward arcs, triangles, edge -> arc.

    ``rank[row]`` is a node row's rank; ``arc_tail[a]`` the lower end of arc ``a``;
    ``tri`` the lower triangles of :func:`triangles`; ``edge_arc`` as
    :func:`edge_arcs`.
    """

    rank: I64
    up_indptr: I64
    up_head: I64
    arc_tail: I64
    tri: tuple[I32, I32, I32]
    edge_arc: I64

    @property
    def n_arcs(self) -> int:
        return len(self.up_head)

    @functools.cached_property
    def arrays(self) -> tuple[I64, I64, I64, I64, tuple[I32, I32, I32]]:
        """The ``hierarchy`` argument of :func:`route_pair` (one tuple, kept)."""
        return self.rank, self.up_indptr, self.up_head, self.arc_tail, self.tri

    def customise(self, cost: F64) -> tuple[F64, F64, I64, I64]:
        """Arc costs and shortcut triangles of per-edge ``cost`` (:func:`customise`)."""
        return customise(self.n_arcs, self.edge_arc, cost, self.tri)

    @classmethod
    def build(cls, n: int, edge_u: I64, edge_v: I64) -> Hierarchy:
        """The hierarchy of ``n`` nodes and directed edges ``edge_u -> edge_v`` (rows).

        Ranks from METIS nested dissection (``pymetis``, seeded) of the undirected
        simple graph: separators are contracted last, which keeps the shortcuts few.
        """
        loop = edge_u == edge_v
        lo = np.minimum(edge_u[~loop], edge_v[~loop])
        hi = np.maximum(edge_u[~loop], edge_v[~loop])
        key = np.unique(lo * max(n, 1) + hi)
        a, b = key // max(n, 1), key % max(n, 1)
        if len(key) == 0:
            rank = np.arange(n, dtype=np.int64)
        else:
            tails = np.concatenate([a, b])
            heads = np.concatenate([b, a])[np.argsort(tails, kind="stable")]
            starts = np.concatenate([[0], np.cumsum(np.bincount(tails, minlength=n))])
            _, iperm = pymetis.nested_dissection(
                pymetis.CSRAdjacency(starts, heads), options=pymetis.Options(seed=METIS_SEED)
            )
            rank = np.asarray(iperm, dtype=np.int64)
        up_indptr, up_head = chordal_arcs(rank, edge_u, edge_v)
        return cls(
            rank=rank,
            up_indptr=up_indptr,
            up_head=up_head,
            arc_tail=np.repeat(np.arange(n, dtype=np.int64), np.diff(up_indptr)),
            tri=triangles(up_indptr, up_head),
            edge_arc=edge_arcs(rank, up_indptr, up_head, edge_u, edge_v),
        )


@njit(cache=True)
def _merge_into(a: I64, b: I64) -> I64:
    """Sorted union of the sorted arrays ``a`` and ``b``."""
    out = np.empty(len(a) + len(b), dtype=np.int64)
    i = j = k = 0
    while i < len(a) or j < len(b):
        if j >= len(b) or (i < len(a) and a[i] < b[j]):
            x = a[i]
            i += 1
        elif i >= len(a) or b[j] < a[i]:
            x = b[j]
            j += 1
        else:
            x = a[i]
            i += 1
            j += 1
        out[k] = x
        k += 1
    return out[:k]


@njit(cache=True)
def chordal_arcs(rank: I64, edge_u: I64, edge_v: I64) -> tuple[I64, I64]:
    """Upward CSR ``(up_indptr, up_head)`` of the chordal supergraph of the edges.

    Symbolic elimination in rank order: the higher neighbours of a contracted node
    become neighbours of its lowest higher neighbour (its parent in the elimination
    tree), which keeps every set of higher neighbours a clique.
    """
    n = len(rank)
    lo = np.minimum(rank[edge_u], rank[edge_v])
    hi = np.maximum(rank[edge_u], rank[edge_v])
    keys = np.unique((lo * n + hi)[lo != hi])  # distinct pairs, by lower then higher rank
    starts = np.searchsorted(keys // n, np.arange(n + 1))
    up = List()
    for r in range(n):
        up.append(keys[starts[r] : starts[r + 1]] % n)
    for r in range(n):
        higher = up[r]
        if len(higher) > 1:
            parent = higher[0]
            up[parent] = _merge_into(up[parent], higher[1:])
    indptr = np.zeros(n + 1, dtype=np.int64)
    for r in range(n):
        indptr[r + 1] = indptr[r] + len(up[r])
    head = np.empty(indptr[n], dtype=np.int64)
    for r in range(n):
        head[indptr[r] : indptr[r + 1]] = up[r]
    return indptr, head


@njit(cache=True)
def _arc(up_indptr: I64, up_head: I64, lo: int, hi: int) -> int:
    """Index of the arc ``lo -> hi`` (binary search in ``lo``'s sorted upward list)."""
    a, b = up_indptr[lo], up_indptr[lo + 1]
    while a < b:
        mid = (a + b) >> 1
        if up_head[mid] < hi:
            a = mid + 1
        else:
            b = mid
    return a


@njit(cache=True)
def triangles(up_indptr: I64, up_head: I64) -> tuple[I32, I32, I32]:
    """Lower triangles ``(xy, xz, yz)`` as arc indices, by increasing lowest rank ``x``
    (int32: the triangles are the hierarchy's bulk, 3 M on the default network).

    For every node ``x`` and every pair ``y < z`` of its higher neighbours, the arcs
    ``x-y``, ``x-z`` and ``y-z`` (which exists: the graph is chordal).
    """
    n = len(up_indptr) - 1
    total = 0
    for x in range(n):
        d = up_indptr[x + 1] - up_indptr[x]
        total += d * (d - 1) // 2
    xy = np.empty(total, dtype=np.int32)
    xz = np.empty(total, dtype=np.int32)
    yz = np.empty(total, dtype=np.int32)
    k = 0
    for x in range(n):
        for i in range(up_indptr[x], up_indptr[x + 1]):
            y = up_head[i]
            # x's neighbours above y appear in y's sorted list in the same order: merge
            s = up_indptr[y]
            for j in range(i + 1, up_indptr[x + 1]):
                z = up_head[j]
                while up_head[s] < z:
                    s += 1
                xy[k] = i
                xz[k] = j
                yz[k] = s
                k += 1
    return xy, xz, yz


@njit(cache=True)
def edge_arcs(rank: I64, up_indptr: I64, up_head: I64, edge_u: I64, edge_v: I64) -> I64:
    """Per edge: ``2 * arc + 1`` when it runs up the ranks, ``2 * arc`` when down, -1 for
    a self-loop (never on a least-cost path with non-negative costs)."""
    out = np.full(len(edge_u), -1, dtype=np.int64)
    for e in range(len(edge_u)):
        a, b = rank[edge_u[e]], rank[edge_v[e]]
        if a < b:
            out[e] = 2 * _arc(up_indptr, up_head, a, b) + 1
        elif b < a:
            out[e] = 2 * _arc(up_indptr, up_head, b, a)
    return out


@njit(cache=True, nogil=True)
def customise(
    n_arcs: int, edge_arc: I64, cost: F64, tri: tuple[I32, I32, I32]
) -> tuple[F64, F64, I64, I64]:
    """Arc costs of ``cost`` (per edge, >= 0): ``(w_up, w_down, via_up, via_down)``.

    ``via_*[a]`` is ``-2 - e`` when the arc's cost is edge ``e``'s, the triangle index
    whose two lower arcs realise it when it is a shortcut, and -1 when no path of that
    direction exists. Triangles are met by increasing lowest rank, so both lower arcs
    are final when a triangle updates the upper one (the basic customisation).
    """
    w_up = np.full(n_arcs, _INF)
    w_down = np.full(n_arcs, _INF)
    via_up = np.full(n_arcs, -1, dtype=np.int64)
    via_down = np.full(n_arcs, -1, dtype=np.int64)
    for e in range(len(edge_arc)):
        code = edge_arc[e]
        if code < 0:
            continue
        a = code >> 1
        if code & 1:
            if cost[e] < w_up[a]:
                w_up[a] = cost[e]
                via_up[a] = -2 - e
        elif cost[e] < w_down[a]:
            w_down[a] = cost[e]
            via_down[a] = -2 - e
    xy, xz, yz = tri
    for t in range(len(xy)):
        a, b, c = xy[t], xz[t], yz[t]
        # y -> x -> z: down x-y then up x-z; z -> x -> y: down x-z then up x-y
        up = w_down[a] + w_up[b]
        if up < w_up[c]:
            w_up[c] = up
            via_up[c] = t
        down = w_down[b] + w_up[a]
        if down < w_down[c]:
            w_down[c] = down
            via_down[c] = t
    return w_up, w_down, via_up, via_down


@njit(cache=True, nogil=True, inline="always")
def _relax_up(
    up_indptr: I64, up_head: I64, cost: F64, x: int, dist: F64, link: I64, best: float
) -> int:
    """Relax the upward arcs of ``x`` unless its cost already reaches ``best`` (costs
    are non-negative, so nothing through it can do better); returns ``x``'s parent in
    the elimination tree (its lowest higher neighbour, -1 at a root)."""
    lo, hi = up_indptr[x], up_indptr[x + 1]
    d = dist[x]
    if d < best:
        for a in range(lo, hi):
            nd = d + cost[a]
            v = up_head[a]
            if nd < dist[v]:
                dist[v] = nd
                link[v] = a
    return up_head[lo] if hi > lo else -1


@njit(cache=True, nogil=True)
def query(
    up_indptr: I64,
    up_head: I64,
    w_up: F64,
    w_down: F64,
    src: int,
    dst: int,
    work: Work,
) -> tuple[int, int, int]:
    """Elimination-tree query (ranks ``src``, ``dst``): ``(meeting rank or -1, chain
    length forward, chain length backward)``.

    Every shortest path climbs from ``src`` then descends to ``dst`` in a customised
    hierarchy, and a node's higher neighbours are its elimination-tree ancestors. So the
    two ancestor chains are walked by rising rank (no heap), relaxing upward costs
    ``w_up`` from ``src`` and ``w_down`` towards ``dst``; on their common part (from the
    lowest common ancestor up) each node offers ``fwd[v] + bwd[v]``, and a side stops
    relaxing once its cost reaches the best offer. ``work`` as
    :func:`evfleet.network._pairs.pair_work` (``pred``/``succ`` hold arcs here, the
    touched lists the chains; heaps unused), left for
    :func:`evfleet.network._pairs._reset` once the path is read.
    """
    fwd, bwd, pred, succ, chain_f, chain_b = work[:6]
    fwd[src] = 0.0
    bwd[dst] = 0.0
    x, y = src, dst
    tf = tb = 0
    best = _INF
    meet = -1
    while x >= 0 or y >= 0:
        if x >= 0 and (y < 0 or x < y):
            chain_f[tf] = x
            tf += 1
            x = _relax_up(up_indptr, up_head, w_up, x, fwd, pred, best)
        elif y >= 0 and (x < 0 or y < x):
            chain_b[tb] = y
            tb += 1
            y = _relax_up(up_indptr, up_head, w_down, y, bwd, succ, best)
        else:  # a common ancestor: both sides' costs here are final
            total = fwd[x] + bwd[x]
            if total < best:
                best = total
                meet = x
            chain_f[tf] = x
            tf += 1
            chain_b[tb] = x
            tb += 1
            _relax_up(up_indptr, up_head, w_down, x, bwd, succ, best)
            x = y = _relax_up(up_indptr, up_head, w_up, x, fwd, pred, best)
    return meet, tf, tb


@njit(cache=True, nogil=True)
def _expand(
    arc: int,
    going_up: bool,
    tri: tuple[I32, I32, I32],
    via_up: I64,
    via_down: I64,
    out: I64,
    k: int,
    stack: I64,
) -> int:
    """Edge indices of one arc traversal (``going_up``: from its lower to its higher
    end), written into ``out`` from position ``k`` (only counted when ``out`` is
    empty); returns the next position."""
    xy, xz, _ = tri
    stack[0] = 2 * arc + (1 if going_up else 0)
    top = 1
    while top > 0:
        top -= 1
        a = stack[top] >> 1
        up = (stack[top] & 1) == 1
        via = via_up[a] if up else via_down[a]
        if via <= -2:
            if len(out):
                out[k] = -2 - via
            k += 1
            continue
        # up (y -> z) = down x-y, then up x-z; down (z -> y) = down x-z, then up x-y
        first, second = (xy[via], xz[via]) if up else (xz[via], xy[via])
        stack[top] = 2 * second + 1
        stack[top + 1] = 2 * first
        top += 2
    return k


Expansion = tuple[I64, tuple[I32, I32, I32], tuple[I64, I64]]
"""``(arc_tail, tri, (via_up, via_down))``: what turns arcs back into edges."""


@njit(cache=True, nogil=True)
def _walk_arcs(
    expansion: Expansion, links: tuple[I64, I64], ends: tuple[int, int, int], out: I64,
    stack: I64,
) -> int:  # fmt: skip
    """Expand the up-arcs ``src -> meet`` then the down-arcs ``meet -> dst`` into
    ``out`` (or count them when ``out`` is empty)."""
    arc_tail, tri, (via_up, via_down) = expansion
    pred, succ = links
    src, dst, meet = ends
    n_up = 0
    v = meet
    while v != src:
        n_up += 1
        v = arc_tail[pred[v]]
    k = 0
    for i in range(n_up):
        # the i-th arc from src: walk down from meet to it (paths are short: ranks rise)
        v = meet
        for _ in range(n_up - 1 - i):
            v = arc_tail[pred[v]]
        k = _expand(pred[v], True, tri, via_up, via_down, out, k, stack)
    v = meet
    while v != dst:
        a = succ[v]
        k = _expand(a, False, tri, via_up, via_down, out, k, stack)
        v = arc_tail[a]
    return k


@njit(cache=True, nogil=True)
def unpack(
    expansion: Expansion, links: tuple[I64, I64], ends: tuple[int, int, int], stack: I64
) -> I64:
    """Edge indices ``src -> dst`` of a :func:`query` answer, shortcuts expanded
    (``expansion``: arc tails, triangles and the ``via_*`` of :func:`customise`;
    ``links``: the query's ``(pred, succ)`` arcs; ``ends``: ``(src, dst, meet)`` ranks;
    ``stack``: scratch of at least the number of ranks + 2: a shortcut's lower arcs have
    a lower tail rank, so no more expansions are ever pending)."""
    n = _walk_arcs(expansion, links, ends, stack[:0], stack)
    out = np.empty(n, dtype=np.int64)
    _walk_arcs(expansion, links, ends, out, stack)
    return out


@njit(cache=True, nogil=True)
def route_pair(
    hierarchy: tuple[I64, I64, I64, I64, tuple[I32, I32, I32]],
    custom: tuple[F64, F64, I64, I64],
    src: int,
    dst: int,
    battery: tuple[float, float, float],
    edge_data: tuple[F64, F64, F64],
    work: Work,
) -> tuple[bool, I64, F64, bool]:
    """One query on a customised hierarchy: ``(found, edge indices, path_totals, clean)``.

    ``hierarchy`` is ``(rank, up_indptr, up_head, arc_tail, tri)`` of a
    :class:`Hierarchy`; ``custom`` the output of
    :func:`customise`; ``src``/``dst`` node rows; ``battery`` ``(b0, b_min, b_max)``
    for :func:`evfleet.network._pairs.path_totals`; ``clean`` is True when the battery
    along the path never exceeds ``b_max`` (no regeneration wasted) nor drops below
    ``b_min``, i.e. the bounds did not bind. ``work`` as :func:`query`'s, left clean.
    """
    rank, up_indptr, up_head, arc_tail, tri = hierarchy
    w_up, w_down, via_up, via_down = custom
    b0, b_min, b_max = battery
    s, t = rank[src], rank[dst]
    meet, tf, tb = query(up_indptr, up_head, w_up, w_down, s, t, work)
    if meet < 0:
        _reset(work, tf, tb)
        return False, np.empty(0, dtype=np.int64), np.empty(0), False
    scratch = work[7]  # a heap of the work arrays, unused by the query
    if len(scratch) < len(rank) + 2:
        scratch = np.empty(len(rank) + 2, dtype=np.int64)
    edges = unpack((arc_tail, tri, (via_up, via_down)), (work[2], work[3]), (s, t, meet), scratch)
    _reset(work, tf, tb)
    time_s, energy, length_m = edge_data
    start = min(b0, b_max)
    totals = path_totals(edges, time_s, energy, length_m, start, b_max)
    b = start
    clean = True
    for e in edges:
        b -= energy[e]
        if b > b_max or b < b_min:
            clean = False
            break
    return True, edges, totals, clean
