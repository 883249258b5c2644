"""Compiled inference: fitted regressors turned into flat arrays and evaluated with numba.

The native predict paths of LightGBM, XGBoost and scikit-learn forests spend most of their
time in per-call overhead for the small, shallow ensembles our tuning finds, and the
sklearn one-hot pipeline dominates the linear model's cost. :func:`compile_regressor`
converts a fitted regressor into:

* :class:`TreeEnsemble` - every tree as node arrays (feature, threshold, children, the
  side missing values take, leaf value), evaluated row-parallel by a numba kernel with the
  library's own comparison and missing-value rules (so predictions match the native ones
  to float rounding), or
* :class:`ObliviousEnsemble` - CatBoost's symmetric trees as split arrays (one feature and
  border per level; the leaf index is the bits of the level comparisons), or
* :class:`LinearKernel` - imputation, scaling and one-hot encoding folded into one weight
  vector plus one lookup table per categorical column.

A network-wide prediction repeats one context (vehicle, weather, clock) on every edge, so
about half the input columns hold a single value: the tree kinds decide the splits on such
columns once per call, before the rows are walked, and the rows reach the same leaves
(bit-identical sums) through far fewer comparisons.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import catboost as cb
import lightgbm as lgb
import numba as nb
import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import Ridge

_BLOCK_ROWS: Final = 128
"""Rows copied into a small row-major buffer (only the columns the trees still read), then
walked down one tree after the other: the buffer and the current tree's nodes stay in cache
(walking every tree per row streams the whole ensemble, megabytes, through the cache once
per row)."""
_OBLIVIOUS_BLOCK_ROWS: Final = 256
"""Rows evaluated together per symmetric tree: every row compares the same feature with the
same border at a level, so the inner loop runs down one contiguous column (SIMD)."""


@nb.njit(parallel=True, cache=True, nogil=True)
def _constant_columns(X: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """Columns of ``X`` whose every row holds the first row's value (NaN counts as equal)."""
    n, p = X.shape
    same = np.ones(p, dtype=np.bool_)
    for f in nb.prange(p):
        first = X[0, f]
        for i in range(1, n):
            x = X[i, f]
            if x != first and not (np.isnan(x) and np.isnan(first)):
                same[f] = False
                break
    return same


