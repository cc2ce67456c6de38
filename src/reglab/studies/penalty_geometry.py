r"""penalty-geometry: why L2 prefers ``[0.5, 0.5]`` to ``[1, 0]``, L1 does not, and L1 lands on exact zeros.

The two penalties, without their strength λ (the book writes them (λ/n)Σ|w| and (λ/2n)Σw²)::

    L1(w) = Σ_j |w_j|        pull on w_j:  ∂L1/∂w_j      = sgn(w_j)   the same for every non-zero weight
    L2(w) = Σ_j w_j²         pull on w_j:  ∂(½L2)/∂w_j   = w_j        fades as w_j → 0

Three parts:

1. *penalties*: L1 and L2 of a few vectors and their pulls (by autograd).
2. *constrained*: minimize a 2-D quadratic loss Q(w) = ½ (w − w*)ᵀ A (w − w*) over the
   L1 ball ‖w‖₁ ≤ t and the L2 ball ‖w‖₂ ≤ t, for a range of budgets t, by projected
   gradient descent w ← P_t(w − ∇Q(w)/L) (exact projections), checked against
   scipy's SLSQP. With A = [[1, ρ], [ρ, 1]] and w* = [a, b], a > b > 0, the KKT
   conditions put the L1 optimum on the corner [t, 0] exactly when t ≤ a − b.
3. *duplicated*: least squares with two identical columns X = [x, x]. The loss
   depends on w₁ + w₂ only; for a given sum s, w₁² + w₂² is smallest at w₁ = w₂ = s/2,
   while |w₁| + |w₂| = |s| for every split of one sign: ridge must split the weight
   equally, lasso is indifferent and scikit-learn's coordinate descent puts it all on one column.
"""

from __future__ import annotations

import numpy as np
import torch
from matplotlib.figure import Figure

from reglab.experiments import Part, Table, num

NAME = "penalty-geometry"
QUESTION = "Why does L2 prefer the weights [0.5, 0.5] to [1, 0] when L1 does not, and why does L1 give exact zeros?"


# ---------------------------------------------------------------------------- 1. penalties of a few vectors

VECTORS = ([1.0, 0.0], [0.5, 0.5], [1.0, 0.1], [100.0, 10.0])


def measure_penalties(quick: bool, seed: int) -> dict:
    """L1, L2 and their pulls (gradients by autograd) for :data:`VECTORS`; both penalties along w₁ + w₂ = 1."""
    rows = []
    for v in VECTORS:
        w = torch.tensor(v, dtype=torch.float64, requires_grad=True)
        (pull_l1,) = torch.autograd.grad(w.abs().sum(), w)  # sgn(w), with sgn(0) = 0
        (pull_l2,) = torch.autograd.grad(0.5 * (w**2).sum(), w)  # w
        rows.append({
            "w": v,
            "l1": float(w.detach().abs().sum()),
            "l2": float((w.detach() ** 2).sum()),
            "pull_l1": pull_l1.tolist(),
            "pull_l2": pull_l2.tolist(),
        })
    s = np.linspace(0.0, 1.0, 101)  # w = [1 − s, s]
    seg = np.stack([1 - s, s], axis=1)  # (101, 2)
    l1, l2 = np.abs(seg).sum(axis=1), (seg**2).sum(axis=1)
    return {
        "vectors": rows,
        "segment": {"s": s.tolist(), "l1": l1.tolist(), "l2": l2.tolist(), "l2_argmin_w": seg[np.argmin(l2)].tolist()},
    }


