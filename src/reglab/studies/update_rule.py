r"""update-rule: why adding a penalty to the cost shrinks the weights.

The book's regularized cost and the gradient-descent step it implies (n = training-set size,
η = learning rate, biases not penalized)::

    C = C0 + (λ/2n) Σ_w w²
    ∂C/∂w = ∂C0/∂w + (λ/n) w
    w ← w − η ∂C/∂w = (1 − ηλ/n) w − η ∂C0/∂w          (weight decay)
    b ← b − η ∂C0/∂b

The decay term −(ηλ/n) w always points from w towards 0, with a size proportional to |w|;
the data term −η ∂C0/∂w points wherever the data want. A tempting misreading adds the
penalty's *value* to every weight instead of subtracting its *gradient*::

    w ← w − η ∂C0/∂w + (ηλ/2n) Σ_w w²                   (mistaken: not a gradient step)

It pushes every weight up — a negative one towards and past zero, a positive one away from it —
by an amount that grows with the square of all the weights.

The regression parts fit y = −2 x₁ + 3 x₂ + 0.5 + ε by full-batch gradient descent on
C0 = (1/2n) Σ (w·x + b − y)²; with λ its minimizer is w = (X̃ᵀX̃ + λI)⁻¹X̃ᵀỹ (X̃, ỹ centred,
the bias unpenalized).
"""

from __future__ import annotations

import numpy as np
import torch
from matplotlib import colormaps
from matplotlib.figure import Figure

from reglab.experiments import Part, Table, num

NAME = "update-rule"
QUESTION = "Why does adding a penalty to the cost make the weights shrink, whatever their sign?"

DTYPE = torch.float64


def sigmoid_net(sizes: list[int], gen: torch.Generator) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Layers (W (n_out, n_in), b (n_out,)) drawn N(0, 1), the book's large initialization, in float64."""
    return [(torch.randn(n_out, n_in, generator=gen, dtype=DTYPE), torch.randn(n_out, generator=gen, dtype=DTYPE))
            for n_in, n_out in zip(sizes[:-1], sizes[1:])]


