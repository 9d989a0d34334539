"""Real tabular datasets (method §4.2): ``adult``, ``cali``, ``credit``, ``gmsc``.

Pipeline, in the reference's order (CE.jl ``dev/artifacts/tabular.qmd``, then TaijaData
``load_*(n; train_test_split=0.8, shuffle=false)``):

1. Read the raw file (§4.2 raw-file notes) and derive the binary target.
2. CH, Credit, GMSC: random undersampling to balance, MLUtils-style — ``min_c n_c``
   rows drawn without replacement from every class, then the kept rows **shuffled**
   (``undersample(...; shuffle=true)``). Adult is not balanced.
3. No reshuffle: the first ``round(0.8·N)`` rows are the train+val portion, the rest test.
4. Standardise every numeric column with the train portion's mean and sample std
   (``Standardizer(count=true)``); one-hot encode the categorical columns with all
   levels, no level dropped, in place of the original column (``ContinuousEncoder``).

Decisions:
* The undersampling draw uses the data seed (the reference ran it unseeded, once).
* One-hot levels are those present in the whole (balanced) file, as MLJ's categorical
  pool is coerced before the split; levels are sorted (Adult: by name, "?" being its own
  level; Credit: by code), so the order inside a group can differ from the reference's.
* Feature names keep each source's spelling (``age`` for Adult and GMSC, ``AGE`` for
  Credit, sklearn's ``HouseAge`` for CH); one-hot columns are named ``column=level``.
  Protected features (method §4.7) are resolved from these names.
* A constant numeric column would only be centred (never happens with these files).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cftrain.data.bundle import Dataset
from cftrain.data.splits import assemble, stream

TRAIN_SHARE = 0.8

ADULT_NUMERIC = ("age", "fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week")
ADULT_COLUMNS = (
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education-num",
    "marital-status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital-gain",
    "capital-loss",
    "hours-per-week",
    "native-country",
)
ADULT_CATEGORICAL = tuple(c for c in ADULT_COLUMNS if c not in ADULT_NUMERIC)


def read_adult(path: Path) -> tuple[pd.DataFrame, np.ndarray]:
    """UCI ``adult.data``: no header, ", "-separated; target 1 iff income >50K."""
    frame = pd.read_csv(path, header=None, names=[*ADULT_COLUMNS, "income"], skipinitialspace=True)
    y = (frame.pop("income") == ">50K").to_numpy(np.int64)
    return frame, y


def read_cali(path: Path) -> tuple[pd.DataFrame, np.ndarray]:
    """Raw 1990 census file → sklearn's eight features; target 1 iff value ≥ median."""
    (lon, lat, age, rooms, bedrooms, population, households, income, value) = np.loadtxt(
        path, delimiter=","
    ).T
    frame = pd.DataFrame(
        {
            "MedInc": income,
            "HouseAge": age,
            "AveRooms": rooms / households,
            "AveBedrms": bedrooms / households,
            "Population": population,
            "AveOccup": population / households,
            "Latitude": lat,
            "Longitude": lon,
        }
    )
    target = value / 100000.0  # sklearn's unit, compared with its median as the reference did
    return frame, (target >= np.median(target)).astype(np.int64)


def read_credit(path: Path) -> tuple[pd.DataFrame, np.ndarray]:
    """``UCI_Credit_Card.csv`` without ID; target 1 iff no default next month."""
    frame = pd.read_csv(path).drop(columns="ID")
    y = 1 - frame.pop("default.payment.next.month").to_numpy(np.int64)
    return frame, y


def read_gmsc(path: Path) -> tuple[pd.DataFrame, np.ndarray]:
    """Kaggle ``cs-training.csv`` minus index column and NA rows; 1 iff no delinquency."""
    frame = pd.read_csv(path, index_col=0).dropna().reset_index(drop=True)
    y = 1 - frame.pop("SeriousDlqin2yrs").to_numpy(np.int64)
    return frame, y


@dataclass(frozen=True)
class TabularSpec:
    """How one real dataset is read and processed; ``sizes`` = method §0 (n_train, n_val)."""

    raw: str
    read: Callable[[Path], tuple[pd.DataFrame, np.ndarray]]
    balance: bool
    protected: str
    sizes: tuple[int, int]
    about: str
    categorical: tuple[str, ...] = ()