def findings_penalties(r: dict) -> list[str]:
    by_w = {tuple(row["w"]): row for row in r["vectors"]}
    one, half, small, big = (by_w[tuple(v)] for v in VECTORS)
    seg = r["segment"]
    pull_ratio = small["pull_l2"][0] / small["pull_l2"][1]
    return [
        f"[1, 0] and [0.5, 0.5] have the same L1 penalty ({num(one['l1'])} and {num(half['l1'])}), but L2 "
        f"charges {num(half['l2'])} for [0.5, 0.5] against {num(one['l2'])} for [1, 0]: spreading the weight "
        f"divides the L2 penalty by {num(one['l2'] / half['l2'])} and leaves L1 as it is.",
        "Along the whole segment from [1, 0] to [0, 1] (w₁ + w₂ = 1), L1 "
        + (f"is {num(min(seg['l1']))} at every point" if min(seg["l1"]) == max(seg["l1"]) else
           f"ranges from {num(min(seg['l1']))} to {num(max(seg['l1']))}")
        + f", while L2 is smallest at [{num(seg['l2_argmin_w'][0])}, "
        f"{num(seg['l2_argmin_w'][1])}] ({num(min(seg['l2']))}).",
        f"[100, 10] is [1, 0.1] scaled by 100: its L1 penalty is {num(big['l1'] / small['l1'])} times larger "
        f"({num(small['l1'])} → {num(big['l1'])}), its L2 penalty {num(big['l2'] / small['l2'])} times "
        f"({num(small['l2'])} → {num(big['l2'])}). L2 grows with the square of the scale: it is large weights it fights.",
        f"On [1, 0.1], L2 pulls the small coordinate with {num(small['pull_l2'][1])}, {num(pull_ratio)} times "
        f"more weakly than the large one ({num(small['pull_l2'][0])}); L1 pulls both with "
        f"{num(small['pull_l1'][0])} and {num(small['pull_l1'][1])}. L2's pull fades as a weight nears zero, "
        "so it does not push it there; L1's does not fade.",
    ]


def tables_penalties(r: dict) -> list[Table]:
    vec = lambda v: "[" + ", ".join(num(x) for x in v) + "]"  # noqa: E731
    rows = tuple(
        (vec(row["w"]), row["l1"], row["l2"], vec(row["pull_l1"]), vec(row["pull_l2"])) for row in r["vectors"]
    )
    return [Table(
        "Penalties and their pulls (gradients, by autograd)",
        ("w", "L1 = Σ|w|", "L2 = Σw²", "∂L1/∂w = sgn(w)", "∂(½L2)/∂w = w"),
        rows,
    )]


def figures_penalties(r: dict) -> dict[str, Figure]:
    seg = r["segment"]
    fig = Figure(figsize=(6.5, 3.4), layout="constrained")
    ax = fig.subplots()
    ax.plot(seg["s"], seg["l1"], label="L1 = |w₁| + |w₂|")
    ax.plot(seg["s"], seg["l2"], label="L2 = w₁² + w₂²")
    ax.set_xlabel("s, with w = [1 − s, s]")
    ax.set_ylabel("penalty")
    ax.set_ylim(0, 1.15)
    ax.legend(loc="lower center")
    fig.suptitle("L1 and L2 penalties along the segment w₁ + w₂ = 1")
    return {"penalty_segment": fig}


# ---------------------------------------------------------------------------- 2. constrained optima


def project_l1(v: np.ndarray, t: float) -> np.ndarray:
    """Euclidean projection onto {w : ‖w‖₁ ≤ t} (Duchi et al., 2008): soft-threshold by θ chosen so ‖w‖₁ = t.

    The ``max(|v| − θ, 0)`` makes the small coordinates exactly zero.
    """
    if np.abs(v).sum() <= t:
        return v.copy()
    u = np.sort(np.abs(v))[::-1]
    css = np.cumsum(u)
    j = np.arange(1, len(u) + 1)
    rho = np.nonzero(u > (css - t) / j)[0][-1]
    theta = (css[rho] - t) / (rho + 1)
    return np.sign(v) * np.maximum(np.abs(v) - theta, 0.0)


def project_l2(v: np.ndarray, t: float) -> np.ndarray:
    """Euclidean projection onto {w : ‖w‖₂ ≤ t}: rescale when outside."""
    norm = np.linalg.norm(v)
    return v if norm <= t else v * (t / norm)


def projected_gradient(A: np.ndarray, w_star: np.ndarray, project, t: float, max_steps: int = 100_000) -> np.ndarray:
    """argmin over the ball of Q(w) = ½ (w − w*)ᵀ A (w − w*), by w ← P(w − ∇Q/L), L = λ_max(A), from w = 0."""
    step = 1.0 / np.linalg.eigvalsh(A)[-1]
    w = np.zeros_like(w_star)
    for _ in range(max_steps):
        new = project(w - step * A @ (w - w_star), t)
        if np.max(np.abs(new - w)) < 1e-15:
            return new
        w = new
    return w


