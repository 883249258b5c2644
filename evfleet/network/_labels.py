"""Compiled multi-label search on the CSR arrays: SOC-aware routes and Pareto sets.

A label is one partial path: its node, its primary objective ``c1`` (reduced by the
node potential, so every increment is >= 0), its battery energy ``b`` and the totals
that are reported (time, driving energy, cost). Labels are settled in order of
``c1 + h[node]`` (``h``: a consistent lower bound of the objective still to come, e.g.
exact backward distances for A*, zeros for Dijkstra); a label is kept only when it has
more charge (less reduced consumption, within a factor ``1 + eps``) than every label
settled at its node before it, which is the bi-criteria dominance test of Martins'
label-setting algorithm.
Charging actions at station nodes add labels at the same node with more charge. A label
may not revisit a node of its path since its last charging stop (no loops).

The layout of the label tables is private to this module and
:mod:`evfleet.routing.search`: float columns ``F_*`` and int columns ``I_*``.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray

from evfleet.network._kernels import _pop, _push
from evfleet.units import DAY_S

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

F_C1, F_B, F_TIME, F_ENERGY, F_COST, F_STOP_KWH, F_STOP_S, F_STOP_USD, F_ARRIVE_B = range(9)
N_F = 9
I_NODE, I_PRED, I_EDGE, I_STATION, I_LAST_STOP = range(5)
N_I = 5
_INF = np.inf


@njit(cache=True)
def _grow(lab_f: F64, lab_i: I64) -> tuple[F64, I64]:
    cap = 2 * lab_f.shape[0]
    nf = np.empty((cap, N_F))
    ni = np.empty((cap, N_I), dtype=np.int64)
    nf[: lab_f.shape[0]] = lab_f
    ni[: lab_i.shape[0]] = lab_i
    return nf, ni


@njit(cache=True)
def _grow_heap(keys: F64, vals: I64) -> tuple[F64, I64]:
    nk = np.empty(2 * keys.size)
    nv = np.empty(2 * vals.size, dtype=np.int64)
    nk[: keys.size] = keys
    nv[: vals.size] = vals
    return nk, nv


@njit(cache=True)
def _revisits(lab_i: I64, start: int, node: int) -> bool:
    """Whether ``node`` lies on the path of labels ``start -> ... -> root``."""
    k = start
    while k >= 0:
        if lab_i[k, I_NODE] == node:
            return True
        k = lab_i[k, I_PRED]
    return False


@njit(cache=True)
def _interp(grid_step: float, table: F64, soc: float) -> float:
    x = min(max(soc, 0.0), 1.0) / grid_step
    i = min(int(x), table.size - 2)
    w = x - i
    return table[i] * (1.0 - w) + table[i + 1] * w


@njit(cache=True)
def label_search(
    indptr: I64,
    heads: I64,
    slot_edge: I64,
    slot_energy: F64,
    slot_time: F64,
    phi: F64,
    h: F64,
    r2_lb: F64,
    src: int,
    dst: int,
    coef: F64,
    battery: F64,
    st_indptr: I64,
    st_price: F64,
    st_wait_s: F64,
    st_table: F64,
    charging: F64,
    need_any: F64,
    charge_need: F64,
    eps: float,
    all_targets: bool,
    max_labels: int,
) -> tuple[F64, I64, I64, int]:
    """Label-setting search from ``src`` to ``dst``.

    Parameters
    ----------
    h, r2_lb
        Per node: consistent lower bound of the remaining objective (A*), and of the
        remaining reduced energy (target pruning of Pareto searches).
    coef
        ``[a_energy, a_time, a_cost, drive_price]``: the objective is
        ``a_energy * driving kWh + a_time * s + a_cost * USD``; driving energy is valued
        at ``drive_price`` USD/kWh (its cost share must be folded into ``a_energy`` by
        the caller).
    battery
        ``[b0, b_min, b_max]`` kWh (start, reserve, capacity).
    st_indptr, st_price, st_wait_s, st_table
        Stations per node (CSR over nodes), their off-peak price (USD per grid kWh),
        expected wait (s) and cumulative charging time from SOC 0 (s) on an even SOC
        grid (one row per station).
    charging
        ``[step_kwh, max_kwh, efficiency, depart_clock_s, peak_start_s, peak_end_s,
        peak_multiplier]``: charge targets are multiples of ``step_kwh`` up to
        ``max_kwh``; the grid delivers ``kWh / efficiency``; prices rise by the multiplier
        during the daily peak.
    need_any
        Battery a node needs above ``b_min`` to reach the target or any station
        (labels that cannot are dropped; zeros disable the test).
    charge_need
        Battery above ``b_min`` with which a node reaches the target on its fastest or
        least-energy path: charging beyond the first target level above it only adds
        time and cost, so no higher levels are offered.
    eps
        Relative tolerance of the dominance test (0: exact Pareto sets).
    all_targets
        False: stop at the first label settled at ``dst`` (least objective). True: keep
        going and return every settled target label (a Pareto set), pruning labels that
        cannot beat the best target charge.
    max_labels
        Label budget; the search stops (``status = 2``) when it is exhausted.

    Returns
    -------
    lab_f, lab_i, targets, status
        The label tables, the settled target labels (in settling order) and a status:
        0 done, 2 label budget exhausted.
    """
    n = len(indptr) - 1
    a_e, a_t, a_c, drive_price = coef[0], coef[1], coef[2], coef[3]
    b0, b_min, b_max = battery[0], battery[1], battery[2]
    step_kwh, max_kwh, eff = charging[0], charging[1], charging[2]
    depart, peak_a, peak_b, peak_mult = charging[3], charging[4], charging[5], charging[6]
    grid_step = 1.0 / (st_table.shape[1] - 1) if st_table.shape[0] > 0 else 1.0
    best_b = np.full(n, -_INF)
    cap = 1024
    lab_f = np.empty((cap, N_F))
    lab_i = np.empty((cap, N_I), dtype=np.int64)
    heap_k = np.empty(cap)
    heap_v = np.empty(cap, dtype=np.int64)
    targets = np.empty(64, dtype=np.int64)
    n_targets = 0
    b_start = min(b0, b_max)
    lab_f[0] = 0.0
    lab_f[0, F_B] = b_start
    lab_f[0, F_ARRIVE_B] = b_start
    lab_i[0, I_NODE] = src
    lab_i[0, I_PRED] = -1
    lab_i[0, I_EDGE] = -1
    lab_i[0, I_STATION] = -1
    lab_i[0, I_LAST_STOP] = -1
    n_lab = 1
    size = _push(heap_k, heap_v, 0, 0.0, 0)
    best_target = -_INF
    status = 0
    while size > 0:
        li, size = _pop(heap_k, heap_v, size)
        u = lab_i[li, I_NODE]
        bu = lab_f[li, F_B]
        r2 = b0 - bu - phi[u] + phi[src]
        if best_b[u] > -_INF and (1.0 + eps) * r2 >= b0 - best_b[u] - phi[u] + phi[src]:
            continue
        if (
            all_targets
            and best_target > -_INF
            and (1.0 + eps) * (r2 + r2_lb[u]) >= b0 - best_target - phi[dst] + phi[src]
        ):
            continue
        best_b[u] = bu
        if u == dst:
            if n_targets == targets.size:
                bigger = np.empty(2 * targets.size, dtype=np.int64)
                bigger[:n_targets] = targets[:n_targets]
                targets = bigger
            targets[n_targets] = li
            n_targets += 1
            best_target = bu
            if not all_targets:
                break
            continue
        if n_lab >= max_labels:
            status = 2
            break
        c1, tu, eu, cu = lab_f[li, F_C1], lab_f[li, F_TIME], lab_f[li, F_ENERGY], lab_f[li, F_COST]
        last_stop = lab_i[li, I_LAST_STOP]
        # charging actions (not twice in a row at the same node)
        if lab_i[li, I_STATION] < 0:
            for k in range(st_indptr[u], st_indptr[u + 1]):
                start_t = tu + st_wait_s[k]
                clock = (depart + start_t) % DAY_S
                mult = peak_mult if peak_a <= clock < peak_b else 1.0
                t_from = _interp(grid_step, st_table[k], bu / b_max)
                limit = b_min + charge_need[u]
                j = int(np.floor(bu / step_kwh + 1e-9)) + 1
                while bu < limit and j * step_kwh <= max_kwh + 1e-9:
                    bt = min(j * step_kwh, b_max)
                    j += 1
                    if bt >= limit:
                        j = 1 << 40
                    if bt <= best_b[u]:
                        continue
                    dur = _interp(grid_step, st_table[k], bt / b_max) - t_from
                    if not np.isfinite(dur):
                        break
                    kwh = bt - bu
                    usd = kwh / eff * st_price[k] * mult
                    extra = usd - drive_price * kwh
                    if n_lab >= lab_f.shape[0]:
                        lab_f, lab_i = _grow(lab_f, lab_i)
                    lab_f[n_lab, F_C1] = c1 + a_t * (st_wait_s[k] + dur) + a_c * max(extra, 0.0)
                    lab_f[n_lab, F_B] = bt
                    lab_f[n_lab, F_TIME] = start_t + dur
                    lab_f[n_lab, F_ENERGY] = eu
                    lab_f[n_lab, F_COST] = cu + extra
                    lab_f[n_lab, F_STOP_KWH] = kwh
                    lab_f[n_lab, F_STOP_S] = st_wait_s[k] + dur
                    lab_f[n_lab, F_STOP_USD] = usd
                    lab_f[n_lab, F_ARRIVE_B] = bu
                    lab_i[n_lab, I_NODE] = u
                    lab_i[n_lab, I_PRED] = li
                    lab_i[n_lab, I_EDGE] = -1
                    lab_i[n_lab, I_STATION] = k
                    lab_i[n_lab, I_LAST_STOP] = n_lab
                    key = lab_f[n_lab, F_C1] + h[u]
                    if size >= heap_k.size:
                        heap_k, heap_v = _grow_heap(heap_k, heap_v)
                    size = _push(heap_k, heap_v, size, key, n_lab)
                    n_lab += 1
        for s in range(indptr[u], indptr[u + 1]):
            v = heads[s]
            bv = min(b_max, bu - slot_energy[s])
            if bv - need_any[v] < b_min or bv <= best_b[v]:
                continue
            if last_stop >= 0 and _revisits(lab_i, last_stop, v):
                continue
            used = bu - bv
            if n_lab >= lab_f.shape[0]:
                lab_f, lab_i = _grow(lab_f, lab_i)
            red = used - phi[v] + phi[u]
            lab_f[n_lab, F_C1] = c1 + a_e * max(red, 0.0) + a_t * slot_time[s]
            lab_f[n_lab, F_B] = bv
            lab_f[n_lab, F_TIME] = tu + slot_time[s]
            lab_f[n_lab, F_ENERGY] = eu + used
            lab_f[n_lab, F_COST] = cu + drive_price * used
            lab_f[n_lab, F_STOP_KWH] = 0.0
            lab_f[n_lab, F_STOP_S] = 0.0
            lab_f[n_lab, F_STOP_USD] = 0.0
            lab_f[n_lab, F_ARRIVE_B] = bv
            lab_i[n_lab, I_NODE] = v
            lab_i[n_lab, I_PRED] = li
            lab_i[n_lab, I_EDGE] = slot_edge[s]
            lab_i[n_lab, I_STATION] = -1
            lab_i[n_lab, I_LAST_STOP] = last_stop
            if h[v] == _INF:
                continue
            key = lab_f[n_lab, F_C1] + h[v]
            if size >= heap_k.size:
                heap_k, heap_v = _grow_heap(heap_k, heap_v)
            size = _push(heap_k, heap_v, size, key, n_lab)
            n_lab += 1
    return lab_f[:n_lab], lab_i[:n_lab], targets[:n_targets], status


@njit(cache=True)
def label_path(lab_i: I64, last: int) -> tuple[I64, I64]:
    """Edge indices and charging-label indices of the path ending at label ``last``."""
    n_e = 0
    n_s = 0
    k = last
    while k >= 0:
        if lab_i[k, I_EDGE] >= 0:
            n_e += 1
        if lab_i[k, I_STATION] >= 0:
            n_s += 1
        k = lab_i[k, I_PRED]
    edges = np.empty(n_e, dtype=np.int64)
    stops = np.empty(n_s, dtype=np.int64)
    k = last
    while k >= 0:
        if lab_i[k, I_EDGE] >= 0:
            n_e -= 1
            edges[n_e] = lab_i[k, I_EDGE]
        if lab_i[k, I_STATION] >= 0:
            n_s -= 1
            stops[n_s] = k
        k = lab_i[k, I_PRED]
    return edges, stops
