r"""goldilocks: which weights L2 shrinks most, and which λ is just right.

Ridge in scikit-learn's units, ŵ(λ) = argmin ‖y − Xw‖² + λ‖w‖² = (XᵀX + λI)⁻¹Xᵀy. Write the design
X (n, p) = U D Vᵀ (singular values d_i, right singular vectors v_i). Then

    v_iᵀ ŵ(λ) = d_i² / (d_i² + λ) · v_iᵀ ŵ(0),

so ridge shrinks the least-squares estimate along each singular direction by its own factor
d_i²/(d_i² + λ): little where the data are spread out (large d_i, a direction the data support
well), much where they barely vary (small d_i). For an orthonormal design (XᵀX = I) every d_i = 1
and every coefficient shrinks by the same fraction 1/(1 + λ) — so in absolute terms L2 takes the most
from the largest weights, the useful ones. For a correlated design the small-d directions are
differences of correlated features, the per-coefficient ratios scatter, and a coefficient can even
grow: shrinking a difference of two features moves weight from one onto the other.

Parts: ``linear`` (above), and the MNIST half (:mod:`reglab.studies.goldilocks_mnist`):
validation accuracy against λ on 1,000 MNIST images, the best λ and the one-standard-error λ,
and the collapse to chance at very large λ.
"""

from __future__ import annotations

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure

from reglab.experiments import Part, Table, num
from reglab.studies.goldilocks_mnist import PART as MNIST_PART

NAME = "goldilocks"
QUESTION = "Which weights does L2 shrink most, and how large should λ be?"


def ar1_design(rng: np.random.Generator, n: int, p: int, rho: float) -> np.ndarray:
    """Gaussian rows with corr(x_j, x_k) = ρ^|j−k| (neighbouring features strongly correlated).  → (n, p)."""
    cov = rho ** np.abs(np.subtract.outer(np.arange(p), np.arange(p)))  # (p, p)
    return rng.standard_normal((n, p)) @ np.linalg.cholesky(cov).T


def ridge_sklearn(X: np.ndarray, y: np.ndarray, lmbda: float) -> np.ndarray:
    """scikit-learn's Ridge (Cholesky solver, no intercept): the measured estimate, not the SVD formula."""
    from sklearn.linear_model import Ridge

    return Ridge(alpha=lmbda, fit_intercept=False, solver="cholesky").fit(X, y).coef_


def measure_linear(quick: bool, seed: int) -> dict:
    """Per-coefficient and per-direction shrinkage ŵ(λ)/ŵ(0) for an orthonormal and a correlated design."""
    rng = np.random.default_rng(seed)
    n, p, rho, sigma = 100, (8 if quick else 20), 0.95, 1.0
    lmbdas = [1.0, 10.0, 100.0] if quick else [0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0]
    repeats = 1 if quick else 10
    designs: dict = {"orthonormal": [], "correlated": []}
    for _ in range(repeats):
        w_true = rng.standard_normal(p)  # (p,)
        for kind in designs:
            if kind == "orthonormal":
                X = np.linalg.qr(rng.standard_normal((n, p)))[0]  # (n, p), XᵀX = I
            else:
                X = ar1_design(rng, n, p, rho)
            y = X @ w_true + sigma * rng.standard_normal(n)  # (n,)
            _, d, Vt = np.linalg.svd(X, full_matrices=False)  # d (p,), Vt (p, p)
            w_ols = np.linalg.lstsq(X, y, rcond=None)[0]  # (p,)
            fits = []
            for lm in lmbdas:
                w = ridge_sklearn(X, y, lm)
                per_direction = (Vt @ w) / (Vt @ w_ols)  # (p,) measured shrinkage along each v_i
                theory = d**2 / (d**2 + lm)
                fits.append({
                    "lambda": lm,
                    "w": w.tolist(),
                    "per_coefficient": (w / w_ols).tolist(),
                    "per_direction": per_direction.tolist(),
                    "theory": theory.tolist(),
                    "max_abs_difference": float(np.abs(per_direction - theory).max()),
                })
            designs[kind].append({"d": d.tolist(), "w_ols": w_ols.tolist(), "fits": fits})
    return {"n": n, "p": p, "rho": rho, "sigma": sigma, "lambdas": lmbdas, "repeats": repeats, **designs,
            "max_abs_difference": max(f["max_abs_difference"] for kind in designs for rep in designs[kind]
                                      for f in rep["fits"])}