def slsqp(A: np.ndarray, w_star: np.ndarray, kind: str, t: float) -> np.ndarray:
    """The same constrained optimum by scipy's SLSQP: an independent check (smooth constraints only).

    L1 is made smooth by splitting w = u − v, u, v ≥ 0, with Σ(u + v) ≤ t.
    """
    from scipy.optimize import minimize

    q = lambda w: 0.5 * (w - w_star) @ A @ (w - w_star)  # noqa: E731
    opts = {"ftol": 1e-15, "maxiter": 1000}
    if kind == "l1":
        res = minimize(
            lambda z: q(z[:2] - z[2:]),
            np.zeros(4),
            jac=lambda z: np.concatenate([A @ (z[:2] - z[2:] - w_star), -A @ (z[:2] - z[2:] - w_star)]),
            bounds=[(0, None)] * 4,
            constraints=[{"type": "ineq", "fun": lambda z: t - z.sum(), "jac": lambda z: -np.ones(4)}],
            method="SLSQP",
            options=opts,
        )
        return res.x[:2] - res.x[2:]
    res = minimize(
        q, np.zeros(2), jac=lambda w: A @ (w - w_star),
        constraints=[{"type": "ineq", "fun": lambda w: t**2 - w @ w, "jac": lambda w: -2 * w}],
        method="SLSQP", options=opts,
    )
    return res.x


def measure_constrained(quick: bool, seed: int) -> dict:
    """Constrained optima over L1 and L2 balls for ``n_budgets`` budgets below the unconstrained norm of w*."""
    rng = np.random.default_rng(seed)
    a, b, rho = rng.uniform(1.5, 2.5), rng.uniform(0.4, 0.9), rng.uniform(0.2, 0.6)
    w_star = np.array([a, b])  # (2,)
    A = np.array([[1.0, rho], [rho, 1.0]])  # (2, 2), positive definite for |ρ| < 1
    n_budgets = 12 if quick else 60
    frac = np.arange(1, n_budgets + 1) / (n_budgets + 1)  # budgets strictly inside the ball's reach
    out: dict = {"w_star": w_star.tolist(), "A": A.tolist(), "corner_budget_kkt": a - b}
    for kind, project, norm in (("l1", project_l1, np.abs(w_star).sum()), ("l2", project_l2, np.linalg.norm(w_star))):
        budgets = (frac * norm).tolist()
        w = np.array([projected_gradient(A, w_star, project, t) for t in budgets])  # (n_budgets, 2)
        check = np.array([slsqp(A, w_star, kind, t) for t in budgets])  # (n_budgets, 2)
        out[kind] = {
            "budgets": budgets,
            "w": w.tolist(),
            "exact_zero": (w == 0.0).any(axis=1).tolist(),
            "smallest_abs_w": float(np.abs(w).min()),
            "max_gap_to_slsqp": float(np.abs(w - check).max()),
        }
    return out


def findings_constrained(r: dict) -> list[str]:
    l1, l2 = r["l1"], r["l2"]
    n = len(l1["budgets"])
    zeros = [t for t, z in zip(l1["budgets"], l1["exact_zero"]) if z]
    nonzeros = [t for t, z in zip(l1["budgets"], l1["exact_zero"]) if not z]
    t_kkt = r["corner_budget_kkt"]
    agree = all(t <= t_kkt for t in zeros) and all(t > t_kkt for t in nonzeros)
    a, b = r["w_star"]
    out = [
        f"Over the L1 ball, {sum(l1['exact_zero'])} of {n} budgets gave an optimum with one coordinate exactly 0 "
        f"(on a corner of the ball); over the L2 ball {sum(l2['exact_zero'])} of {n} did, its smallest |w| "
        f"being {num(l2['smallest_abs_w'])}.",
        f"The KKT conditions put the L1 optimum on the corner exactly for budgets t ≤ a − b = {num(t_kkt)} "
        f"(w* = [{num(a)}, {num(b)}]); the measured corners "
        + ("match that: every budget up to it, none above it." if agree else
           f"do not match it (corners at t = {', '.join(num(t) for t in zeros)}).")
    ]
    out.append(
        f"Projected gradient and scipy's SLSQP agree to {num(max(l1['max_gap_to_slsqp'], l2['max_gap_to_slsqp']))} "
        "(largest coordinate difference over all budgets of both balls)."
    )
    return out


