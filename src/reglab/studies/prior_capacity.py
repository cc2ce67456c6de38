r"""prior-capacity: L2 as a Gaussian prior, L1 as a Laplace prior, and L2 as reduced capacity.

Linear model y = Xw + ε, ε ~ N(0, σ² I), X of shape (n, p). Units are scikit-learn's Ridge:
the ridge estimate minimizes ‖y − Xw‖² + λ‖w‖² (a sum, not a mean), so

    ŵ_ridge = (XᵀX + λI)⁻¹ Xᵀ y.

Prior and posterior. With w ~ N(0, (σ²/λ) I),

    log p(w | y) = −‖y − Xw‖²/(2σ²) − λ‖w‖²/(2σ²) + const,

whose maximum (the MAP) is ŵ_ridge. With a Laplace prior p(w_j) ∝ exp(−|w_j|/b),

    −log p(w | y) = ‖y − Xw‖²/(2σ²) + ‖w‖₁/b + const
                  ∝ (1/2n)‖y − Xw‖² + (σ²/(n b)) ‖w‖₁,

which is scikit-learn's Lasso with ``alpha = σ²/(n b)``.

Capacity. The fitted values are ŷ = H y with H = X(XᵀX + λI)⁻¹Xᵀ; the effective degrees of
freedom are df(λ) = tr H = Σ_i d_i²/(d_i² + λ) (d_i the singular values of X): p at λ = 0, → 0 as λ → ∞.
A prior centred at c (penalty λ‖w − c‖²) gives ŵ_c = (XᵀX + λI)⁻¹(Xᵀy + λc): ŷ moves with y
through the same H, so the same df — the same capacity — but a different bias.

Evidence. scikit-learn's BayesianRidge estimates the noise precision ``alpha_`` = 1/σ² and the weight
precision ``lambda_`` = 1/τ² by maximizing the marginal likelihood; in Ridge units λ = lambda_/alpha_.

A network. The same reading holds for an MLP trained with L2 in the book's units: with the log-likelihood
(softmax) cost, ``n·C = −Σ_x log p(y_x | x, w) + (λ/2)Σw² = −log p(w | D) − (N/2)·log(2π/λ)`` for the prior
``w ~ N(0, 1/λ)`` on each of the N weights and a flat prior on the biases: L2 training searches for the MAP.
The study checks the identity against ``torch.distributions`` (values and gradients), lets an independent
optimizer (L-BFGS) find the posterior's maximum from reglab's trained weights, and measures one thing the
prior implies for the weights into a layer: on two identical inputs a unit's weights get the same data
gradient, so their difference only decays, by ``1 − ηλ/n`` per step — L2 equalizes the reliance on inputs that
carry the same information (as ridge does for two identical columns, see ``penalty-geometry``).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from matplotlib.figure import Figure

from reglab.experiments import Part, Table, num

NAME = "prior-capacity"
QUESTION = (
    "In what sense is L2 a Gaussian prior (and L1 a Laplace prior), and in what sense does it reduce the "
    "capacity of a model?"
)


def ridge(X: np.ndarray, y: np.ndarray, lmbda: float, centre: np.ndarray | None = None) -> np.ndarray:
    """argmin ‖y − Xw‖² + λ‖w − c‖² = (XᵀX + λI)⁻¹(Xᵀy + λc), c = 0 unless given.

    X (n, p), y (n,), c (p,) → (p,).
    """
    p = X.shape[1]
    c = np.zeros(p) if centre is None else centre
    return np.linalg.solve(X.T @ X + lmbda * np.eye(p), X.T @ y + lmbda * c)


def effective_df(X: np.ndarray, lmbdas: np.ndarray) -> np.ndarray:
    """df(λ) = tr X(XᵀX + λI)⁻¹Xᵀ for each λ, by the trace itself (not the singular values).  → (L,)."""
    p = X.shape[1]
    return np.array([np.trace(X @ np.linalg.solve(X.T @ X + lm * np.eye(p), X.T)) for lm in lmbdas])


# ---------------------------------------------------------------------------- 1. ridge = Gaussian MAP


def map_gaussian(X: np.ndarray, y: np.ndarray, sigma: float, lmbda: float) -> tuple[np.ndarray, int]:
    """Maximize the log posterior under w ~ N(0, σ²/λ), written with ``torch.distributions``, by Newton's method.

    Nothing of the ridge formula is used: only the two log densities, and their gradient g and
    Hessian H by autograd (float64); w ← w − H⁻¹g from w = 0 until the step is below 1e-15.
    (The log posterior is quadratic, so Newton needs one or two steps.)
    Returns the MAP and the number of Newton steps.
    """
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    # float64 tensors: a Python float here would make the distribution float32
    likelihood_sd = torch.tensor(sigma, dtype=torch.float64)
    prior_sd = torch.tensor(sigma / np.sqrt(lmbda), dtype=torch.float64)
    zero = torch.tensor(0.0, dtype=torch.float64)

    def neg_log_posterior(w: torch.Tensor) -> torch.Tensor:
        return -(torch.distributions.Normal(Xt @ w, likelihood_sd).log_prob(yt).sum()
                 + torch.distributions.Normal(zero, prior_sd).log_prob(w).sum())

    w = torch.zeros(X.shape[1], dtype=torch.float64)
    for steps in range(1, 51):  # noqa: B007  (the count is returned after the loop)
        g = torch.func.grad(neg_log_posterior)(w)  # (p,)
        H = torch.func.hessian(neg_log_posterior)(w)  # (p, p)
        step = torch.linalg.solve(H, g)
        w = w - step
        if step.abs().max() < 1e-15:
            break
    return w.numpy(), steps


def measure_gaussian(quick: bool, seed: int) -> dict:
    """Ridge (closed form and scikit-learn) against the Gaussian-prior MAP, for several λ and data sets."""
    from sklearn.linear_model import Ridge

    rng = np.random.default_rng(seed)
    n, p, sigma = 50, 10, 1.0
    rows = []
    for _ in range(1 if quick else 5):
        X = rng.standard_normal((n, p))  # (n, p)
        y = X @ rng.standard_normal(p) + sigma * rng.standard_normal(n)  # (n,)
        for lmbda in (0.1, 1.0, 10.0, 100.0):
            closed = ridge(X, y, lmbda)
            sk = Ridge(alpha=lmbda, fit_intercept=False, solver="cholesky").fit(X, y).coef_
            w_map, steps = map_gaussian(X, y, sigma, lmbda)
            rows.append({
                "lambda": lmbda,
                "prior_sd": sigma / np.sqrt(lmbda),
                "map_vs_closed": float(np.abs(w_map - closed).max()),
                "newton_steps": steps,
                "sklearn_vs_closed": float(np.abs(sk - closed).max()),
                "norm": float(np.linalg.norm(closed)),
            })
    return {"n": n, "p": p, "sigma": sigma, "fits": rows,
            "max_map_vs_closed": max(r["map_vs_closed"] for r in rows),
            "max_sklearn_vs_closed": max(r["sklearn_vs_closed"] for r in rows)}


def findings_gaussian(r: dict) -> list[str]:
    fits = r["fits"]
    return [
        f"Maximizing the log posterior under the prior w ~ N(0, σ²/λ) (Newton's method on the log densities with "
        f"autograd, no ridge formula; at most {max(f['newton_steps'] for f in fits)} steps) gave the closed-form "
        f"ridge solution (XᵀX + λI)⁻¹Xᵀy to within {num(r['max_map_vs_closed'])} "
        f"(largest coordinate difference over {len(fits)} fits, λ from {num(min(f['lambda'] for f in fits))} to "
        f"{num(max(f['lambda'] for f in fits))}); scikit-learn's Ridge(alpha=λ) agrees to "
        f"{num(r['max_sklearn_vs_closed'])}.",
        "Read the other way: λ = σ²/τ² for a prior standard deviation τ — a stronger penalty is a narrower prior "
        f"(τ = {num(max(f['prior_sd'] for f in fits))} at the smallest λ, {num(min(f['prior_sd'] for f in fits))} "
        "at the largest, with σ = " + num(r["sigma"]) + ").",
    ]


def tables_gaussian(r: dict) -> list[Table]:
    rows = tuple((f["lambda"], f["prior_sd"], f["norm"], f["map_vs_closed"], f["sklearn_vs_closed"])
                 for f in r["fits"][:8])
    return [Table("Ridge against the Gaussian-prior MAP (first data set)",
                  ("λ", "prior sd σ/√λ", "‖ŵ‖", "max |MAP − ridge|", "max |sklearn − ridge|"), rows,
                  note=f"n = {r['n']}, p = {r['p']}, σ = {num(r['sigma'])}.")]


# ---------------------------------------------------------------------------- 2. lasso = Laplace MAP


def map_laplace(X: np.ndarray, y: np.ndarray, sigma: float, b: float) -> np.ndarray:
    """Minimize −log p(w | y) = ‖y − Xw‖²/(2σ²) + ‖w‖₁/b by L-BFGS-B with w = u − v, u, v ≥ 0.

    The split makes the objective smooth (Σ(u + v) = ‖w‖₁ at the optimum); coordinates that the
    prior wins land on the bound 0 exactly.
    """
    from scipy.optimize import minimize

    p = X.shape[1]

    def f(z):
        w = z[:p] - z[p:]
        r = y - X @ w
        g = -X.T @ r / sigma**2
        return r @ r / (2 * sigma**2) + z.sum() / b, np.concatenate([g + 1 / b, -g + 1 / b])

    res = minimize(f, np.zeros(2 * p), jac=True, method="L-BFGS-B", bounds=[(0, None)] * (2 * p),
                   options={"ftol": 1e-16, "gtol": 1e-13, "maxiter": 20_000, "maxcor": 30})
    return res.x[:p] - res.x[p:]


def log_posterior_laplace(X, y, w, sigma, b) -> float:
    """log N(y; Xw, σ²) + Σ log Laplace(w_j; 0, b), from scipy.stats (a check independent of both optimizers)."""
    from scipy.stats import laplace, norm

    return float(norm.logpdf(y, loc=X @ w, scale=sigma).sum() + laplace.logpdf(w, scale=b).sum())


def measure_laplace(quick: bool, seed: int) -> dict:
    """Lasso(alpha = σ²/(n b)) against the Laplace-prior MAP on data from a sparse truth."""
    from sklearn.linear_model import Lasso

    rng = np.random.default_rng(seed)
    n, p, sigma = 50, 10, 1.0
    w_true = np.zeros(p)
    w_true[:3] = [3.0, -2.0, 1.5]  # three useful features, seven useless
    rows = []
    for _ in range(1 if quick else 5):
        X = rng.standard_normal((n, p))  # (n, p)
        y = X @ w_true + sigma * rng.standard_normal(n)  # (n,)
        for b in (0.05, 0.2, 1.0):
            alpha = sigma**2 / (n * b)
            w_lasso = Lasso(alpha=alpha, fit_intercept=False, tol=1e-14, max_iter=1_000_000).fit(X, y).coef_
            w_map = map_laplace(X, y, sigma, b)
            rows.append({
                "b": b, "alpha": alpha,
                "max_abs_difference": float(np.abs(w_lasso - w_map).max()),
                "zeros_lasso": int((w_lasso == 0).sum()), "zeros_map": int((w_map == 0).sum()),
                "same_zeros": bool(np.array_equal(w_lasso == 0, w_map == 0)),
                "log_posterior_gap": log_posterior_laplace(X, y, w_map, sigma, b)
                - log_posterior_laplace(X, y, w_lasso, sigma, b),
            })
    return {"n": n, "p": p, "sigma": sigma, "fits": rows,
            "max_abs_difference": max(r["max_abs_difference"] for r in rows),
            "all_same_zeros": all(r["same_zeros"] for r in rows)}


def findings_laplace(r: dict) -> list[str]:
    fits = r["fits"]
    f0 = fits[1] if len(fits) > 1 else fits[0]
    gap = max(abs(f["log_posterior_gap"]) for f in fits)
    return [
        f"Maximizing the log posterior under a Laplace prior of scale b (L-BFGS-B, no scikit-learn) gave "
        f"scikit-learn's Lasso with alpha = σ²/(n b) to within {num(r['max_abs_difference'])} over {len(fits)} fits "
        f"(b from {num(min(f['b'] for f in fits))} to {num(max(f['b'] for f in fits))}); their log posteriors "
        f"differ by at most {num(gap)}.",
        f"Both put exact zeros on the same coordinates in {sum(f['same_zeros'] for f in fits)} of {len(fits)} fits; "
        f"at b = {num(f0['b'])} (alpha = {num(f0['alpha'])}) Lasso zeroed {f0['zeros_lasso']} and the MAP "
        f"{f0['zeros_map']} of the {r['p']} weights (the truth has {r['p'] - 3} zeros).",
    ]


def tables_laplace(r: dict) -> list[Table]:
    rows = tuple((f["b"], f["alpha"], f["max_abs_difference"], f["zeros_lasso"], f["zeros_map"], f["log_posterior_gap"])
                 for f in r["fits"][:6])
    return [Table("Lasso against the Laplace-prior MAP",
                  ("prior scale b", "Lasso alpha = σ²/(nb)", "max |Δw|", "zeros (Lasso)", "zeros (MAP)",
                   "log-posterior gap"), rows,
                  note=f"n = {r['n']}, p = {r['p']}, σ = {num(r['sigma'])}; truth [3, −2, 1.5, 0, …, 0].")]


# ---------------------------------------------------------------------------- 3. capacity: df and train/test


def measure_capacity(quick: bool, seed: int) -> dict:
    """df(λ) and mean training and test error of ridge against λ, on small data (n close to p)."""
    rng = np.random.default_rng(seed)
    n, p, n_test, sigma, tau = 30, 20, 2000, 1.0, 1.0
    repeats = 20 if quick else 200
    lmbdas = np.logspace(-3, 4, 29 if quick else 57)  # (L,)
    train = np.zeros((repeats, len(lmbdas)))
    test = np.zeros((repeats, len(lmbdas)))
    for k in range(repeats):
        w_true = tau * rng.standard_normal(p)  # (p,) drawn from N(0, τ²)
        X, Xt = rng.standard_normal((n, p)), rng.standard_normal((n_test, p))  # (n, p), (n_test, p)
        y, yt = X @ w_true + sigma * rng.standard_normal(n), Xt @ w_true + sigma * rng.standard_normal(n_test)
        for j, lm in enumerate(lmbdas):
            w = ridge(X, y, lm)
            train[k, j] = np.mean((y - X @ w) ** 2)
            test[k, j] = np.mean((yt - Xt @ w) ** 2)
        if k == 0:
            df_trace = effective_df(X, lmbdas)
            d = np.linalg.svd(X, compute_uv=False)  # (p,)
            df_svd = (d[:, None] ** 2 / (d[:, None] ** 2 + lmbdas)).sum(axis=0)
    mean_test = test.mean(axis=0)
    best = int(np.argmin(mean_test))
    return {
        "n": n, "p": p, "n_test": n_test, "sigma": sigma, "tau": tau, "oracle": sigma**2 / tau**2, "repeats": repeats,
        "lambdas": lmbdas.tolist(), "df": df_trace.tolist(),
        "df_trace_vs_svd": float(np.abs(df_trace - df_svd).max()),
        "train": train.mean(axis=0).tolist(), "test": mean_test.tolist(),
        "test_sem": (test.std(axis=0, ddof=1) / np.sqrt(repeats)).tolist(),
        "train_monotone_in_every_repeat": bool((np.diff(train, axis=1) >= -1e-12).all()),
        "best_index": best,
    }


def findings_capacity(r: dict) -> list[str]:
    lm, df, train, test, b = r["lambdas"], r["df"], r["train"], r["test"], r["best_index"]
    where = "inside the grid" if 0 < b < len(lm) - 1 else "at an end of the grid"
    return [
        f"The effective degrees of freedom tr X(XᵀX + λI)⁻¹Xᵀ fall from {num(df[0])} at λ = {num(lm[0])} "
        f"(p = {r['p']} weights) to {num(df[-1])} at λ = {num(lm[-1])}; the trace and Σ d²/(d² + λ) agree to "
        f"{num(r['df_trace_vs_svd'])}.",
        f"Training error {'rose' if r['train_monotone_in_every_repeat'] else 'did not rise'} with λ in every one "
        f"of {r['repeats']} data sets (mean {num(train[0])} at the smallest λ, {num(train[-1])} at the largest).",
        f"Test error (n = {r['n']} training points, p = {r['p']}) is lowest at λ = {num(lm[b])}, {where}: "
        f"{num(test[b])} against {num(test[0])} at λ = {num(lm[0])} and {num(test[-1])} at λ = {num(lm[-1])}; "
        f"there the model uses {num(df[b])} of its {r['p']} degrees of freedom.",
        f"The data were drawn with weights w ~ N(0, τ²), τ = {num(r['tau'])}, and noise σ = {num(r['sigma'])}: the "
        f"prior those weights came from is the Gaussian whose MAP is ridge with λ = σ²/τ² = {num(r['oracle'])}, "
        + ("and the λ of the lowest test error is that one: the two views, prior and capacity, meet there."
           if abs(math.log10(lm[b] / r["oracle"])) <= 0.5 * math.log10(lm[1] / lm[0]) + 1e-12 else
           f"and the λ of the lowest test error, {num(lm[b])}, is {num(lm[b] / r['oracle'])}× that one."),
    ]


def figures_capacity(r: dict) -> dict[str, Figure]:
    lm = np.array(r["lambdas"])
    fig = Figure(figsize=(9.5, 3.6), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    ax1.semilogx(lm, r["df"])
    ax1.axhline(r["p"], color="0.7", ls="--", lw=0.8)
    ax1.set_xlabel("λ")
    ax1.set_ylabel("effective degrees of freedom")
    ax1.set_title("df(λ) = tr X(XᵀX + λI)⁻¹Xᵀ")
    sem = np.array(r["test_sem"])
    ax2.loglog(lm, r["train"], label="training")
    ax2.loglog(lm, r["test"], label="test")
    ax2.fill_between(lm, np.array(r["test"]) - sem, np.array(r["test"]) + sem, alpha=0.25, color="C1")
    ax2.axvline(lm[r["best_index"]], color="C1", ls=":", lw=1, label=f"lowest test error, λ = {num(lm[r['best_index']])}")
    ax2.axvline(r["oracle"], color="k", ls="--", lw=0.8, label=f"σ²/τ² = {num(r['oracle'])}, the prior's λ")
    ax2.set_xlabel("λ")
    ax2.set_ylabel("mean squared error")
    ax2.set_title(f"n = {r['n']}, p = {r['p']}, mean of {r['repeats']} data sets")
    ax2.legend()
    fig.suptitle("Capacity against λ: degrees of freedom, training and test error")
    return {"capacity": fig}


# ---------------------------------------------------------------------------- 4. a prior centred away from zero


def measure_centred(quick: bool, seed: int) -> dict:
    """Priors centred at 0 and at c: same df (Jacobian of ŷ in y), test error when the truth is near 0 or near c."""
    rng = np.random.default_rng(seed)
    n, p, n_test, sigma, spread = 30, 20, 2000, 1.0, 0.3
    repeats = 20 if quick else 200
    lmbdas = np.logspace(-2, 3, 21 if quick else 41)  # (L,)
    c = rng.standard_normal(p)  # (p,) the off-zero centre, fixed
    X0 = rng.standard_normal((n, p))
    y0 = X0 @ c + sigma * rng.standard_normal(n)

    def jacobian_trace(lm, centre):
        """tr ∂ŷ/∂y by perturbing each y_i (ŷ is affine in y: exact up to rounding)."""
        base = X0 @ ridge(X0, y0, lm, centre)
        return sum((X0 @ ridge(X0, y0 + np.eye(n)[i], lm, centre) - base)[i] for i in range(n))

    df_zero = np.array([jacobian_trace(lm, None) for lm in lmbdas])
    df_c = np.array([jacobian_trace(lm, c) for lm in lmbdas])
    out: dict = {"n": n, "p": p, "sigma": sigma, "spread": spread, "repeats": repeats, "lambdas": lmbdas.tolist(),
                 "centre_norm": float(np.linalg.norm(c)), "df_zero": df_zero.tolist(), "df_c": df_c.tolist(),
                 "df_max_difference": float(np.abs(df_zero - df_c).max())}
    for truth in ("near_zero", "near_c"):
        err = np.zeros((2, repeats, len(lmbdas)))  # (prior at 0 | prior at c, repeat, λ)
        for k in range(repeats):
            w_true = (0 if truth == "near_zero" else c) + spread * rng.standard_normal(p)
            X, Xt = rng.standard_normal((n, p)), rng.standard_normal((n_test, p))
            y, yt = X @ w_true + sigma * rng.standard_normal(n), Xt @ w_true + sigma * rng.standard_normal(n_test)
            for j, lm in enumerate(lmbdas):
                for i, centre in enumerate((None, c)):
                    err[i, k, j] = np.mean((yt - Xt @ ridge(X, y, lm, centre)) ** 2)
        mean = err.mean(axis=1)  # (2, L)
        out[truth] = {"test_prior_zero": mean[0].tolist(), "test_prior_c": mean[1].tolist(),
                      "best_prior_zero": float(mean[0].min()), "best_prior_c": float(mean[1].min()),
                      "lambda_best_prior_zero": float(lmbdas[mean[0].argmin()]),
                      "lambda_best_prior_c": float(lmbdas[mean[1].argmin()])}
    return out


def findings_centred(r: dict) -> list[str]:
    z, c = r["near_zero"], r["near_c"]
    better = lambda a, b: "better" if a < b else "not better"  # noqa: E731
    return [
        f"A prior centred at c (penalty λ‖w − c‖², ‖c‖ = {num(r['centre_norm'])}) has "
        + ("the same" if r["df_max_difference"] < 1e-8 else "different")
        + " effective degrees of freedom as one centred at 0: tr ∂ŷ/∂y, measured by perturbing each y_i, "
        "differs by at most "
        f"{num(r['df_max_difference'])} over {len(r['lambdas'])} values of λ.",
        f"When the truth is near 0 (w = 0 + {num(r['spread'])}·N(0, 1)), the prior at 0 reaches a test error of "
        f"{num(z['best_prior_zero'])} (best λ = {num(z['lambda_best_prior_zero'])}) and the prior at c only "
        f"{num(z['best_prior_c'])} (best λ = {num(z['lambda_best_prior_c'])}): centring at 0 generalizes "
        f"{better(z['best_prior_zero'], z['best_prior_c'])}.",
        f"When the truth is near c (w = c + {num(r['spread'])}·N(0, 1)), the prior at c reaches "
        f"{num(c['best_prior_c'])} (best λ = {num(c['lambda_best_prior_c'])}) against {num(c['best_prior_zero'])} "
        f"for the prior at 0: centring at c generalizes {better(c['best_prior_c'], c['best_prior_zero'])}"
        + ("; with the capacity equal, where the prior is centred decided which generalizes better."
           if z["best_prior_zero"] < z["best_prior_c"] and c["best_prior_c"] < c["best_prior_zero"] else "."),
    ]


def figures_centred(r: dict) -> dict[str, Figure]:
    lm = np.array(r["lambdas"])
    fig = Figure(figsize=(9.5, 3.6), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    for ax, truth, title in ((axes[0], "near_zero", "truth near 0"), (axes[1], "near_c", "truth near c")):
        ax.semilogx(lm, r[truth]["test_prior_zero"], label="prior centred at 0")
        ax.semilogx(lm, r[truth]["test_prior_c"], label="prior centred at c")
        ax.set_title(title)
        ax.set_xlabel("λ")
    axes[0].set_ylabel("test mean squared error")
    axes[0].set_yscale("log")
    axes[0].legend()
    fig.suptitle(f"Test error of the priors centred at 0 and at c (mean of {r['repeats']} data sets)")
    return {"centred_prior": fig}


# ---------------------------------------------------------------------------- 5. evidence against cross-validation


def measure_evidence(quick: bool, seed: int) -> dict:
    """BayesianRidge's evidence-maximizing λ = lambda_/alpha_ beside RidgeCV's leave-one-out λ and σ²/τ²."""
    from sklearn.linear_model import BayesianRidge, Ridge, RidgeCV

    rng = np.random.default_rng(seed)
    n, p, n_test, sigma, tau = 100, 20, 2000, 1.0, 0.5
    grid = np.logspace(-3, 4, 141)
    rows = []
    for _ in range(3 if quick else 30):
        w_true = tau * rng.standard_normal(p)  # drawn from the prior N(0, τ²): the Bayes-optimal λ is σ²/τ²
        X, Xt = rng.standard_normal((n, p)), rng.standard_normal((n_test, p))
        y, yt = X @ w_true + sigma * rng.standard_normal(n), Xt @ w_true + sigma * rng.standard_normal(n_test)
        br = BayesianRidge(fit_intercept=False, tol=1e-10, max_iter=10_000).fit(X, y)
        lm_ev = br.lambda_ / br.alpha_
        cv = RidgeCV(alphas=grid, fit_intercept=False).fit(X, y)
        def test(w: np.ndarray, Xt: np.ndarray = Xt, yt: np.ndarray = yt) -> float:
            return float(np.mean((yt - Xt @ w) ** 2))

        rows.append({
            "lambda_evidence": float(lm_ev), "lambda_cv": float(cv.alpha_),
            "sigma_evidence": float(br.alpha_**-0.5), "tau_evidence": float(br.lambda_**-0.5),
            "bayes_vs_ridge_coef": float(np.abs(br.coef_ - Ridge(alpha=lm_ev, fit_intercept=False).fit(X, y).coef_).max()),
            "test_evidence": test(br.coef_), "test_cv": test(cv.coef_),
            "test_oracle": test(ridge(X, y, sigma**2 / tau**2)),
        })
    return {"n": n, "p": p, "sigma": sigma, "tau": tau, "lambda_oracle": sigma**2 / tau**2, "fits": rows}


def findings_evidence(r: dict) -> list[str]:
    fits = r["fits"]
    ev = np.array([f["lambda_evidence"] for f in fits])
    cv = np.array([f["lambda_cv"] for f in fits])
    ratio = np.abs(np.log10(cv / ev))
    med = lambda k: num(float(np.median([f[k] for f in fits])))  # noqa: E731
    f0 = fits[0]
    return [
        f"On the first data set (n = {r['n']}, p = {r['p']}, weights drawn from N(0, {num(r['tau'])}²), noise σ = "
        f"{num(r['sigma'])}), BayesianRidge's evidence gives λ = lambda_/alpha_ = {num(f0['lambda_evidence'])} "
        f"(σ̂ = {num(f0['sigma_evidence'])}, τ̂ = {num(f0['tau_evidence'])}) and RidgeCV's leave-one-out error "
        f"λ = {num(f0['lambda_cv'])}; the Bayes-optimal σ²/τ² is {num(r['lambda_oracle'])}.",
        f"Over {len(fits)} data sets the two choices lie within a factor of {num(10 ** ratio.max())} of each other "
        f"(median evidence λ {num(float(np.median(ev)))}, median CV λ {num(float(np.median(cv)))}); their median test "
        f"errors are {med('test_evidence')} (evidence), {med('test_cv')} (CV) and {med('test_oracle')} (σ²/τ²).",
        f"BayesianRidge's coefficients equal Ridge(alpha = lambda_/alpha_) to within "
        f"{num(max(f['bayes_vs_ridge_coef'] for f in fits))}: the evidence picks λ, the estimate is ridge's.",
    ]


def tables_evidence(r: dict) -> list[Table]:
    rows = tuple((i + 1, f["lambda_evidence"], f["lambda_cv"], f["test_evidence"], f["test_cv"], f["test_oracle"])
                 for i, f in enumerate(r["fits"][:10]))
    return [Table("λ chosen by the evidence and by cross-validation (first data sets)",
                  ("data set", "λ evidence", "λ RidgeCV", "test MSE evidence", "test MSE CV", "test MSE σ²/τ²"), rows,
                  note=f"Ridge units: ‖y − Xw‖² + λ‖w‖²; the Bayes-optimal λ = σ²/τ² = {num(r['lambda_oracle'])}.")]


# ---------------------------------------------------------------------------- 6. a network: L2 as MAP, and balance


NET_LAMBDAS = (0.0, 0.3, 3.0, 10.0)  # L2, book units; one more model trains with L1-prox at PROX_LAMBDA
MAP_LAMBDAS = (3.0, 10.0)  # where the full-batch steps converge to the posterior's maximum within the run
PROX_LAMBDA, NET_ETA, NET_HIDDEN, NET_CLASSES, NET_BASE, NET_COPIES = 3.0, 1.5, 10, 3, 6, 2


def network_data(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``NET_BASE`` independent N(0, 1) inputs and copies of the first ``NET_COPIES`` of them appended (inputs
    ``NET_BASE + j`` equal ``j``); the class is the argmax of a random linear map of the base inputs plus noise.
    → X (n, NET_BASE + NET_COPIES), y (n,)."""
    base = rng.standard_normal((n, NET_BASE))
    A = rng.standard_normal((NET_BASE, NET_CLASSES))
    y = np.argmax(base @ A + 0.5 * rng.standard_normal((n, NET_CLASSES)), axis=1)
    return np.hstack([base, base[:, :NET_COPIES]]), y


