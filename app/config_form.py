"""Widgets for every field of :class:`evfleet.config.StudioConfig`, built from the model.

Each field gets a widget chosen from its type (enum -> select box, share dict -> one
number per key, list of enums -> multiselect, ...), keyed ``cfg.<section>.<field>`` in
session state. Widgets do not clamp values: the pydantic model validates the whole config
and its errors are shown under the field they concern, with the model's own wording.
"""

from __future__ import annotations

import datetime as dt
import enum
import types
import typing
from pathlib import Path
from typing import Any, Final

import streamlit as st
from pydantic import BaseModel, ValidationError

from evfleet.config import StudioConfig
from evfleet.vehicles import list_vehicles

PREFIX: Final = "cfg"
SECTIONS: Final = {
    "fleet": "Fleet mix & drivers",
    "charging": "Charging & tariffs",
    "optimization": "Optimisation",
    "training": "Training budget",
    "performance": "Performance",
    "network": "Road network",
}
"""Config section -> tab title, in tab order."""
GRID_COLUMNS: Final = 3


def _key(*parts: str) -> str:
    return ".".join((PREFIX, *parts))


def _section_model(section: str) -> type[BaseModel]:
    annotation = StudioConfig.model_fields[section].annotation
    if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
        msg = f"config section {section!r} is not a model"
        raise TypeError(msg)
    return annotation


def _strip_optional(annotation: Any) -> tuple[Any, bool]:
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return rest[0], True
    return annotation, False


def _dict_keys(section: str, field: str, annotation: Any, current: dict[str, Any]) -> list[str]:
    key_type = typing.get_args(annotation)[0]
    if isinstance(key_type, type) and issubclass(key_type, enum.Enum):
        known = [m.value for m in key_type]
    elif (section, field) == ("fleet", "market_shares"):
        known = sorted(list_vehicles())
    else:
        known = []
    return known + [k for k in current if k not in known]


def _flatten(data: dict[str, Any]) -> dict[str, Any]:
    """Session-state values of every widget for a config dict (``to_dict`` form)."""
    state: dict[str, Any] = {}
    for section in SECTIONS:
        model = _section_model(section)
        values = data.get(section, {})
        for field, info in model.model_fields.items():
            value = values.get(field)
            base, _ = _strip_optional(info.annotation)
            origin = typing.get_origin(base)
            if origin is dict:
                for k in _dict_keys(section, field, base, value or {}):
                    state[_key(section, field, k)] = float((value or {}).get(k, 0.0))
            elif origin is tuple and len(typing.get_args(base)) == 2:
                state[_key(section, field, "0")] = int(value[0])
                state[_key(section, field, "1")] = int(value[1])
            elif origin is tuple:
                state[_key(section, field)] = ",".join(str(v) for v in value) if value else ""
            elif origin is list:
                item = typing.get_args(base)[0]
                if isinstance(item, type) and issubclass(item, enum.Enum):
                    state[_key(section, field)] = list(value or [])
                else:
                    state[_key(section, field)] = "\n".join(str(v) for v in value or [])
            elif base is dt.date:
                state[_key(section, field)] = dt.date.fromisoformat(str(value))
            elif base in (Path, str):
                state[_key(section, field)] = "" if value is None else str(value)
            elif base is int:
                state[_key(section, field)] = int(value)
            elif base is float:
                state[_key(section, field)] = float(value)
            else:
                state[_key(section, field)] = value
    return state


def load_into_state(config: StudioConfig, *, overwrite: bool) -> None:
    """Put a config's values into the widgets' session state."""
    for key, value in _flatten(config.to_dict()).items():
        if overwrite or key not in st.session_state:
            st.session_state[key] = value


def _parse_numbers(text: str) -> list[float] | str | None:
    text = text.strip()
    if not text:
        return None
    try:
        return [float(x) for x in text.split(",")]
    except ValueError:
        return text


def _is_block(info: Any) -> bool:
    """Fields drawn across the full width (share tables, lists, pairs) rather than in a grid."""
    base, _ = _strip_optional(info.annotation)
    return typing.get_origin(base) in (dict, list) or (
        typing.get_origin(base) is tuple and len(typing.get_args(base)) == 2
    )