@nb.njit(cache=True, nogil=True)
def _specialise(
    roots: np.ndarray,
    feature: np.ndarray,
    threshold: np.ndarray,
    kids: np.ndarray,
    nan_left: np.ndarray,
    const: np.ndarray,
    row: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """The trees with every split on a constant column (``const``, values in ``row``)
    replaced by the child all rows take: new roots, depths, node records (see below) and
    the columns still read. Children follow their parent in the node order, so one
    backward pass resolves chains of decided splits."""
    k = feature.size
    target = np.arange(k).astype(np.int32)
    height = np.zeros(k, dtype=np.int32)
    for nd in range(k - 1, -1, -1):
        f = feature[nd]
        if f < 0:
            continue
        left, right = target[kids[2 * nd]], target[kids[2 * nd + 1]]
        if const[f]:
            x = row[f]
            go_left = (x <= threshold[nd]) | (np.isnan(x) & nan_left[nd])
            target[nd] = left if go_left else right
            height[nd] = height[target[nd]]
        else:
            height[nd] = 1 + max(height[left], height[right])
    cols = np.flatnonzero(~const).astype(np.int32)
    column = np.zeros(const.size, dtype=np.int32)
    column[cols] = np.arange(cols.size, dtype=np.int32)
    # one 16-byte record per node, so a step touches one cache line: the column read (0 at a
    # leaf or a decided split, never reached), the threshold's bits, left and right child
    walk = np.empty(4 * k, dtype=np.int32)
    bits = threshold.view(np.int32)
    for nd in range(k):
        f = feature[nd]
        walk[4 * nd] = column[f] if f >= 0 else 0
        walk[4 * nd + 1] = bits[nd]
        walk[4 * nd + 2] = target[kids[2 * nd]] if f >= 0 else nd
        walk[4 * nd + 3] = target[kids[2 * nd + 1]] if f >= 0 else nd
    walk_roots = target[roots]
    return walk_roots, height[walk_roots], walk, cols


@nb.njit(parallel=True, cache=True, nogil=True)
def _tree_kernel(
    X: np.ndarray,
    cols: np.ndarray,
    roots: np.ndarray,
    depth: np.ndarray,
    walk: np.ndarray,
    nan_left: np.ndarray,
    value: np.ndarray,
    base: float,
    scale: float,
) -> np.ndarray:  # pragma: no cover - compiled
    n, p = X.shape[0], cols.size
    threshold = walk.view(np.float32)
    out = np.empty(n, dtype=np.float64)
    for block in nb.prange((n + _BLOCK_ROWS - 1) // _BLOCK_ROWS):
        start = block * _BLOCK_ROWS
        m = min(n, start + _BLOCK_ROWS) - start
        buf = np.empty((m, p), dtype=np.float32)
        has_nan = False
        for j in range(p):
            f = cols[j]
            for i in range(m):
                x = X[start + i, f]
                buf[i, j] = x
                has_nan |= np.isnan(x)
        acc = np.zeros(m, dtype=np.float64)
        node = np.empty(m, dtype=np.int32)
        for t in range(roots.size):  # tree-outer: one tree's nodes stay in cache for the block
            node[:] = roots[t]
            # level by level, every row one step (a leaf is its own child): the rows' steps
            # are independent, no data-dependent branch, so the CPU overlaps their loads
            for _ in range(depth[t]):
                if has_nan:
                    for i in range(m):
                        r = 4 * node[i]
                        x = buf[i, walk[r]]
                        left = (x <= threshold[r + 1]) | (np.isnan(x) & nan_left[node[i]])
                        node[i] = walk[r + 2 + np.int32(not left)]
                else:
                    for i in range(m):
                        r = 4 * node[i]
                        node[i] = walk[r + 2 + np.int32(not buf[i, walk[r]] <= threshold[r + 1])]
            for i in range(m):
                acc[i] += value[node[i]]
        for i in range(m):
            out[start + i] = base + scale * acc[i]
    return out


Oblivious = tuple[
    np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray
]
"""Symmetric trees: ``(depth, split_start, feature, border, nan_true, leaf_start, leaf)``
(see :class:`ObliviousEnsemble`)."""


@nb.njit(cache=True, nogil=True)
def _specialise_oblivious(
    trees: Oblivious, const: np.ndarray, row: np.ndarray
) -> Oblivious:  # pragma: no cover - compiled
    """The symmetric trees with every level on a constant column (``const``, values in
    ``row``) decided: its bit is fixed, and each tree keeps the leaves of its other levels
    (``2 ** kept`` of them, in the order of the kept levels' bits)."""
    depth, split_start, feature, border, nan_true, leaf_start, leaf = trees
    n_trees = depth.size
    kept = np.zeros(n_trees, dtype=np.int64)
    fixed = np.zeros(n_trees, dtype=np.int64)
    for t in range(n_trees):
        for j in range(depth[t]):
            k = split_start[t] + j
            f = feature[k]
            if const[f]:
                x = row[f]
                fixed[t] |= np.int64((x > border[k]) | (nan_true[k] & np.isnan(x))) << j
            else:
                kept[t] += 1
    new_split_start = np.zeros(n_trees, dtype=np.int64)
    new_leaf_start = np.zeros(n_trees, dtype=np.int64)
    for t in range(1, n_trees):
        new_split_start[t] = new_split_start[t - 1] + kept[t - 1]
        new_leaf_start[t] = new_leaf_start[t - 1] + (np.int64(1) << kept[t - 1])
    n_splits = new_split_start[-1] + kept[-1] if n_trees else 0
    n_leaves = new_leaf_start[-1] + (np.int64(1) << kept[-1]) if n_trees else 0
    new_feature = np.empty(n_splits, dtype=feature.dtype)
    new_border = np.empty(n_splits, dtype=border.dtype)
    new_nan_true = np.empty(n_splits, dtype=np.bool_)
    new_leaf = np.empty(n_leaves, dtype=np.float64)
    levels = np.empty(64, dtype=np.int64)
    for t in range(n_trees):
        q = 0
        for j in range(depth[t]):
            k = split_start[t] + j
            if not const[feature[k]]:
                levels[q] = j
                new_feature[new_split_start[t] + q] = feature[k]
                new_border[new_split_start[t] + q] = border[k]
                new_nan_true[new_split_start[t] + q] = nan_true[k]
                q += 1
        for index in range(np.int64(1) << kept[t]):
            old = fixed[t]
            for b in range(kept[t]):
                old |= ((index >> b) & 1) << levels[b]
            new_leaf[new_leaf_start[t] + index] = leaf[leaf_start[t] + old]
    return (
        kept,
        new_split_start,
        new_feature,
        new_border,
        new_nan_true,
        new_leaf_start,
        new_leaf,
    )


@nb.njit(parallel=True, cache=True, nogil=True)
def _oblivious_kernel(
    X: np.ndarray, trees: Oblivious, bias: float, scale: float
) -> np.ndarray:  # pragma: no cover - compiled
    depth, split_start, feature, border, nan_true, leaf_start, leaf = trees
    n = X.shape[0]
    out = np.empty(n, dtype=np.float64)
    for block in nb.prange((n + _OBLIVIOUS_BLOCK_ROWS - 1) // _OBLIVIOUS_BLOCK_ROWS):
        start = block * _OBLIVIOUS_BLOCK_ROWS
        m = min(n, start + _OBLIVIOUS_BLOCK_ROWS) - start
        idx = np.empty(m, dtype=np.int32)  # 32-bit lanes: twice the SIMD width of int64
        acc = np.zeros(m, dtype=np.float64)
        for t in range(depth.size):
            idx[:] = 0
            for j in range(depth[t]):
                k = split_start[t] + j
                col = X[start : start + m, feature[k]]
                edge = border[k]
                if nan_true[k]:
                    for i in range(m):
                        x = col[i]
                        idx[i] |= np.int32((x > edge) | np.isnan(x)) << j
                else:  # NaN > edge is false: NaN takes the false side
                    for i in range(m):
                        idx[i] |= np.int32(col[i] > edge) << j
            for i in range(m):
                acc[i] += leaf[leaf_start[t] + idx[i]]
        for i in range(m):
            out[start + i] = bias + scale * acc[i]
    return out


@dataclass
class ObliviousEnsemble:
    """Symmetric trees: tree ``t`` compares ``depth[t]`` (feature, border) pairs starting at
    ``split_start[t]``; comparison ``j`` sets bit ``j`` of the leaf index when the value is
    ``> border`` (or NaN and ``nan_true``)."""

    depth: np.ndarray
    split_start: np.ndarray
    feature: np.ndarray
    border: np.ndarray
    nan_true: np.ndarray
    leaf_start: np.ndarray
    leaf: np.ndarray
    bias: float
    scale: float

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Ensemble output for a float32 matrix (rows are samples, column-major preferred).

        Levels on a column that holds one value in every row are decided once for the
        whole call (as in :meth:`TreeEnsemble.predict`): same leaves, same sums.
        """
        X = np.asarray(X, dtype=np.float32)
        if X.shape[0] == 0:
            return np.empty(0, dtype=np.float64)
        trees = (self.depth, self.split_start, self.feature, self.border, self.nan_true,
                 self.leaf_start, self.leaf)  # fmt: skip
        decided = _specialise_oblivious(trees, _constant_columns(X), np.ascontiguousarray(X[0]))
        return _oblivious_kernel(X, decided, self.bias, self.scale)


def _from_catboost(model: cb.CatBoostRegressor) -> ObliviousEnsemble | None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.json"
        model.save_model(str(path), format="json")
        dump = json.loads(path.read_text(encoding="utf-8"))
    floats = {f["feature_index"]: f for f in dump["features_info"].get("float_features", [])}
    depth, feature, border, nan_true, leaf = [], [], [], [], []
    for tree in dump["oblivious_trees"]:
        splits = tree["splits"]
        if any(s["split_type"] != "FloatFeature" for s in splits):
            return None
        depth.append(len(splits))
        for s in splits:
            feature.append(s["float_feature_index"])
            border.append(s["border"])
            treatment = floats[s["float_feature_index"]]["nan_value_treatment"]
            nan_true.append(treatment == "AsTrue")
        leaf.extend(tree["leaf_values"])
    scale, biases = dump["scale_and_bias"]
    depth_arr = np.asarray(depth, dtype=np.int64)
    return ObliviousEnsemble(
        depth=depth_arr,
        split_start=np.concatenate([[0], np.cumsum(depth_arr)[:-1]]).astype(np.int64),
        feature=np.asarray(feature, dtype=np.int32),
        border=np.asarray(border, dtype=np.float32),
        nan_true=np.asarray(nan_true, dtype=np.bool_),
        leaf_start=np.concatenate([[0], np.cumsum(2**depth_arr)[:-1]]).astype(np.int64),
        leaf=np.asarray(leaf, dtype=np.float64),
        bias=float(biases[0]),
        scale=float(scale),
    )


def _float32_at_most(threshold: np.ndarray) -> np.ndarray:
    """The largest float32 not above each threshold: for a float32 ``x``,
    ``x <= threshold`` and ``x <= _float32_at_most(threshold)`` always agree."""
    t = np.asarray(threshold, dtype=np.float64)
    with np.errstate(over="ignore"):
        t32 = t.astype(np.float32)
    return np.where(t32 > t, np.nextafter(t32, np.float32(-np.inf)), t32).astype(np.float32)


@dataclass
class TreeEnsemble:
    """Trees as flat node arrays, every child after its parent; a leaf has
    ``feature == -1``, is its own child and carries ``value``.

    A row goes to the left child ``kids[2 * node]`` when its value is ``<= threshold``, or
    is NaN and ``nan_left`` is set (each library's missing-value rule is resolved into
    ``nan_left`` when compiling); otherwise to the right child ``kids[2 * node + 1]``.
    Thresholds are float32, the largest not above the library's own, so a float32 input
    takes the library's branch; a leaf's threshold is +inf and its ``nan_left`` set, so a
    row at a leaf stays there.
    """

    roots: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    kids: np.ndarray
    nan_left: np.ndarray
    value: np.ndarray
    base: float = 0.0
    scale: float = 1.0

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Ensemble output for a float32 matrix (rows are samples, column-major preferred).

        Splits on a column that holds one value in every row (a network-wide prediction:
        the context's vehicle, weather and clock) are decided once for the whole call,
        so the rows walk only the splits on columns that differ between them; each row
        still reaches the same leaves, summed in the same order.
        """
        X = np.asarray(X, dtype=np.float32)
        if X.shape[0] == 0:
            return np.empty(0, dtype=np.float64)
        roots, depth, walk, cols = _specialise(
            self.roots,
            self.feature,
            self.threshold,
            self.kids,
            self.nan_left,
            _constant_columns(X),
            np.ascontiguousarray(X[0]),
        )
        return _tree_kernel(
            X, cols, roots, depth, walk, self.nan_left, self.value, self.base, self.scale
        )


class _Builder:
    """Accumulates nodes of many trees into flat lists."""

    def __init__(self) -> None:
        self.cols: dict[str, list[Any]] = {
            k: [] for k in ("feature", "threshold", "left", "right", "nan_left", "value")
        }
        self.roots: list[int] = []

    def node(self) -> int:
        for k, col in self.cols.items():
            col.append(-1 if k in ("feature", "left", "right") else 0)
        return len(self.cols["feature"]) - 1

    def set(self, i: int, **values: Any) -> None:
        for k, v in values.items():
            self.cols[k][i] = v

    def build(self, base: float, scale: float) -> TreeEnsemble:
        """Lay every tree out breadth-first with each right child after its left sibling."""
        left, right = self.cols["left"], self.cols["right"]
        order: list[int] = []
        child: list[int] = []
        roots = []
        for root in self.roots:
            roots.append(len(order))
            order.append(root)
            child.append(-1)
            k = len(order) - 1
            while k < len(order):
                old = order[k]
                if left[old] >= 0:
                    child[k] = len(order)
                    order.extend((left[old], right[old]))
                    child.extend((-1, -1))
                k += 1
        idx = np.asarray(order, dtype=np.int64)
        c = {k: np.asarray(v)[idx] for k, v in self.cols.items() if k not in ("left", "right")}
        leaf = c["feature"] < 0
        node = np.arange(idx.size, dtype=np.int32)
        first = np.asarray(child, dtype=np.int32)
        kids = np.empty(2 * idx.size, dtype=np.int32)
        kids[0::2] = np.where(leaf, node, first)
        kids[1::2] = np.where(leaf, node, first + 1)
        return TreeEnsemble(
            roots=np.asarray(roots, dtype=np.int32),
            feature=c["feature"].astype(np.int32),
            threshold=np.where(leaf, np.inf, _float32_at_most(c["threshold"])).astype(np.float32),
            kids=kids,
            nan_left=c["nan_left"].astype(np.bool_) | leaf,
            value=c["value"].astype(np.float64),
            base=base,
            scale=scale,
        )


def _from_lightgbm(model: lgb.LGBMRegressor) -> TreeEnsemble | None:
    dump = model.booster_.dump_model(num_iteration=model.booster_.best_iteration or None)
    b = _Builder()

    def add(node: dict[str, Any]) -> int | None:
        i = b.node()
        if "leaf_value" in node:
            b.set(i, value=float(node["leaf_value"]))
            return i
        if node["decision_type"] != "<=" or node["missing_type"] == "Zero":
            return None
        kids = [add(node["left_child"]), add(node["right_child"])]
        if None in kids:
            return None
        threshold = float(node["threshold"])
        # missing_type "None": LightGBM reads NaN as 0.0; "NaN": NaN takes the default side
        nan_left = threshold >= 0.0 if node["missing_type"] == "None" else node["default_left"]
        b.set(
            i,
            feature=int(node["split_feature"]),
            threshold=threshold,
            left=kids[0],
            right=kids[1],
            nan_left=bool(nan_left),
        )
        return i

    for tree in dump["tree_info"]:
        root = add(tree["tree_structure"])
        if root is None:
            return None
        b.roots.append(root)
    return b.build(0.0, 1.0)


def _from_xgboost(model: xgb.XGBRegressor) -> TreeEnsemble:
    booster = model.get_booster()
    n_trees = model.best_iteration + 1 if hasattr(model, "best_iteration") else None
    dumps = booster.get_dump(dump_format="json")[:n_trees]
    config = json.loads(booster.save_config())
    base = float(config["learner"]["learner_model_param"]["base_score"].strip("[]"))
    b = _Builder()

    def add(node: dict[str, Any]) -> int:
        i = b.node()
        if "leaf" in node:
            b.set(i, value=float(node["leaf"]))
            return i
        kids = {c["nodeid"]: add(c) for c in node["children"]}
        below = np.nextafter(np.float32(node["split_condition"]), np.float32(-np.inf))
        b.set(
            i,
            feature=int(str(node["split"]).lstrip("f")),
            threshold=float(below),
            left=kids[node["yes"]],
            right=kids[node["no"]],
            nan_left=node["missing"] == node["yes"],
        )
        return i

    for text in dumps:
        b.roots.append(add(json.loads(text)))
    return b.build(base, 1.0)


def _from_forest(model: RandomForestRegressor) -> TreeEnsemble:
    b = _Builder()
    for est in model.estimators_:
        tree = est.tree_
        offset = len(b.cols["feature"])
        leaf = tree.children_left < 0
        go_left = getattr(tree, "missing_go_to_left", np.zeros(tree.node_count, dtype=np.uint8))
        b.cols["feature"].extend(np.where(leaf, -1, tree.feature).tolist())
        b.cols["threshold"].extend(tree.threshold.tolist())
        b.cols["left"].extend(np.where(leaf, -1, tree.children_left + offset).tolist())
        b.cols["right"].extend(np.where(leaf, -1, tree.children_right + offset).tolist())
        b.cols["nan_left"].extend(np.asarray(go_left, dtype=bool).tolist())
        b.cols["value"].extend(tree.value[:, 0, 0].tolist())
        b.roots.append(offset)
    return b.build(0.0, 1.0 / len(model.estimators_))


@nb.njit(parallel=True, cache=True, nogil=True)
def _linear_kernel(
    X: np.ndarray, fill: np.ndarray, weight: np.ndarray, nan_weight: np.ndarray, intercept: float
) -> np.ndarray:  # pragma: no cover - compiled
    """``intercept`` plus, column after column, each value (``fill`` when NaN) times its
    weight plus its missing indicator times ``nan_weight``: one pass, no temporaries."""
    n, p = X.shape
    out = np.empty(n, dtype=np.float64)
    for block in nb.prange((n + _OBLIVIOUS_BLOCK_ROWS - 1) // _OBLIVIOUS_BLOCK_ROWS):
        start = block * _OBLIVIOUS_BLOCK_ROWS
        stop = min(n, start + _OBLIVIOUS_BLOCK_ROWS)
        for i in range(start, stop):
            out[i] = intercept
        for j in range(p):
            for i in range(start, stop):
                x = X[i, j]
                nan = np.isnan(x)
                out[i] += (fill[j] if nan else x) * weight[j] + (1.0 if nan else 0.0) * nan_weight[
                    j
                ]
    return out


@dataclass
class LinearKernel:
    """A fitted imputer-scaler-one-hot-ridge pipeline folded into weights and lookup tables."""

    numeric: tuple[str, ...]
    fill: np.ndarray
    weight: np.ndarray
    nan_weight: np.ndarray
    categorical: tuple[str, ...]
    categories: tuple[np.ndarray, ...]
    tables: tuple[np.ndarray, ...]
    intercept: float

    def predict_frame(self, X: pd.DataFrame) -> np.ndarray:
        """Predictions straight from the feature frame."""
        numeric = X.loc[:, list(self.numeric)].to_numpy(dtype=np.float64, na_value=np.nan)
        out = _linear_kernel(numeric, self.fill, self.weight, self.nan_weight, self.intercept)
        for col, cats, table in zip(self.categorical, self.categories, self.tables, strict=True):
            values = X[col]
            if not isinstance(values.dtype, pd.CategoricalDtype):
                values = values.astype(str)
            out += table[pd.Categorical(values, categories=cats).codes]
        return out


def _from_linear(pre: ColumnTransformer, model: Ridge) -> LinearKernel:
    num_pipe = pre.named_transformers_["num"]
    imputer, scaler = num_pipe.named_steps["impute"], num_pipe.named_steps["scale"]
    onehot = pre.named_transformers_["cat"]
    numeric = tuple(pre.transformers_[0][2])
    categorical = tuple(pre.transformers_[1][2])
    coef = np.asarray(model.coef_, dtype=np.float64).reshape(-1)
    n_num = len(numeric)
    indicator_cols = (
        imputer.indicator_.features_ if imputer.indicator_ is not None else np.array([], dtype=int)
    )
    n_scaled = n_num + len(indicator_cols)
    scaled = coef[:n_scaled] / scaler.scale_
    intercept = float(model.intercept_) - float(np.sum(scaled * scaler.mean_))
    nan_weight = np.zeros(n_num)
    nan_weight[indicator_cols] = scaled[n_num:n_scaled]
    tables, offset = [], n_scaled
    for cats in onehot.categories_:
        tables.append(np.append(coef[offset : offset + len(cats)], 0.0))
        offset += len(cats)
    return LinearKernel(
        numeric=numeric,
        fill=np.asarray(imputer.statistics_, dtype=np.float64),
        weight=scaled[:n_num],
        nan_weight=nan_weight,
        categorical=categorical,
        categories=tuple(np.asarray(c).astype(str) for c in onehot.categories_),
        tables=tuple(tables),
        intercept=intercept,
    )


CompiledModel = TreeEnsemble | ObliviousEnsemble | LinearKernel
"""Any compiled form."""


def compile_regressor(pre: Any, model: Any) -> CompiledModel | None:
    """Compiled form of a fitted regressor, or ``None`` when it cannot be compiled."""
    if isinstance(model, lgb.LGBMRegressor):
        return _from_lightgbm(model)
    if isinstance(model, xgb.XGBRegressor):
        return _from_xgboost(model)
    if isinstance(model, RandomForestRegressor):
        return _from_forest(model)
    if isinstance(model, cb.CatBoostRegressor):
        return _from_catboost(model)
    if isinstance(model, Ridge) and isinstance(pre, ColumnTransformer):
        return _from_linear(pre, model)
    return None