def neg_log_posterior(weights, biases, X: torch.Tensor, y: torch.Tensor, lmbda: float) -> tuple[torch.Tensor, torch.Tensor]:
    """``(−log p(D | w) − log p(w), −log p(D | w))`` of a sigmoid MLP with a softmax output, written with
    ``torch.distributions``: a categorical likelihood per example and, for λ > 0, the prior w ~ N(0, 1/λ) on
    every weight (the biases' prior is flat). Nothing of reglab is used."""
    a = X
    for l, (W, b) in enumerate(zip(weights, biases)):
        z = a @ W.T + b
        a = torch.sigmoid(z) if l < len(weights) - 1 else z
    nll = -torch.distributions.Categorical(logits=a).log_prob(y).sum()
    if lmbda == 0:
        return nll, nll
    prior = torch.distributions.Normal(torch.tensor(0.0, dtype=X.dtype), torch.tensor(lmbda ** -0.5, dtype=X.dtype))
    return nll - sum(prior.log_prob(W).sum() for W in weights), nll


def measure_network(quick: bool, seed: int) -> dict:
    """An MLP trained with reglab's L2: its cost against the Gaussian posterior, and the weights on duplicated inputs."""
    from reglab.engine.data import TensorData, TensorSplit
    from reglab.engine.loop import fit
    from reglab.engine.model import MLP
    from reglab.engine.monitors import Monitor
    from reglab.engine.regularizers import L2, L1Prox, Param
    from reglab.engine.threads import torch_threads

    rng = np.random.default_rng(seed)
    n, steps = (200, 2000) if quick else (500, 8000)
    X, y = network_data(n, rng)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    data = TensorData(TensorSplit(Xt, yt, torch.nn.functional.one_hot(yt, NET_CLASSES).double()), None, None, NET_CLASSES)
    lambdas = list(NET_LAMBDAS)
    M = len(lambdas) + 1  # the last model: L1-prox
    sizes = [X.shape[1], NET_HIDDEN, NET_CLASSES]
    regularizer = L2(lambdas + [0.0]) + L1Prox([0.0] * len(lambdas) + [PROX_LAMBDA])
    with torch_threads(1):
        model = MLP.initialize(sizes, seeds=[seed] * M, init="default", cost="log-likelihood", dtype=torch.float64)
        initial = [W.clone() for W in model.weights]
        fit(model, data, epochs=steps, batch_size=n, eta=NET_ETA, regularizer=regularizer,
            monitor=Monitor(splits=(), weights=False, saturation_examples=0), threads=1)
        fits = []
        for m, lm in enumerate(lambdas):
            one = MLP([W[m:m + 1] for W in model.weights], [b[m:m + 1] for b in model.biases], model.activation,
                      model.cost)
            l2 = L2(lm)
            # (1) the objectives: n·C of reglab against −log p(w | D), at the trained weights and around them
            offsets = []
            for k in range(4):
                shift = 0.0 if k == 0 else 0.3
                Ws = [W[0] + shift * torch.randn(W[0].shape, generator=torch.Generator().manual_seed(k), dtype=W.dtype)
                      for W in one.weights]
                bs = [b[0] for b in one.biases]
                probe = MLP([W[None] for W in Ws], [b[None] for b in bs], one.activation, one.cost)
                zs, acts = probe.forward(Xt)
                cost = probe.cost.fn(zs[-1], acts[-1], data.train.Y)[0] / n  # C₀, the mean
                pen = sum(l2.penalty(W, Param(l, "weight", n))[0] for l, W in enumerate(probe.weights))
                post, _ = neg_log_posterior(Ws, bs, Xt, yt, lm)
                offsets.append(float(n * (cost + pen) - post))
            # (2) the gradients: n·(reglab's data gradient + L2's grad) against autograd on −log p(w | D)
            params = [t[0].clone().requires_grad_() for pair in zip(one.weights, one.biases) for t in pair]
            post, nll = neg_log_posterior(params[0::2], params[1::2], Xt, yt, lm)
            g_post = torch.autograd.grad(post, params, retain_graph=True)
            g_lik = torch.autograd.grad(nll, params)
            zs, acts = one.forward(Xt)
            gw, gb = one.backward(data.train.Y, zs, acts)
            ours = []
            for l, (W, g, h) in enumerate(zip(one.weights, gw, gb)):
                extra = l2.grad(W, Param(l, "weight", n))
                ours += [n * (g[0] + (0 if extra is None else extra[0])), n * h[0]]
            norm = lambda gs: float(torch.sqrt(sum((g.detach() ** 2).sum() for g in gs)))  # noqa: E731
            # (3) an independent optimizer: L-BFGS on −log p(w | D) from the trained weights, to the posterior's maximum
            found = [t.detach().clone().requires_grad_() for t in params]
            if lm in MAP_LAMBDAS:
                lbfgs = torch.optim.LBFGS(found, lr=1.0, max_iter=3000, tolerance_grad=1e-10, tolerance_change=1e-16,
                                          history_size=50, line_search_fn="strong_wolfe")

                def closure(found=found, lm=lm, lbfgs=lbfgs):
                    lbfgs.zero_grad()
                    value = neg_log_posterior(found[0::2], found[1::2], Xt, yt, lm)[0]
                    value.backward()
                    return value

                lbfgs.step(closure)
            at_map = neg_log_posterior(found[0::2], found[1::2], Xt, yt, lm)[0]
            g_map = torch.autograd.grad(at_map, found)
            fits.append({
                "lambda": lm, "prior_sd": None if lm == 0 else lm ** -0.5,
                "offset_spread": max(offsets) - min(offsets),
                "offset": offsets[0],
                "offset_predicted": 0.0 if lm == 0 else -0.5 * sum(W.numel() for W in initial) / M
                * math.log(2 * math.pi / lm),
                "gradient_max_difference": max(float((a - b).abs().max()) for a, b in zip(ours, g_post)),
                "grad_posterior": norm(g_post), "grad_likelihood": norm(g_lik),
                "map_distance": (norm([a.detach() - b.detach() for a, b in zip(found, params)]) / norm(params)
                                 if lm in MAP_LAMBDAS else None),
                "grad_at_map": norm(g_map) if lm in MAP_LAMBDAS else None,
                "neg_log_posterior": float(post.detach()),
                "map_gap": float((post - at_map).detach()) if lm in MAP_LAMBDAS else None,
            })
        # (3) balance: the weights of each hidden unit on an input and on its copy
        gaps = []
        for m in range(M):
            W0, W00 = model.weights[0][m], initial[0][m]  # (H, d)
            copy = slice(NET_BASE, NET_BASE + NET_COPIES)
            gaps.append({"initial": float((W00[:, copy] - W00[:, :NET_COPIES]).abs().max()),
                         "final": float((W0[:, copy] - W0[:, :NET_COPIES]).abs().max()),
                         "share": float(((W0[:, copy] - W0[:, :NET_COPIES]).abs()
                                         / (W0[:, copy].abs() + W0[:, :NET_COPIES].abs()).clamp(min=1e-300)).mean())})
    return {"n": n, "steps": steps, "eta": NET_ETA, "sizes": sizes, "base": NET_BASE, "copies": NET_COPIES,
            "lambdas": lambdas, "prox_lambda": PROX_LAMBDA, "fits": fits, "gaps": gaps}