SPECS: dict[str, TabularSpec] = {
    "adult": TabularSpec(
        "adult/adult.data",
        read_adult,
        balance=False,
        protected="age",
        sizes=(25049, 1000),
        about="UCI Adult (adult.data, training file; 1 = income >50K), not balanced",
        categorical=ADULT_CATEGORICAL,
    ),
    "cali": TabularSpec(
        "california_housing/cal_housing.data",
        read_cali,
        balance=True,
        protected="HouseAge",
        sizes=(15504, 1000),
        about="California Housing (1990 census via sklearn; 1 = value ≥ median), balanced",
    ),
    "credit": TabularSpec(
        "credit_default/UCI_Credit_Card.csv",
        read_credit,
        balance=True,
        protected="AGE",
        sizes=(9617, 1000),
        about="Default of Credit Card Clients (UCI/Kaggle CSV; 1 = no default), balanced",
        categorical=("SEX", "EDUCATION", "MARRIAGE"),
    ),
    "gmsc": TabularSpec(
        "give_me_some_credit/cs-training.csv",
        read_gmsc,
        balance=True,
        protected="age",
        sizes=(12371, 1000),
        about="Give Me Some Credit (Kaggle cs-training.csv, NA rows dropped; "
        "1 = no serious delinquency), balanced",
    ),
}


def undersample(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Row indices of a class-balanced random subset, in random order."""
    k = np.bincount(y).min()
    keep = [rng.choice(np.flatnonzero(y == c), size=k, replace=False) for c in np.unique(y)]
    return rng.permutation(np.concatenate(keep))


def encode(
    frame: pd.DataFrame, categorical: tuple[str, ...], n_fit: int
) -> tuple[np.ndarray, list[str], tuple[tuple[int, ...], ...]]:
    """Standardise numeric columns on the first ``n_fit`` rows; one-hot the categorical ones."""
    columns: list[np.ndarray] = []
    names: list[str] = []
    groups: list[tuple[int, ...]] = []
    for col in frame.columns:
        values = frame[col]
        if col in categorical:
            start = len(names)
            for level in sorted(values.unique()):
                columns.append((values == level).to_numpy(np.float64))
                names.append(f"{col}={level}")
            groups.append(tuple(range(start, len(names))))
        else:
            v = values.to_numpy(np.float64)
            mu, sd = v[:n_fit].mean(), v[:n_fit].std(ddof=1)
            columns.append((v - mu) / (sd if sd > 0 else 1.0))
            names.append(col)
    return np.column_stack(columns), names, tuple(groups)


def build(name: str, path: Path, *, n_sigma: float, seed: int, split_seed: int) -> Dataset:
    """Real tabular dataset ``name`` from its verified raw file."""
    spec = SPECS[name]
    frame, y = spec.read(path)
    if spec.balance:
        rows = undersample(y, stream(seed, "undersample"))
        frame, y = frame.iloc[rows].reset_index(drop=True), y[rows]
    return from_rows(name, frame, y, n_sigma=n_sigma, split_seed=split_seed)


def from_rows(
    name: str, frame: pd.DataFrame, y: np.ndarray, *, n_sigma: float, split_seed: int
) -> Dataset:
    """Dataset ``name`` from rows that are already balanced and in their final order (steps
    3–4 of the pipeline): what :func:`build` does after the undersampling draw."""
    spec = SPECS[name]
    n_fit = round(TRAIN_SHARE * y.size)
    x, names, groups = encode(frame, spec.categorical, n_fit)
    return assemble(
        name,
        (x[:n_fit], y[:n_fit]),
        (x[n_fit:], y[n_fit:]),
        feature_names=names,
        protected=(spec.protected,),
        sizes=spec.sizes,
        n_sigma=n_sigma,
        split_seed=split_seed,
        about=spec.about,
        categorical=groups,
    )


#: the reference's preprocessed rows (CE.jl's ``data-tabular`` artifact; method §4.2) by
#: dataset, as paths in the raw layout (:mod:`cftrain.data.acquire` pins them)
REFERENCE_FILES = {
    "cali": "reference/cal_housing.csv",
    "credit": "reference/credit_default.csv",
    "gmsc": "reference/gmsc.csv",
}
#: where the rows of CH, Credit and GMSC come from: the reference's balanced rows (default,
#: the reference's undersampling draw) or this project's draw from the raw files
ROWS = ("reference", "raw")


def read_reference_rows(name: str, path: Path) -> tuple[pd.DataFrame, np.ndarray]:
    """The rows of the reference's own preprocessed file of ``name`` (balanced, in the order
    its train/test split used, a ``target`` column), with our reader's column names."""
    table = pd.read_csv(path)
    if "target" not in table.columns:
        raise ValueError(f"{path}: no 'target' column; columns are {list(table.columns)}")
    frame = table.drop(columns="target")
    if name == "cali":
        frame = frame.astype(np.float64)
    return frame, table["target"].to_numpy(np.int64)


def build_reference(name: str, path: Path, *, n_sigma: float, split_seed: int) -> Dataset:
    """Dataset ``name`` from the reference's preprocessed rows: its undersampling draw and
    row order, then steps 3–4 exactly as for our own draw."""
    return from_rows(name, *read_reference_rows(name, path), n_sigma=n_sigma, split_seed=split_seed)