def _widget(section: str, field: str, info: Any) -> Any:
    """Draw one field's widget and return its value in the config-dict form."""
    base, optional = _strip_optional(info.annotation)
    origin = typing.get_origin(base)
    label = field.replace("_", " ")
    helptext = info.description
    key = _key(section, field)
    if isinstance(base, type) and issubclass(base, enum.Enum):
        return st.selectbox(label, [m.value for m in base], key=key, help=helptext)
    if origin is dict:
        st.markdown(f"**{label}** (shares, must sum to 1)")
        prefix = f"{key}."
        present = [k.removeprefix(prefix) for k in st.session_state if k.startswith(prefix)]
        keys = [k for k in _dict_keys(section, field, base, {}) if k in present]
        keys += sorted(set(present) - set(keys))
        cols = st.columns(min(4, max(1, len(keys))))
        return {
            k: cols[i % len(cols)].number_input(k, key=f"{prefix}{k}", step=0.05, format="%.3f")
            for i, k in enumerate(keys)
        }
    if origin is tuple and len(typing.get_args(base)) == 2:
        left, right = st.columns(2)
        start = left.number_input(f"{label}: start", key=f"{key}.0", step=1, help=helptext)
        end = right.number_input(f"{label}: end", key=f"{key}.1", step=1, help=helptext)
        return [start, end]
    if origin is tuple:
        return _parse_numbers(st.text_input(f"{label} (comma-separated)", key=key, help=helptext))
    if origin is list:
        item = typing.get_args(base)[0]
        if isinstance(item, type) and issubclass(item, enum.Enum):
            return st.multiselect(label, [m.value for m in item], key=key, help=helptext)
        text = st.text_area(f"{label} (one per line)", key=key, help=helptext)
        return [line.strip() for line in text.splitlines() if line.strip()]
    if base is dt.date:
        return st.date_input(label, key=key, help=helptext).isoformat()
    if base in (Path, str):
        text = st.text_input(label, key=key, help=helptext)
        return None if optional and not text.strip() else text
    if base is int:
        return st.number_input(label, key=key, step=1, help=helptext)
    if base is float:
        return st.number_input(label, key=key, format="%.4g", help=helptext)
    if base is bool:
        return st.checkbox(label, key=key, help=helptext)
    msg = f"no widget for config field {section}.{field} ({base!r})"
    raise TypeError(msg)


def validate(data: dict[str, Any]) -> tuple[StudioConfig | None, dict[str, list[str]]]:
    """The validated config, or ``None`` and errors keyed ``section`` / ``section.field``."""
    try:
        return StudioConfig.model_validate(data), {}
    except ValidationError as exc:
        errors: dict[str, list[str]] = {}
        for err in exc.errors():
            loc = [str(p) for p in err["loc"]]
            where = ".".join(loc[:2]) if loc else "config"
            text = str(err["msg"]).removeprefix("Value error, ")
            if len(loc) > 2:
                text = f"{'.'.join(loc[2:])}: {text}"
            errors.setdefault(where, []).append(text)
        return None, errors


def render_section(section: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Draw a section's widgets; return its values and an empty slot per field (and one
    for the whole section) where :func:`show_errors` writes validation errors.

    Single values sit in a grid of :data:`GRID_COLUMNS`; share tables and lists below it.
    """
    model = _section_model(section)
    slots: dict[str, Any] = {section: st.empty()}
    values: dict[str, Any] = {}
    fields = list(model.model_fields.items())
    grid = st.columns(GRID_COLUMNS)
    singles = [(f, i) for f, i in fields if not _is_block(i)]
    for n, (field, info) in enumerate(singles):
        with grid[n % GRID_COLUMNS]:
            values[field] = _widget(section, field, info)
            slots[f"{section}.{field}"] = st.empty()
    for field, info in fields:
        if _is_block(info):
            values[field] = _widget(section, field, info)
            slots[f"{section}.{field}"] = st.empty()
    return values, slots


def show_errors(errors: dict[str, list[str]], slots: dict[str, Any]) -> None:
    """Write each error into the slot of its field (or section), as an inline error box."""
    for where, texts in errors.items():
        slot = slots.get(where) or slots.get(where.split(".")[0])
        if slot is not None:
            slot.error("\n\n".join(f"**{where}**: {t}" for t in texts))