def findings_network(r: dict) -> list[str]:
    fits, gaps, n = r["fits"], r["gaps"], r["n"]
    pos = [f for f in fits if f["lambda"] > 0]
    mapped = [f for f in fits if f["map_distance"] is not None]
    out = [
        f"A [{', '.join(map(str, r['sizes']))}] sigmoid network with a softmax output (the log-likelihood cost), "
        f"trained by reglab with L2 for {r['steps']} full-batch steps of η = {num(r['eta'])} on n = {n} examples, "
        f"λ = {', '.join(num(lm) for lm in r['lambdas'])}. In the book's units n·C = −log p(D | w) + (λ/2)Σw², which "
        f"is −log p(w | D) for the prior w ~ N(0, 1/λ) on every weight (a flat prior on the biases), up to the "
        f"prior's normalizing constant (N/2)·log(2π/λ).",
        f"Measured against the posterior written with torch.distributions: n·C − (−log p(w | D)) is that constant at "
        f"the trained weights and at three random points around them to within "
        f"{num(max(f['offset_spread'] for f in fits))} (e.g. {num(pos[0]['offset'])} at λ = {num(pos[0]['lambda'])}, "
        f"predicted {num(pos[0]['offset_predicted'])}); n times reglab's gradient (back-propagation plus L2's "
        f"(λ/n)w) equals autograd's gradient of −log p(w | D) to within "
        f"{num(max(f['gradient_max_difference'] for f in fits))}.",
        "At the weights L2 training reached, the prior's gradient cancels the likelihood's: "
        + "; ".join(f"‖∇ log p(w | D)‖ = {num(f['grad_posterior'])} against ‖∇ log p(D | w)‖ = "
                    f"{num(f['grad_likelihood'])} at λ = {num(f['lambda'])} (τ = {num(f['prior_sd'])})" for f in mapped)
        + ". L-BFGS on −log p(w | D), started there, reached a maximum of the posterior (gradient at most "
        + f"{num(max(f['grad_at_map'] for f in mapped))}) whose −log p(w | D) is only "
        + ", ".join(f"{num(f['map_gap'])}" for f in mapped) + " nats below that of reglab's weights (of "
        + ", ".join(f"{num(f['neg_log_posterior'])}" for f in mapped)
        + f"; λ = {', '.join(num(f['lambda']) for f in mapped)}): L2 training finds the MAP estimate under the prior "
          "N(0, 1/λ). The weights themselves lie within a relative "
        + ", ".join(f"{num(f['map_distance'])}" for f in mapped)
        + " of that maximum: along some directions the posterior is nearly flat, and plain gradient steps cross "
          "it slowly. (Smaller λ converge more slowly: ‖∇ log p(w | D)‖ is still "
        + ", ".join(f"{num(f['grad_posterior'])} at λ = {num(f['lambda'])}" for f in fits if f["map_distance"] is None)
        + " after these steps.)",
    ]
    l2 = gaps[:len(r["lambdas"])]
    prox = gaps[-1]
    decay = [(1 - r["eta"] * lm / n) ** r["steps"] for lm in r["lambdas"]]
    out.append(
        f"'More balanced reliance on the previous layer', measured where it is exact: inputs {r['base'] + 1}–"
        f"{r['base'] + r['copies']} are copies of inputs 1–{r['copies']}, so a hidden unit's two weights on an "
        f"input and its copy get the same data gradient, and only the decay acts on their difference. The largest "
        f"difference, {num(l2[0]['initial'])} at the start, ended at "
        + ", ".join(num(g["final"]) for g in l2) + f" with λ = {', '.join(num(lm) for lm in r['lambdas'])}; "
        f"(1 − ηλ/n)^steps × start predicts " + ", ".join(num(g["initial"] * p) for g, p in zip(l2, decay))
        + f" (a 0 is a difference below the weights' rounding). With L1-prox (λ = {num(r['prox_lambda'])}) it ended at "
          f"{num(prox['final'])}. So L2 splits a unit's reliance equally between inputs that carry the same "
          "information, as ridge splits it between two identical columns (penalty-geometry, 'Two identical "
          "features'); L1, indifferent to how a sum is split, does not. Between inputs that carry different "
          "information L2 is no balancing rule: for an orthonormal design it shrinks every weight by the same "
          "fraction (goldilocks).")
    return out