def cross_entropy_cost(layers, X: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    """C0 = (1/n) Σ_x Σ_j −y_j ln a_j − (1 − y_j) ln(1 − a_j) of a sigmoid network.  X (n, n_in), Y (n, n_out)."""
    a = X
    for W, b in layers:
        a = torch.sigmoid(a @ W.T + b)  # (n, n_out)
    return torch.nn.functional.binary_cross_entropy(a, Y, reduction="sum") / X.shape[0]


def random_problem(sizes: list[int], n: int, gen: torch.Generator):
    """Inputs N(0, 1) (n, n_in) and one-hot targets (n, n_out) of random classes."""
    X = torch.randn(n, sizes[0], generator=gen, dtype=DTYPE)
    Y = torch.nn.functional.one_hot(torch.randint(sizes[-1], (n,), generator=gen), sizes[-1]).to(DTYPE)
    return X, Y


# ---------------------------------------------------------------------------- 1. one step, autograd vs the rule


def measure_one_step(quick: bool, seed: int) -> dict:
    """One full-batch step on C0 + (λ/2n)Σw² by autograd, against (1 − ηλ/n)w − η∂C0/∂w."""
    gen = torch.Generator().manual_seed(seed)
    sizes, n, eta, lmbda = [4, 6, 3], 20, 0.5, 5.0
    layers = sigmoid_net(sizes, gen)
    X, Y = random_problem(sizes, n, gen)
    params = [t.requires_grad_() for layer in layers for t in layer]
    weights = params[0::2]

    cost = cross_entropy_cost(layers, X, Y) + lmbda / (2 * n) * sum((W**2).sum() for W in weights)
    grads_c = torch.autograd.grad(cost, params)
    grads_c0 = torch.autograd.grad(cross_entropy_cost(layers, X, Y), params)
    by_autograd = [p - eta * g for p, g in zip(params, grads_c)]
    by_rule = [(1 - eta * lmbda / n) * p - eta * g if i % 2 == 0 else p - eta * g  # weights decay, biases do not
               for i, (p, g) in enumerate(zip(params, grads_c0))]

    w = torch.cat([W.detach().flatten() for W in weights])
    diff_w = torch.cat([(a - r).detach().flatten() for a, r in list(zip(by_autograd, by_rule))[0::2]]).abs()
    diff_b = torch.cat([(a - r).detach().flatten() for a, r in list(zip(by_autograd, by_rule))[1::2]]).abs()
    return {
        "sizes": sizes, "n": n, "eta": eta, "lambda": lmbda, "decay_factor": 1 - eta * lmbda / n,
        "positive_weights": int((w > 0).sum()), "negative_weights": int((w < 0).sum()),
        "max_diff_positive": float(diff_w[w > 0].max()), "max_diff_negative": float(diff_w[w < 0].max()),
        "max_diff_biases": float(diff_b.max()),
    }


def findings_one_step(r: dict) -> list[str]:
    return [
        f"One gradient step on C0 + (λ/2n)Σw² computed by autograd (float64; a [{', '.join(map(str, r['sizes']))}] "
        f"sigmoid network, n = {r['n']}, η = {num(r['eta'])}, λ = {num(r['lambda'])}) equals "
        f"w ← (1 − ηλ/n) w − η ∂C0/∂w = {num(r['decay_factor'])}·w − η ∂C0/∂w to within "
        f"{num(r['max_diff_positive'])} on the {r['positive_weights']} positive weights and "
        f"{num(r['max_diff_negative'])} on the {r['negative_weights']} negative ones; the biases, not penalized, "
        f"to within {num(r['max_diff_biases'])}.",
    ] + ([
        f"So the penalty, although added to the cost, enters the step as a multiplication: every weight is first "
        f"scaled by {num(r['decay_factor'])}, towards 0 whatever its sign."
    ] if max(r["max_diff_positive"], r["max_diff_negative"]) < 1e-12 else [])


# ---------------------------------------------------------------------------- 2. where each term points


def measure_directions(quick: bool, seed: int) -> dict:
    """During full-batch training, how often the decay term and the data term point from w towards 0."""
    gen = torch.Generator().manual_seed(seed)
    sizes, n, eta, lmbda = [10, 30, 5], 200, 0.5, 5.0
    steps = 20 if quick else 200
    layers = sigmoid_net(sizes, gen)
    X, Y = random_problem(sizes, n, gen)
    params = [t.requires_grad_() for layer in layers for t in layer]
    toward = {"decay": 0, "data": 0}
    total = 0
    for _ in range(steps):
        grads = torch.autograd.grad(cross_entropy_cost(layers, X, Y), params)
        with torch.no_grad():
            w = torch.cat([p.flatten() for p in params[0::2]])  # (N,)
            data = torch.cat([-eta * g.flatten() for g in grads[0::2]])  # (N,)
            decay = -eta * lmbda / n * w
            toward["decay"] += int((decay * w < 0).sum())
            toward["data"] += int((data * w < 0).sum())
            total += w.numel()
            for i, (p, g) in enumerate(zip(params, grads)):
                p.mul_(1 - eta * lmbda / n if i % 2 == 0 else 1.0).sub_(eta * g)
    return {
        "sizes": sizes, "n": n, "eta": eta, "lambda": lmbda, "steps": steps, "weight_steps": total,
        "decay_over_w": [float((-decay / w).min()), float((-decay / w).max())],
        "decay_toward_zero": toward["decay"], "data_toward_zero": toward["data"],
        "last_w": w.tolist(), "last_decay": decay.tolist(), "last_data": data.tolist(),
    }


def findings_directions(r: dict) -> list[str]:
    total = r["weight_steps"]
    return [
        f"The decay term −(ηλ/n)w points towards 0 by construction: it is a positive multiple of −w, so it does "
        f"for every non-zero weight, whatever its sign (counted here as a check of the code, not as a finding: "
        f"{r['decay_toward_zero']} of {total} weight updates over {r['steps']} full-batch steps of a "
        f"[{', '.join(map(str, r['sizes']))}] network).",
        f"What is measured is the data term −η∂C0/∂w: it pointed towards 0 in {r['data_toward_zero']} of the "
        f"{total} updates ({num(100 * r['data_toward_zero'] / total)}%) and away from 0 in the rest — the data "
        f"pull either way; only the decay always pulls in.",
        f"The decay term's size is (ηλ/n)|w| for every weight of the last step: −decay/w lies between "
        f"{num(r['decay_over_w'][0], 6)} and {num(r['decay_over_w'][1], 6)} "
        f"(ηλ/n = {num(r['eta'] * r['lambda'] / r['n'], 6)}), "
        "the straight line in the figure; the data term scatters around it on both sides.",
    ]


def figures_directions(r: dict) -> dict[str, Figure]:
    fig = Figure(figsize=(7.5, 3.8), layout="constrained")
    ax = fig.subplots()
    ax.scatter(r["last_w"], r["last_data"], s=6, alpha=0.6, label="data term −η ∂C0/∂w")
    ax.scatter(r["last_w"], r["last_decay"], s=6, alpha=0.8, label="decay term −(ηλ/n) w")
    ax.axhline(0, color="0.6", lw=0.6)
    ax.axvline(0, color="0.6", lw=0.6)
    ax.set_xlabel("weight w")
    ax.set_ylabel("change of w in one step")
    ax.legend()
    fig.suptitle(f"The two terms of the update, every weight, step {r['steps']}")
    return {"update_terms": fig}


# ---------------------------------------------------------------------------- 3./4. a negative slope, two rules

TRUE_W, TRUE_B = (-2.0, 3.0), 0.5


def regression_data(seed: int, n: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """y = −2 x₁ + 3 x₂ + 0.5 + ε, x and ε ~ N(0, 1).  → X (n, 2), y (n,)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2))
    return X, X @ np.array(TRUE_W) + TRUE_B + rng.standard_normal(n)


def penalized_least_squares(X: np.ndarray, y: np.ndarray, lmbda: float) -> np.ndarray:
    """argmin over (w, b) of Σ(w·x + b − y)² + λ‖w‖² (b unpenalized): w = (X̃ᵀX̃ + λI)⁻¹X̃ᵀỹ, centred X̃, ỹ."""
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    return np.linalg.solve(Xc.T @ Xc + lmbda * np.eye(X.shape[1]), Xc.T @ yc)


def descend(X: np.ndarray, y: np.ndarray, lmbda: float, eta: float, steps: int, mistaken: bool) -> dict:
    """Full-batch gradient descent from w = 0, b = 0 with the decay rule or the mistaken one.

    ∂C0/∂w and ∂C0/∂b come from autograd on C0 = (1/2n)Σ(w·x + b − y)²; the penalty enters only
    through the rule. Stops early when a weight passes 1e6 (diverged).
    """
    n = len(y)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    w = torch.zeros(X.shape[1], dtype=DTYPE, requires_grad=True)
    b = torch.zeros((), dtype=DTYPE, requires_grad=True)
    path = [w.tolist()]
    diverged_at = None
    for t in range(1, steps + 1):
        gw, gb = torch.autograd.grad(0.5 * ((Xt @ w + b - yt) ** 2).mean(), (w, b))
        with torch.no_grad():
            if mistaken:
                w.add_(eta * lmbda / (2 * n) * (w**2).sum() - eta * gw)
            else:
                w.mul_(1 - eta * lmbda / n).sub_(eta * gw)
            b.sub_(eta * gb)
        path.append(w.tolist())
        if not torch.isfinite(w).all() or w.abs().max() > 1e6:
            diverged_at = t
            break
    path_arr = np.array(path)  # (steps + 1, 2)
    crossed = np.nonzero(path_arr[1:, 0] >= 0)[0]
    kept = np.unique(np.r_[np.arange(0, len(path_arr), max(1, len(path_arr) // 200)), len(path_arr) - 1])
    return {
        "lambda": lmbda, "final": path_arr[-1].tolist() if diverged_at is None else None,
        "diverged_at": diverged_at,
        "w1_first_nonnegative_step": int(crossed[0]) + 1 if len(crossed) else None,
        "path_steps": kept.tolist(), "path": path_arr[kept].tolist(),  # (≤ 201,), (≤ 201, 2)
    }


def _sweep(quick: bool, seed: int, mistaken: bool) -> dict:
    X, y = regression_data(seed)
    eta, steps = 0.2, (400 if quick else 1000)
    lmbdas = [0.0, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0]
    if not quick:
        lmbdas = sorted(lmbdas + [0.5, 3.0, 7.0, 100.0])
    runs = [descend(X, y, lm, eta, steps, mistaken) for lm in lmbdas]
    for run in runs:
        run["closed_form"] = penalized_least_squares(X, y, run["lambda"]).tolist()
    return {"n": len(y), "eta": eta, "steps": steps, "true_w": list(TRUE_W), "runs": runs}


def measure_correct(quick: bool, seed: int) -> dict:
    """The decay rule for a range of λ: w₁ (true −2) and w₂ (true 3) against the closed form."""
    return _sweep(quick, seed, mistaken=False)


def findings_correct(r: dict) -> list[str]:
    runs = r["runs"]
    w1 = [run["final"][0] for run in runs]
    w2 = [run["final"][1] for run in runs]
    neg_always = all(run["w1_first_nonnegative_step"] is None for run in runs)
    shrinks = all(abs(a) > abs(b) for a, b in zip(w1, w1[1:]))
    gap = max(np.abs(np.array(run["final"]) - run["closed_form"]).max() for run in runs)
    return [
        f"Trained by gradient descent with the decay rule (n = {r['n']}, η = {num(r['eta'])}, {r['steps']} steps), "
        f"the weight of the negative slope "
        + ("was negative at every step after the start (w = 0) for every λ" if neg_always
           else "did not stay negative for every λ")
        + f" and its magnitude {'fell' if shrinks else 'did not fall'} steadily with λ: "
        + ", ".join(f"{num(a)} at λ = {num(run['lambda'])}" for a, run in zip(w1, runs)) + ".",
        f"The positive weight {'shrank' if all(a > b for a, b in zip(w2, w2[1:])) else 'did not shrink'} steadily "
        f"as well: {num(w2[0])} at λ = 0, {num(w2[-1])} at λ = {num(runs[-1]['lambda'])}. "
        f"Both match the minimizer of Σ(w·x + b − y)² + λ‖w‖² to within {num(gap)}.",
    ]


def measure_mistaken(quick: bool, seed: int) -> dict:
    """The mistaken rule w ← w − η∂C0/∂w + (ηλ/2n)Σw² for the same λ, and one step's push at a few w."""
    out = _sweep(quick, seed, mistaken=True)
    n, eta, lmbda = out["n"], out["eta"], 10.0
    out["push"] = {"lambda": lmbda, "rows": [
        {"w": w, "decay": -eta * lmbda / n * w, "mistaken": eta * lmbda / (2 * n) * w**2}
        for w in (-3.0, -1.0, -0.1, 0.1, 1.0, 3.0)
    ]}
    return out


def findings_mistaken(r: dict) -> list[str]:
    push = r["push"]["rows"]
    runs = {run["lambda"]: run for run in r["runs"]}
    ref = runs[0.0]["final"]
    converged = [run for lm, run in runs.items() if lm > 0 and run["diverged_at"] is None]
    diverged = [run for lm, run in runs.items() if lm > 0 and run["diverged_at"] is not None]
    up = sum(p["mistaken"] > 0 for p in push)
    toward = sum(p["decay"] * p["w"] < 0 for p in push)
    out = [
        f"In one step at λ = {num(r['push']['lambda'])}, the mistaken term (ηλ/2n)w² was positive at {up} of the "
        f"{len(push)} weights tried: it moves the negative ones up, towards zero, and the positive ones up, away "
        f"from it, by an amount that grows as w² ({num(push[0]['mistaken'])} at w = {num(push[0]['w'])}, "
        f"{num(push[2]['mistaken'])} at w = {num(push[2]['w'])}). The decay term −(ηλ/n)w pointed to 0 at "
        f"{toward} of the {len(push)}.",
    ]
    if converged:
        grew = [run for run in converged if run["final"][1] > ref[1]]
        out.append(
            f"Trained with the mistaken rule, the positive weight ended larger than without any penalty "
            f"({num(ref[1])}) at {len(grew)} of the {len(converged)} λ > 0 that converged, e.g. "
            + ", ".join(f"{num(run['final'][1])} at λ = {num(run['lambda'])}" for run in converged[:3])
            + " — the opposite of shrinking, where the decay rule converges to "
            + ", ".join(f"{num(run['closed_form'][1])}" for run in converged[:3])
            + f". The negative weight moved up as well, to {num(converged[0]['final'][0])} at "
            f"λ = {num(converged[0]['lambda'])} (from {num(ref[0])}): the same upward push, which on a negative "
            "weight only looks like shrinking."
        )
    if diverged:
        first = diverged[0]
        cross = first["w1_first_nonnegative_step"]
        out.append(
            f"At λ = {', '.join(num(run['lambda']) for run in diverged)} ({len(diverged)} of the {len(runs) - 1} "
            f"values > 0) the weights diverged (|w| > 10⁶ at step {first['diverged_at']} for "
            f"λ = {num(first['lambda'])}); the negative weight, true "
            f"value {num(r['true_w'][0])}, was pushed up past zero "
            + (f"at step {cross}." if cross is not None else "— no: it stayed negative.")
        )
    return out


def tables_mistaken(r: dict) -> list[Table]:
    rows = tuple((p["w"], p["decay"], p["mistaken"]) for p in r["push"]["rows"])
    n, eta = r["n"], r["eta"]
    fit_rows = tuple(
        (run["lambda"], *run["closed_form"],
         *(run["final"] if run["final"] is not None else [f"diverged (step {run['diverged_at']})"] * 2))
        for run in r["runs"]
    )
    return [
        Table(f"What each rule adds to one weight in one step (λ = {num(r['push']['lambda'])}, n = {n}, η = {num(eta)})",
              ("w", "decay rule: −(ηλ/n)w", "mistaken: +(ηλ/2n)w²"), rows,
              note="For a single weight Σw² = w²; with many weights every weight receives the whole sum."),
        Table(f"Final weights after {r['steps']} steps (truth w₁ = {num(r['true_w'][0])}, w₂ = {num(r['true_w'][1])})",
              ("λ", "decay rule w₁", "decay rule w₂", "mistaken w₁", "mistaken w₂"), fit_rows,
              note="The decay rule's columns are its limit, the minimizer of Σ(w·x + b − y)² + λ‖w‖² "
                   "(gradient descent reaches it: see the part above)."),
    ]


def paths_figure(r: dict, coordinates: tuple[int, ...], ylabel: str, title: str) -> Figure:
    """Paths of the chosen weights (0: w₁ solid, 1: w₂ dashed) against the step, one colour per λ.

    λ is ordered, so the colours come from a sequential map (dark for λ = 0, light for the largest): with more
    values than a categorical cycle has colours, no two λ share one.
    """
    fig = Figure(figsize=(7.5, 4.0), layout="constrained")
    ax = fig.subplots()
    colors = colormaps["viridis"](np.linspace(0, 0.92, len(r["runs"])))
    for k, run in enumerate(r["runs"]):
        path = np.array(run["path"])  # (kept steps, 2)
        for j in coordinates:
            ax.plot(run["path_steps"], path[:, j], color=colors[k], ls="-" if j == 0 else "--",
                    label=f"λ = {num(run['lambda'])}" if j == coordinates[0] else None)
    ax.axhline(0, color="0.5", lw=0.6)
    ax.set_xscale("symlog", linthresh=10)
    ax.set_xlim(0, r["steps"])
    ax.set_xlabel("step (linear to 10, logarithmic beyond)")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8, ncols=2 if len(r["runs"]) > 6 else 1)
    fig.suptitle(title)
    return fig


def figures_correct(r: dict) -> dict[str, Figure]:
    return {"negative_slope": paths_figure(
        r, (0,), "w₁ (true −2)", "The weight of the negative slope, w₁, under the decay rule, for each λ")}


def figures_mistaken(r: dict) -> dict[str, Figure]:
    fig = paths_figure(r, (0, 1), "w₁ (solid), w₂ (dashed); asinh scale",
                       "w₁ and w₂ under the mistaken rule, for each λ")
    fig.axes[0].set_yscale("asinh", linear_width=1.0)  # divergence to 10⁶ and the start near ±2 both visible
    fig.axes[0].set_ylim(-3, 2e6)
    return {"mistaken_rule": fig}


PARTS = (
    Part("one_step", "One step: autograd on the penalized cost and the weight-decay rule", measure_one_step,
         findings_one_step),
    Part("directions", "Where the decay term and the data term point", measure_directions,
         findings_directions, figures=figures_directions),
    Part("correct", "A negative slope under the decay rule", measure_correct, findings_correct,
         figures=figures_correct),
    Part("mistaken", "The mistaken rule: adding the penalty's value to the weights", measure_mistaken,
         findings_mistaken, tables_mistaken, figures_mistaken),
)