def findings_linear(r: dict) -> list[str]:
    orth, corr = r["orthonormal"][0], r["correlated"][0]
    mid = len(r["lambdas"]) // 2
    fo, fc = orth["fits"][mid], corr["fits"][mid]
    lm = fo["lambda"]
    spread = max(max(f["per_coefficient"]) - min(f["per_coefficient"]) for rep in r["orthonormal"] for f in rep["fits"])
    d = corr["d"]
    lo, hi = int(np.argmin(d)), int(np.argmax(d))
    ols_o, w_o = np.abs(orth["w_ols"]), np.abs(fo["w"])
    big, small = int(np.argmax(ols_o)), int(np.argmin(ols_o))
    ratios = np.array(fc["per_coefficient"])
    ols_c, w_c = np.array(corr["w_ols"]), np.array(fc["w"])
    grew = np.flatnonzero(np.abs(w_c) > np.abs(ols_c))
    flipped = int((ratios < 0).sum())
    out = [
        f"Orthonormal design (n = {r['n']}, p = {r['p']}): at λ = {num(lm)} every coefficient kept the same "
        f"fraction of its least-squares value, {num(fo['per_coefficient'][0], 6)} (1/(1 + λ) = {num(1 / (1 + lm), 6)}); "
        f"over all λ the ratios of one fit differ by at most {num(spread)}.",
        f"The same fraction means that in absolute terms L2 takes the most from the largest weights — the useful "
        f"ones: at λ = {num(lm)} the largest least-squares coefficient (|ŵ| = {num(ols_o[big])}) lost "
        f"{num(ols_o[big] - w_o[big])}, the smallest (|ŵ| = {num(ols_o[small])}) {num(ols_o[small] - w_o[small])}.",
        f"Correlated design (corr(x_j, x_k) = {num(r['rho'])}^|j−k|, singular values d from {num(min(d))} to "
        f"{num(max(d))}): at λ = {num(lm)} the direction the data support least (d = {num(d[lo])}) kept "
        f"{num(100 * fc['per_direction'][lo])}% of its least-squares component, the best-supported one "
        f"(d = {num(d[hi])}) {num(100 * fc['per_direction'][hi])}%.",
        f"Measured along each singular direction, scikit-learn's ridge shrinks by d²/(d² + λ) to within "
        f"{num(r['max_abs_difference'])} (largest difference over both designs, {len(r['lambdas'])} values of λ"
        + (f", {r['repeats']} data sets)." if r["repeats"] > 1 else ")."),
        f"Per coefficient, the correlated design's ratios ŵ(λ)/ŵ(0) at λ = {num(lm)} range from "
        f"{num(float(ratios.min()))} to {num(float(ratios.max()))}: {len(grew)} of {r['p']} coefficients grew in "
        f"magnitude and {flipped} changed sign"
        + (", as shrinking the small-d directions moves weight between correlated features." if len(grew) + flipped
           else "."),
    ]
    if len(grew):
        j = int(grew[np.argmax(np.abs(ratios[grew]))])
        out.append(
            f"L2 can even grow a near-useless weight: coefficient {j + 1}, whose least-squares value is "
            f"{num(ols_c[j])} (the median |ŵ_j(0)| is {num(float(np.median(np.abs(ols_c))))}), became {num(w_c[j])} "
            f"at λ = {num(lm)}, a ratio of {num(ratios[j], 4)}: its neighbours' shared weight moved onto it.")
    return out


def tables_linear(r: dict) -> list[Table]:
    corr = r["correlated"][0]
    order = np.argsort(corr["d"])
    rows = tuple(
        (num(corr["d"][i]), *(f["per_direction"][i] for f in corr["fits"]),
         max(abs(f["per_direction"][i] - f["theory"][i]) for f in corr["fits"]))
        for i in order
    )
    cols = ("d", *(f"λ = {num(lm)}" for lm in r["lambdas"]), "max |measured − d²/(d²+λ)|")
    return [Table("Shrinkage along each singular direction of the correlated design (first data set)", cols, rows,
                  note="Each λ column: measured v_iᵀŵ(λ) / v_iᵀŵ(0), with ŵ from scikit-learn's Ridge; the last column: "
                       "its largest difference from d²/(d²+λ) over the λ.")]


def figures_linear(r: dict) -> dict[str, Figure]:
    fig = Figure(figsize=(10, 4), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    corr, orth = r["correlated"][0], r["orthonormal"][0]
    d = np.array(corr["d"])
    grid = np.geomspace(d.min() / 2, d.max() * 2, 200)
    colors = colormaps["viridis"](np.linspace(0, 0.9, len(corr["fits"])))  # λ is ordered: a sequential map
    for k, f in enumerate(corr["fits"]):
        ax1.plot(grid, grid**2 / (grid**2 + f["lambda"]), color=colors[k], lw=1)
        ax1.plot(d, f["per_direction"], "o", color=colors[k], ms=4, label=f"λ = {num(f['lambda'])}")
    ax1.set_xscale("log")
    ax1.set_xlabel("singular value d of the direction")
    ax1.set_ylabel("fraction of least-squares component kept")
    ax1.set_title("correlated design: points measured, lines d²/(d²+λ)", fontsize=10)
    ax1.legend(fontsize=8)
    mid = len(r["lambdas"]) // 2
    j = np.arange(r["p"]) + 1
    ax2.plot(j, orth["fits"][mid]["per_coefficient"], "s-", label="orthonormal design")
    ax2.plot(j, corr["fits"][mid]["per_coefficient"], "o-", label="correlated design")
    ax2.axhline(0, color="0.6", lw=0.6)
    ax2.axhline(1, color="0.6", lw=0.6, ls=":")
    ax2.set_yscale("symlog", linthresh=1.0)  # linear within ±1, logarithmic beyond: one outlier flattens nothing
    ax2.set_xlabel("coefficient j")
    ax2.set_ylabel("ŵ_j(λ) / ŵ_j(0) (symlog: linear within ±1)")
    ax2.set_title(f"per coefficient, λ = {num(r['lambdas'][mid])}", fontsize=10)
    ax2.legend(fontsize=8)
    fig.suptitle("Ridge's shrinkage along each singular direction and per coefficient")
    return {"shrinkage_by_direction": fig}


PARTS = (
    Part("linear", "Linear regression: shrinkage along each singular direction", measure_linear, findings_linear,
         tables_linear, figures_linear),
    MNIST_PART,
)