def tables_network(r: dict) -> list[Table]:
    rows = tuple((num(f["lambda"]), "—" if f["prior_sd"] is None else f["prior_sd"], f["offset"], f["offset_predicted"],
                  f["offset_spread"], f["gradient_max_difference"], f["grad_posterior"], f["grad_likelihood"],
                  "—" if f["map_gap"] is None else f["map_gap"],
                  "—" if f["map_distance"] is None else f["map_distance"], g["final"]) for f, g in zip(r["fits"], r["gaps"]))
    return [Table("L2 on a network against the Gaussian posterior",
                  ("λ", "prior sd τ = 1/√λ", "n·C + log p(w|D)", "−(N/2)·log(2π/λ)", "its spread around w",
                   "max |n·∇C − ∇(−log p(w|D))|", "‖∇ log p(w|D)‖", "‖∇ log p(D|w)‖", "nats above the MAP",
                   "distance to the MAP", "max gap input vs copy"), rows,
                  note=f"n = {r['n']}; N = number of weights; the spread is over the trained weights and three "
                       f"random points around them; the MAP w_MAP by L-BFGS from the trained w; nats above it: "
                       f"−log p(w|D) + log p(w_MAP|D); distance: ‖w − w_MAP‖/‖w‖.")]


PARTS = (
    Part("gaussian", "Ridge and the Gaussian-prior MAP", measure_gaussian, findings_gaussian, tables_gaussian),
    Part("laplace", "Lasso and the Laplace-prior MAP", measure_laplace, findings_laplace, tables_laplace),
    Part("capacity", "Capacity: degrees of freedom, training and test error against λ", measure_capacity,
         findings_capacity, figures=figures_capacity),
    Part("centred", "A prior centred away from zero", measure_centred,
         findings_centred, figures=figures_centred),
    Part("evidence", "Choosing λ: the evidence (BayesianRidge) and cross-validation (RidgeCV)", measure_evidence,
         findings_evidence, tables_evidence),
    Part("network", "A network: L2 as the MAP under a Gaussian prior, and the weights on duplicated inputs",
         measure_network, findings_network, tables_network),
)
