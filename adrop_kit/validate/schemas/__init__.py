"""pandera models of Adrop's event catalog, for polars (`pandera.polars`); pandas: `schemas.pandas`.

    import pandera.polars as pa
    from pandera.typing.polars import DataFrame
    from adrop_kit.validate.schemas import Purchase, Events

    @pa.check_types
    def revenue(purchases: DataFrame[Purchase]) -> float: ...

    Events.validate(df, lazy=True)          # a frame of mixed events; SchemaErrors.failure_cases

One `DataFrameModel` per catalog event (`Purchase`, `AddToCart`, … named from the event) and `Events`
for a frame of mixed events, generated from the catalog (`spec/catalog.py`) on first use; a tracking
plan's at run time: `models_for(plan)` (`models_for(plan).LevelUp`, `models_for(plan)["level_up"]`).
Columns are typed (`typed_schema`: strings `String`, numbers `Float64`, integers `Int64`, `items` a
`List(Struct)`), and each check sits on the column its rule is about, named with the rule id, its
`error` the rule id and the message a report gives (see `schemas.plan`); warnings are checks with
`raise_warning=True`, so they warn (`SchemaWarning`) and never fail validation (`warnings="fail"`
makes them fail too). `dataset_schema()` / `for_event(name)` are the same models' `DataFrameSchema`s.

`engine="pandera"` of `validate_events` runs these schemas on each batch (`schemas.engine`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal

import polars as pl

from adrop_kit.spec.catalog import STANDARD, Catalog, resolve
from adrop_kit.validate.checks import DEFAULT_EXTRA_COLUMNS
from adrop_kit.validate.schemas.plan import SchemaCheck, SchemaPlan, class_name, typed_schema

Warnings = Literal["warn", "fail"]
DATASET_MODEL = "Events"
"""The class name of the model of a frame of mixed events."""


def pandera_polars() -> Any:
    """`pandera.polars`, or an ImportError saying what to install."""
    try:
        import pandera.polars as pa
    except ImportError as exc:  # pragma: no cover - pandera is a dependency
        raise ImportError("adrop_kit.validate.schemas needs pandera with polars support: "
                          "pip install 'pandera[polars]'") from exc
    return pa


def _method(sc: SchemaCheck, warnings: Warnings) -> Any:
    pa = pandera_polars()

    def check(cls: Any, data: Any) -> pl.LazyFrame:
        return sc.passes(data.lazyframe)

    check.__doc__ = sc.error
    kwargs = {"name": sc.rule.value, "error": sc.error, "statistics": {"adrop_key": sc.key}, "ignore_na": False,
              "raise_warning": sc.severity == "warning" and warnings == "warn"}
    if sc.column is None:
        return pa.dataframe_check(**kwargs)(check)
    return pa.check(sc.column, **kwargs)(check)


def build_model(plan: SchemaPlan, name: str, *, warnings: Warnings = "warn", pa: Any = None,
                field_dtype: Any = None, method: Any = None, module: str = __name__) -> type:
    """A `pa.DataFrameModel` subclass (default: `pandera.polars`'s) for `plan`: one field per column
    (`field_dtype(polars_dtype)` gives the annotation), one check method (`method(check, warnings)`) per check."""
    pa = pa if pa is not None else pandera_polars()
    method = method if method is not None else _method
    annotations: dict[str, Any] = {}
    ns: dict[str, Any] = {"__module__": module, "__qualname__": name, "__annotations__": annotations}
    for column, dtype in plan.columns.items():
        annotations[column] = field_dtype(dtype) if field_dtype is not None else dtype
        ns[column] = pa.Field(nullable=True, required=False)
    for i, sc in enumerate(plan.checks):
        ns[f"check_{i}_{sc.rule.value}"] = method(sc, warnings)
    what = f"rows of {plan.events[0]}" if plan.events and len(plan.events) == 1 else "a frame of mixed events"
    ns["__doc__"] = f"pandera model of {what}, generated from the catalog ({plan.catalog.source})."
    ns["Config"] = type("Config", (), {"name": name, "strict": False, "coerce": False})
    model = type(name, (pa.DataFrameModel,), ns)
    model.__adrop_plan__ = plan  # what it checks, for tools (the engine reads it)
    return model


class Models(Mapping[str, type]):
    """The models of one catalog: by event name (`models["add_to_cart"]`), by class name
    (`models.AddToCart`), and `models.Events` (`DATASET_MODEL`) for a frame of mixed events."""

    def __init__(self, catalog: Catalog, build: Any) -> None:
        self.catalog = catalog
        self._build = build
        self._by_event: dict[str, type] = {}
        self._names = {class_name(e): e for e in catalog.names}

    def __getitem__(self, event: str) -> type:
        if event not in self._by_event:
            self._by_event[event] = self._build(self.catalog[event].name)
        return self._by_event[event]

    def __iter__(self) -> Iterator[str]:
        return iter(self.catalog.names)

    def __len__(self) -> int:
        return len(self.catalog)

    @property
    def class_names(self) -> tuple[str, ...]:
        return (*self._names, DATASET_MODEL)

    def __getattr__(self, name: str) -> type:
        if name == DATASET_MODEL:
            if None not in self._by_event:
                self._by_event[None] = self._build(None)  # type: ignore[index]
            return self._by_event[None]  # type: ignore[index]
        if name.startswith("_") or name not in self._names:
            raise AttributeError(f"no model {name!r}; models: {', '.join(self.class_names)}")
        return self[self._names[name]]

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *self.class_names})


_MODELS: dict[tuple, tuple[Catalog, Models]] = {}


def models_for(catalog: Catalog | str | None = None, *, strict: bool = False,
               extra_columns: Sequence[str] = DEFAULT_EXTRA_COLUMNS, warnings: Warnings = "warn",
               backend: Literal["polars", "pandas"] = "polars") -> Models:
    """The models of a catalog (a `Catalog`, a tracking plan's path, None: the standard one), for
    `pandera.polars` or (`backend="pandas"`) `pandera.pandas`."""
    if backend not in ("polars", "pandas"):
        raise ValueError(f"backend must be 'polars' or 'pandas', not {backend!r}")
    if warnings not in ("warn", "fail"):
        raise ValueError(f"warnings must be 'warn' or 'fail', not {warnings!r}")
    cat = resolve(catalog)
    key = (id(cat), strict, tuple(extra_columns), warnings, backend)
    hit = _MODELS.get(key)
    if hit is None or hit[0] is not cat:
        def build(event: str | None) -> type:
            plan = SchemaPlan(cat, events=None if event is None else [event], strict=strict,
                              extra_columns=extra_columns)
            name = class_name(event) if event else DATASET_MODEL
            if backend == "pandas":
                from adrop_kit.validate.schemas.pandas import build_pandas_model

                return build_pandas_model(plan, name, warnings=warnings)
            return build_model(plan, name, warnings=warnings)

        if len(_MODELS) > 32:
            _MODELS.clear()
        hit = _MODELS[key] = (cat, Models(cat, build))
    return hit[1]


def dataset_schema(*, catalog: Catalog | str | None = None, strict: bool = False,
                   events: Sequence[str] | None = None, extra_columns: Sequence[str] = DEFAULT_EXTRA_COLUMNS,
                   warnings: Warnings = "warn") -> Any:
    """A `pandera.polars.DataFrameSchema` for a frame of mixed events (or of `events` only)."""
    if events is not None and len(events) != 1:
        plan = SchemaPlan(resolve(catalog), events=events, strict=strict, extra_columns=extra_columns)
        return build_model(plan, "Events_" + "_".join(class_name(e) for e in events), warnings=warnings).to_schema()
    models = models_for(catalog, strict=strict, extra_columns=extra_columns, warnings=warnings)
    return (models[events[0]] if events else models.Events).to_schema()


def for_event(name: str, *, catalog: Catalog | str | None = None, strict: bool = False,
              warnings: Warnings = "warn") -> Any:
    """The `pandera.polars.DataFrameSchema` of rows of one event, e.g. `for_event("purchase")`."""
    return dataset_schema(catalog=catalog, strict=strict, events=[name], warnings=warnings)


STANDARD_MODELS = tuple(class_name(e) for e in STANDARD.names)
"""The class names of the standard catalog's event models (`Purchase`, `AddToCart`…)."""


def standard_models(namespace: dict[str, Any], build: Any) -> tuple[Any, Any]:
    """A module's `__getattr__` and `__dir__` giving the standard catalog's models (`Purchase`, `Events`…)
    by name, built by `build()` on first use and then kept in `namespace` (the module's globals)."""
    names = {*STANDARD_MODELS, DATASET_MODEL}

    def getattr_(name: str) -> type:
        if name in names:
            model = namespace[name] = getattr(build(), name)
            return model
        raise AttributeError(f"module {namespace['__name__']!r} has no attribute {name!r}")

    return getattr_, lambda: sorted({*namespace, *names})


__getattr__, __dir__ = standard_models(globals(), models_for)


__all__ = ["DATASET_MODEL", "STANDARD_MODELS", "Models", "build_model", "dataset_schema", "for_event", "models_for",
           "standard_models", "typed_schema", DATASET_MODEL, *STANDARD_MODELS]
