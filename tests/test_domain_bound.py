"""The domain bound as an option (issue 29): the search clamps counterfactuals to the data's
domain by default (method §4.5); ``domain_bound=False`` (search, TrainingConfig, EvalSetting,
experiment key) leaves them unclamped, as in the seed draft's initial grid (method §2.7)."""

from __future__ import annotations

import pytest
import torch

from cftrain import data
from cftrain.constraints import Constraints
from cftrain.evaluation import EvalSetting, benchmark_dataset
from cftrain.generators import Generic
from cftrain.models import build
from cftrain.pipeline import config as cfg
from cftrain.search import search
from cftrain.training import counterfactual_training
from cftrain.training_config import TrainingConfig
from workflow_helpers import ROOT

D = 4
#: a narrow domain that the search must leave to reach its target
CONSTRAINTS = Constraints(lower=-0.2 * torch.ones(D), upper=0.2 * torch.ones(D))


def _linear_model() -> torch.nn.Module:
    """A linear two-class model whose class 1 lies far outside [-0.2, 0.2]^D."""
    model = torch.nn.Linear(D, 2)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[0.0] * D, [1.0] * D]))
        model.bias.copy_(torch.tensor([0.0, -4.0]))
    return model


def _search(**kwargs):
    x = torch.zeros(8, D)
    target = torch.ones(8, dtype=torch.long)
    generator = Generic(lambda_cost=0.0)
    return search(
        _linear_model(),
        x,
        target,
        generator,
        CONSTRAINTS,
        tau=0.9,
        max_iter=100,
        step_size=0.5,
        keep_path=True,
        **kwargs,
    )


def _in_domain(points: torch.Tensor) -> bool:
    return bool(((points >= CONSTRAINTS.lower) & (points <= CONSTRAINTS.upper)).all())


def test_bound_on_keeps_every_counterfactual_and_step_in_the_domain():
    result = _search()
    assert _in_domain(result.counterfactuals) and _in_domain(result.path)
    assert not bool(result.converged.any())  # the target lies outside the domain


def test_bound_off_lets_the_search_leave_the_domain_unclamped():
    result = _search(domain_bound=False)
    assert not _in_domain(result.counterfactuals)
    assert bool(result.converged.all())
    # each step is the plain gradient step: nothing was clipped back
    steps = result.path[1:] - result.path[:-1]
    moving = steps.abs().sum(dim=-1) > 0
    assert bool(moving.any())
    assert float(result.counterfactuals.abs().max()) > 0.2


def test_bound_off_keeps_mutability():
    cons = Constraints(
        lower=CONSTRAINTS.lower,
        upper=CONSTRAINTS.upper,
        mutability=("none", "both", "both", "both"),
    )
    x = torch.zeros(8, D)
    target = torch.ones(8, dtype=torch.long)
    result = search(
        _linear_model(),
        x,
        target,
        Generic(lambda_cost=0.0),
        cons,
        tau=0.9,
        max_iter=100,
        step_size=0.5,
        domain_bound=False,
    )
    assert bool((result.counterfactuals[:, 0] == 0).all())
    assert float(result.counterfactuals[:, 1:].max()) > 0.2


def test_unbounded_constraints_drop_only_the_domain():
    cons = Constraints(lower=torch.zeros(2), upper=torch.ones(2), mutability=("none", "both"))
    free = cons.unbounded()
    assert free.lower is None and free.upper is None and free.mutability == cons.mutability


@pytest.mark.parametrize("bad", ["no", 0, 1, None])
def test_a_mistyped_bound_is_refused(bad):
    with pytest.raises((TypeError, ValueError), match="domain_bound"):
        TrainingConfig(domain_bound=bad)
    with pytest.raises((TypeError, ValueError), match="domain_bound"):
        EvalSetting(1.0, domain_bound=bad)
    with pytest.raises((TypeError, ValueError), match="domain_bound"):
        _search(domain_bound=bad)