def figures_constrained(r: dict) -> dict[str, Figure]:
    w_star, A = np.array(r["w_star"]), np.array(r["A"])
    lim = 1.25 * np.abs(w_star).max()
    g = np.linspace(-0.35 * lim, lim, 200)
    W1, W2 = np.meshgrid(g, g)  # (200, 200) each
    D = np.stack([W1 - w_star[0], W2 - w_star[1]])  # (2, 200, 200)
    Q = 0.5 * np.einsum("iab,ij,jab->ab", D, A, D)
    fig = Figure(figsize=(9.5, 4.4), layout="constrained")
    axes = fig.subplots(1, 2)
    theta = np.linspace(0, 2 * np.pi, 400)
    for ax, kind, title in ((axes[0], "l1", "L1 ball ‖w‖₁ ≤ t"), (axes[1], "l2", "L2 ball ‖w‖₂ ≤ t")):
        ax.contour(W1, W2, Q, levels=np.quantile(Q, [0.01, 0.04, 0.1, 0.2, 0.35, 0.5]), colors="0.6", linewidths=0.8)
        res = r[kind]
        for t in res["budgets"][len(res["budgets"]) // 4 :: len(res["budgets"]) // 4]:
            if kind == "l1":
                ax.plot(t * np.array([1, 0, -1, 0, 1]), t * np.array([0, 1, 0, -1, 0]), color="C0", lw=0.8)
            else:
                ax.plot(t * np.cos(theta), t * np.sin(theta), color="C0", lw=0.8)
        w, zero = np.array(res["w"]), np.array(res["exact_zero"])
        ax.plot(w[:, 0], w[:, 1], color="k", lw=0.8)
        ax.scatter(w[~zero, 0], w[~zero, 1], s=14, color="k", zorder=3, label="optimum, both ≠ 0")
        if zero.any():
            ax.scatter(w[zero, 0], w[zero, 1], s=22, color="C3", zorder=4, label="optimum with an exact 0")
        ax.plot(*w_star, marker="*", ms=12, color="C1", ls="none", label="w* (unconstrained)")
        ax.axhline(0, color="0.8", lw=0.6)
        ax.axvline(0, color="0.8", lw=0.6)
        ax.set_xlim(g[0], g[-1])
        ax.set_ylim(g[0], g[-1])
        ax.set_aspect("equal")
        ax.set_title(title)
        ax.set_xlabel("w₁")
        ax.set_ylabel("w₂")
        ax.legend(loc="upper left", fontsize=8)
    fig.suptitle("Contours of the loss, balls of a few budgets, and the constrained optima for every budget")
    return {"constrained_optima": fig}


# ---------------------------------------------------------------------------- 3. two identical features


def measure_duplicated(quick: bool, seed: int) -> dict:
    """Ridge and lasso on y = 3x + ε with the design [x, x], over ``repeats`` data sets.

    Objectives (scikit-learn's units): ridge ‖y − Xw‖² + α‖w‖², lasso (1/2n)‖y − Xw‖² + α‖w‖₁.
    Each is also evaluated at the other split of the same total weight — all on one column
    for ridge, the equal split for lasso — to show whether the split matters to it.
    """
    from sklearn.linear_model import Lasso, Ridge

    rng = np.random.default_rng(seed)
    n, repeats, alpha_ridge, alpha_lasso = 200, (5 if quick else 50), 10.0, 0.1
    rows = []
    for _ in range(repeats):
        x = rng.standard_normal(n)  # (n,)
        y = 3.0 * x + rng.standard_normal(n)  # (n,)
        X = np.stack([x, x], axis=1)  # (n, 2): two identical features
        w_r = Ridge(alpha=alpha_ridge, fit_intercept=False, solver="cholesky").fit(X, y).coef_
        w_l = Lasso(alpha=alpha_lasso, fit_intercept=False, tol=1e-12, max_iter=100_000).fit(X, y).coef_
        def ridge_obj(w: np.ndarray, X: np.ndarray = X, y: np.ndarray = y) -> float:
            return float(np.sum((y - X @ w) ** 2) + alpha_ridge * w @ w)

        def lasso_obj(w: np.ndarray, X: np.ndarray = X, y: np.ndarray = y) -> float:
            return float(np.sum((y - X @ w) ** 2) / (2 * n) + alpha_lasso * np.abs(w).sum())

        rows.append({
            "ridge": w_r.tolist(),
            "lasso": w_l.tolist(),
            "ridge_objective": ridge_obj(w_r),
            "ridge_objective_all_on_one": ridge_obj(np.array([w_r.sum(), 0.0])),
            "lasso_objective": lasso_obj(w_l),
            "lasso_objective_split": lasso_obj(np.full(2, w_l.sum() / 2)),
        })
    ridge = np.array([row["ridge"] for row in rows])  # (repeats, 2)
    lasso = np.array([row["lasso"] for row in rows])  # (repeats, 2)
    return {
        "n": n, "alpha_ridge": alpha_ridge, "alpha_lasso": alpha_lasso, "fits": rows,
        "ridge_max_abs_difference": float(np.abs(ridge[:, 0] - ridge[:, 1]).max()),
        "ridge_exact_zeros": int((ridge == 0.0).sum()),
        "lasso_fits_with_one_exact_zero": int(((lasso == 0.0).sum(axis=1) == 1).sum()),
        "lasso_max_minor_share": float((np.abs(lasso).min(axis=1) / np.abs(lasso).sum(axis=1)).max()),
        "lasso_nonzero_column": [int(np.argmax(np.abs(w))) for w in lasso],
        "lasso_split_objective_gap": float(max(abs(r["lasso_objective_split"] - r["lasso_objective"]) for r in rows)),
        "ridge_one_column_penalty_gap": float(min(r["ridge_objective_all_on_one"] - r["ridge_objective"] for r in rows)),
    }


def findings_duplicated(r: dict) -> list[str]:
    fits, first = r["fits"], r["fits"][0]
    cols = sorted(set(r["lasso_nonzero_column"]))
    return [
        f"Ridge (α = {num(r['alpha_ridge'])}) "
        + ("split the weight equally" if r["ridge_max_abs_difference"] < 1e-6 else "did not split the weight equally")
        + f" over {len(fits)} fits: "
        f"[{num(first['ridge'][0], 6)}, {num(first['ridge'][1], 6)}] in the first, the largest |w₁ − w₂| "
        f"being {num(r['ridge_max_abs_difference'])}.",
        f"Lasso (α = {num(r['alpha_lasso'])}) put the weight on one column: [{num(first['lasso'][0])}, "
        f"{num(first['lasso'][1])}] in the first fit; over all {len(fits)} fits the other column got at most a "
        f"share of {num(r['lasso_max_minor_share'])} of the total (exactly 0 in "
        f"{r['lasso_fits_with_one_exact_zero']}, rounding noise in the others). The column kept: "
        f"{' and '.join(f'feature {c + 1}' for c in cols)}, the first that coordinate descent visits.",
        f"Why: splitting lasso's weight equally changes its objective by at most {num(r['lasso_split_objective_gap'])} "
        + ("(a tie, broken by the solver)" if r["lasso_split_objective_gap"] < 1e-12 else "")
        + ", while moving ridge's weight onto one column raises its objective by at "
        f"least {num(r['ridge_one_column_penalty_gap'])}.",
    ]


def tables_duplicated(r: dict) -> list[Table]:
    rows = tuple(
        (i + 1, f["ridge"][0], f["ridge"][1], f["lasso"][0], f["lasso"][1]) for i, f in enumerate(r["fits"][:10])
    )
    return [Table(
        "Coefficients on two identical features (first fits)",
        ("data set", "ridge w₁", "ridge w₂", "lasso w₁", "lasso w₂"),
        rows,
        note=f"y = 3x + ε, n = {r['n']}, design [x, x]; scikit-learn Ridge and Lasso without intercept.",
    )]


PARTS = (
    Part("penalties", "L1 and L2 penalties of a few weight vectors", measure_penalties, findings_penalties,
         tables_penalties, figures_penalties),
    Part("constrained", "Constrained optima of a quadratic loss", measure_constrained, findings_constrained,
         figures=figures_constrained),
    Part("duplicated", "Two identical features: ridge and lasso", measure_duplicated,
         findings_duplicated, tables_duplicated),
)