def test_the_setting_draws_the_same_streams_with_the_bound_on_or_off():
    """The bound is not part of the repr that keys the evaluation's random streams, so the
    existing tables keep their draws and an on/off comparison is paired."""
    assert repr(EvalSetting(1.0)) == repr(EvalSetting(1.0, domain_bound=False))
    assert EvalSetting(1.0) != EvalSetting(1.0, domain_bound=False)


def test_training_and_evaluation_leave_the_domain_only_when_off():
    ds = data.load("lin_sep")
    domain_left = {}
    for bound in (True, False):
        config = TrainingConfig(
            nepochs=2,
            nce=60,
            generator="generic",
            lambda_cost=0.0,
            max_iter=20,
            tau=0.99,
            domain_bound=bound,
        )
        model = build("mlp", ds.n_features, ds.n_classes, seed=0)
        counterfactual_training(model, ds, config, quiet=True)
        setting = EvalSetting(
            1.0, generator="Generic", tau=0.999, max_iter=200, step_size=1.0, domain_bound=bound
        )
        table = benchmark_dataset(
            ds, {"m": model}, [setting], experiment="x", n_individuals=20, n_runs=1
        )
        domain_left[bound] = int(table["domain_left"].sum())
    assert domain_left[True] == 0
    assert domain_left[False] > 0


def test_the_experiment_key_reaches_the_jobs_and_is_checked():
    schema = cfg.load_yaml(ROOT / "workflow" / "schemas" / "experiment.schema.yaml")
    spec = {
        "datasets": ["lin_sep"],
        "train": {"fixed": {"domain_bound": False}},
        "evaluation": {"protocols": {"ecco": {"domain_bound": False}}},
    }
    exp = cfg.Experiment("x", cfg.validate(spec, schema, "x.yaml"))
    assert exp.training("lin_sep", "full", 0)["overrides"] == {"domain_bound": False}
    settings = exp.evaluation("lin_sep", "all", "ecco")["settings"]
    assert all(s["domain_bound"] is False for s in settings)
    assert all(EvalSetting(**s).domain_bound is False for s in settings)
    # unset, the settings stay as before (their digests name the recorded tables)
    default = cfg.Experiment("y", cfg.validate({"datasets": ["lin_sep"]}, schema, "y.yaml"))
    assert all(
        "domain_bound" not in s for s in default.evaluation("lin_sep", "all", "ecco")["settings"]
    )
    grid = {"objective": ["full", "vanilla"], "domain_bound": [True, False]}
    assert [c.id for c in cfg.expand_grid(grid)] == ["full_boundon", "full_boundoff", "vanilla"]
    for bad, words in [
        ({"train": {"fixed": {"domain_bound": "no"}}}, ["train.fixed.domain_bound", "boolean"]),
        ({"evaluation": {"protocols": {"ecco": {"domain_bond": False}}}}, ["domain_bond"]),
    ]:
        with pytest.raises(cfg.ConfigError) as err:
            cfg.validate({"datasets": ["lin_sep"], **bad}, schema, "bad.yaml")
        assert all(w in str(err.value) for w in ["bad.yaml", *words]), str(err.value)


def test_the_committed_explosions_run_gives_the_papers_macros():
    """The initial grid's section quotes benchmarks/results/explosions.json through macros."""
    import json

    from cftrain.pipeline.reporting.macros import explosion_macros, render

    path = ROOT / "benchmarks" / "results" / "explosions.json"
    macros = explosion_macros(json.loads(path.read_text())["figures"])
    assert "haveExplosions" in macros and macros["explosionsThreshold"] == "10^{6}"
    assert int(macros["explosionsTrainingsChanged"]) <= int(macros["explosionsTrainings"])
    render(macros, "test")  # letters-only names
    tex = (ROOT / "paper" / "sections" / "results.tex").read_text()
    assert not [m for m in macros if f"\\{m}" not in tex]  # each one is quoted
