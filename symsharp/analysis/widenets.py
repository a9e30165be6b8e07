"""Wide fully connected networks in plain NumPy: GD training, exact Hessian-vector products,
sharpness, the NTK, and the core of the Y10 experiment (predicted vs measured sharpness).

**The network.**  Depth L ≥ 2 weight layers, width n, no biases, scalar output:

    h_1 = c_1 W_1 x,   a_l = φ(h_l),   h_{l+1} = c_{l+1} W_{l+1} a_l   (l = 1 … L−1),   f(x) = h_L

with W_1 ∈ R^{n×d}, W_2 … W_{L−1} ∈ R^{n×n}, W_L ∈ R^{1×n} and φ the identity (``"linear"``:
a deep linear network) or ``tanh``.  The loss is the mean-squared error
L(θ) = 1/(2N) Σⱼ (f(xⱼ) − yⱼ)² over the rows of X (N, d).  Everything is float64.

**Parameterisation** (``parameterization``; g = ``init_scale``, m_l = fan-in of layer l):

- ``"standard"`` (the default; the usual PyTorch/JAX parameterisation): c_l = 1 and
  W_l ~ N(0, g²/m_l) entrywise (g = 1: variance-preserving "LeCun" initialisation).  The
  paper's wide networks (a 5-layer linear net of width 2048 on CIFAR-10, a 4-layer tanh net of
  width 1024 on SVHN) are presumably of this kind; the summary we have does not say, nor their
  initialisation scale.  g decides between the lazy regime (g ≈ 1: the sharpness stays near its
  initial value) and the rich regime (small g: the network starts near the saddle at 0 and
  learns a low-rank solution, as the single-neuron chain model does).
- ``"ntk"``: c_l = g/√m_l and W_l ~ N(0, 1).  The same function at initialisation, but the
  gradients of layer l are scaled by c_l, so GD with one η behaves differently (the Hessian
  differs by the change of variables; the NTK f-space dynamics are the same up to η).

**Reduced coordinates.**  The loss depends on W_1 only through W_1 P, where X = E diag(s) Pᵀ is
the thin SVD (P ∈ R^{d×r}, r = rank X), and GD never moves W_1(I − PPᵀ).  Training the network
on X' = E diag(s) (N × r) with first layer M = W_1 P ∈ R^{n×r} (fan-in still d) is therefore the
same computation as on X, and the Hessian and the NTK have the same non-zero eigenvalues
(θ ↦ (W_1P, W_2, …) has orthonormal rows).  For d = 3072 and N = 500 this makes the first layer
6× cheaper.  :func:`train_network` does this by default (``reduce=True``); the initial W_1 is
always drawn at full size d and projected, so both ways start from the same network.

**Derivatives.**  :meth:`WideNet.loss_grad` is reverse mode written by hand;
:meth:`WideNet.hvp` is Pearlmutter's R-operator (forward-over-reverse) written by hand, exact up
to rounding; :meth:`WideNet.jvp` / :meth:`WideNet.vjp` are J v and Jᵀ r for J = ∂f(X)/∂θ.
The sharpness is λ_max of the loss Hessian by Lanczos (``scipy.sparse.linalg.eigsh`` on a
``LinearOperator`` of exact HVPs, which = "LA") or power iteration; the top NTK eigenvalue is
λ_max(J Jᵀ / N).  Results depend only on the inputs and the seed (Lanczos starts from a seeded
vector).
"""
from __future__ import annotations

from ..data import make_dataset, svd_coordinates
from ..errors import SymsharpError

import json
import math
import platform
import time
from dataclasses import dataclass, field

import numpy as np

ACTIVATIONS = ("linear", "tanh")
PARAMETERIZATIONS = ("standard", "ntk")


class WideNetError(SymsharpError):
    """A bad wide-network request (one sentence naming the bad value and what is allowed)."""


def _int_at_least(value, name, lo):
    try:
        v = int(value)
    except (TypeError, ValueError):
        raise WideNetError(f"{name} must be an integer >= {lo}, got {value!r}") from None
    if v != value or v < lo:
        raise WideNetError(f"{name} must be an integer >= {lo}, got {value!r}")
    return v


def _positive(value, name):
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise WideNetError(f"{name} must be a positive number, got {value!r}") from None
    if not (v > 0 and math.isfinite(v)):
        raise WideNetError(f"{name} must be a positive finite number, got {value!r}")
    return v


# ----------------------------------------------------------------------------- the network

@dataclass(frozen=True)
class WideNet:
    """A fully connected network (see the module docstring).

    ``d``: input dimension of the arrays passed in (r in reduced coordinates); ``fan_in``: the
    fan-in used for the first layer's scaling (default ``d``; the original dimension in reduced
    coordinates).  Parameters are one flat float64 vector θ, the layers' matrices in order,
    each in C order (:meth:`unflatten`)."""

    d: int
    depth: int
    width: int
    activation: str = "linear"
    parameterization: str = "standard"
    init_scale: float = 1.0
    fan_in: int | None = None
    shapes: tuple = field(init=False, repr=False, compare=False)
    offsets: tuple = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        d = _int_at_least(self.d, "input dimension d", 1)
        L = _int_at_least(self.depth, "depth", 2)
        n = _int_at_least(self.width, "width", 1)
        if self.activation not in ACTIVATIONS:
            raise WideNetError(f"unknown activation {self.activation!r}; choose one of {', '.join(ACTIVATIONS)}")
        if self.parameterization not in PARAMETERIZATIONS:
            raise WideNetError(f"unknown parameterization {self.parameterization!r}; choose one of "
                               f"{', '.join(PARAMETERIZATIONS)}")
        _positive(self.init_scale, "init_scale")
        fan = d if self.fan_in is None else _int_at_least(self.fan_in, "fan_in", 1)
        object.__setattr__(self, "fan_in", fan)
        shapes = [(n, d)] + [(n, n)] * (L - 2) + [(1, n)]
        offs = np.concatenate([[0], np.cumsum([a * b for a, b in shapes])]).tolist()
        object.__setattr__(self, "shapes", tuple(shapes))
        object.__setattr__(self, "offsets", tuple(int(o) for o in offs))

    # -- bookkeeping
    @property
    def n_params(self) -> int:
        """Number of parameters P."""
        return self.offsets[-1]

    def fan_ins(self) -> list:
        """Fan-in m_l of each layer (the first is ``fan_in``)."""
        return [self.fan_in] + [self.width] * (self.depth - 1)

    def multipliers(self) -> list:
        """The forward multipliers c_l (1 in the standard parameterisation)."""
        if self.parameterization == "standard":
            return [1.0] * self.depth
        return [float(self.init_scale) / math.sqrt(m) for m in self.fan_ins()]

    def unflatten(self, theta) -> list:
        """The layer matrices as views into the flat vector ``theta``."""
        theta = np.asarray(theta)
        if theta.shape != (self.n_params,):
            raise WideNetError(f"theta must have shape ({self.n_params},) for this network, got {theta.shape}")
        o = self.offsets
        return [theta[o[k]:o[k + 1]].reshape(s) for k, s in enumerate(self.shapes)]

    def init(self, seed=0, project=None) -> np.ndarray:
        """Seeded initial parameters (see the module docstring for the distribution).

        ``project``: a (fan_in, d) matrix P with orthonormal columns; the first layer is then
        drawn at full size (n, fan_in) and returned as W_1 P (reduced coordinates)."""
        rng = np.random.default_rng(seed)
        std = ([float(self.init_scale) / math.sqrt(m) for m in self.fan_ins()]
               if self.parameterization == "standard" else [1.0] * self.depth)
        parts = []
        for k, shp in enumerate(self.shapes):
            if k == 0 and project is not None:
                P = np.asarray(project, dtype=np.float64)
                if P.shape != (self.fan_in, self.d):
                    raise WideNetError(f"project must have shape ({self.fan_in}, {self.d}), got {P.shape}")
                W = rng.standard_normal((self.width, self.fan_in)) * std[0] @ P
            else:
                W = rng.standard_normal(shp) * std[k]
            parts.append(W.ravel())
        return np.concatenate(parts)

    # -- forward / backward
    def _check_X(self, X):
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.d:
            raise WideNetError(f"X must have shape (N, {self.d}) for this network, got {X.shape}")
        return X

    def _act(self, H):
        """φ(H), φ'(H), φ''(H) (None for the identity's constant derivatives)."""
        if self.activation == "linear":
            return H, None, None
        T = np.tanh(H)
        d1 = 1.0 - T * T
        return T, d1, -2.0 * T * d1

    def _forward(self, Ws, X):
        c = self.multipliers()
        A, Hs, D1, D2 = [X], [], [], []
        for k in range(self.depth - 1):
            H = A[-1] @ Ws[k].T
            if c[k] != 1.0:
                H *= c[k]
            a, d1, d2 = self._act(H)
            Hs.append(H)
            A.append(a)
            D1.append(d1)
            D2.append(d2)
        f = A[-1] @ Ws[-1][0]
        if c[-1] != 1.0:
            f *= c[-1]
        return f, A, D1, D2

    def _backward(self, Ws, A, D1, g_out):
        """Reverse pass from ∂/∂f = ``g_out`` (N,): returns the flat gradient and the lists
        B_l = ∂/∂a_l, G_l = ∂/∂h_l (index l−1)."""
        c = self.multipliers()
        L = self.depth
        grads = [None] * L
        Bs, Gs = [None] * (L - 1), [None] * L
        G = g_out[:, None]
        Gs[L - 1] = G
        for k in range(L - 1, -1, -1):
            g = G.T @ A[k]
            grads[k] = g * c[k] if c[k] != 1.0 else g
            if k > 0:
                B = G @ Ws[k]
                if c[k] != 1.0:
                    B *= c[k]
                Bs[k - 1] = B
                G = B if D1[k - 1] is None else B * D1[k - 1]
                Gs[k - 1] = G
        return np.concatenate([g.ravel() for g in grads]), Bs, Gs

    def forward(self, theta, X) -> np.ndarray:
        """The outputs f(xⱼ) for the rows of ``X`` (N,)."""
        return self._forward(self.unflatten(theta), self._check_X(X))[0]

    def loss(self, theta, X, y) -> float:
        """L(θ) = 1/(2N) Σ (f(xⱼ) − yⱼ)²."""
        f = self.forward(theta, X)
        r = f - np.asarray(y, dtype=np.float64)
        return float(0.5 * np.dot(r, r) / r.size)

    def loss_grad(self, theta, X, y):
        """``(L(θ), ∇L(θ))`` by a hand-written reverse pass."""
        Ws = self.unflatten(theta)
        X = self._check_X(X)
        f, A, D1, _ = self._forward(Ws, X)
        r = f - np.asarray(y, dtype=np.float64)
        N = r.size
        g, _, _ = self._backward(Ws, A, D1, r / N)
        return float(0.5 * np.dot(r, r) / N), g

    def vjp(self, theta, X, r) -> np.ndarray:
        """Jᵀ r for J = ∂f(X)/∂θ (N × P) and r (N,)."""
        Ws = self.unflatten(theta)
        X = self._check_X(X)
        f, A, D1, _ = self._forward(Ws, X)
        return self._backward(Ws, A, D1, np.asarray(r, dtype=np.float64))[0]

    def _rforward(self, Ws, Vs, A, D1):
        """R-operator forward pass: R{h_l}, R{a_l} and R{f} = J v along V."""
        c = self.multipliers()
        RA, RH = [None], []
        for k in range(self.depth - 1):
            RHk = A[k] @ Vs[k].T
            if RA[-1] is not None:
                RHk += RA[-1] @ Ws[k].T
            if c[k] != 1.0:
                RHk *= c[k]
            RH.append(RHk)
            RA.append(RHk if D1[k] is None else D1[k] * RHk)
        Rf = A[-1] @ Vs[-1][0] + RA[-1] @ Ws[-1][0]
        if c[-1] != 1.0:
            Rf *= c[-1]
        return Rf, RA, RH

    def jvp(self, theta, X, v) -> np.ndarray:
        """J v (N,) for J = ∂f(X)/∂θ and a direction v (P,)."""
        Ws = self.unflatten(theta)
        Vs = self.unflatten(np.asarray(v, dtype=np.float64))
        X = self._check_X(X)
        _, A, D1, _ = self._forward(Ws, X)
        return self._rforward(Ws, Vs, A, D1)[0]

    def hvp_operator(self, theta, X, y):
        """A function v ↦ ∇²L(θ) v (exact, Pearlmutter's R-operator), with the forward and
        backward passes at θ computed once and shared by every call."""
        Ws = self.unflatten(np.asarray(theta, dtype=np.float64))
        X = self._check_X(X)
        y = np.asarray(y, dtype=np.float64)
        f, A, D1, D2 = self._forward(Ws, X)
        N = f.size
        _, Bs, Gs = self._backward(Ws, A, D1, (f - y) / N)
        c = self.multipliers()
        L = self.depth

        def hv(v):
            Vs = self.unflatten(np.asarray(v, dtype=np.float64).reshape(-1))
            Rf, RA, RH = self._rforward(Ws, Vs, A, D1)
            out = [None] * L
            RG = (Rf / N)[:, None]
            for k in range(L - 1, -1, -1):
                Rg = RG.T @ A[k]
                if RA[k] is not None:
                    Rg += Gs[k].T @ RA[k]
                out[k] = Rg * c[k] if c[k] != 1.0 else Rg
                if k > 0:
                    RB = RG @ Ws[k] + Gs[k] @ Vs[k]
                    if c[k] != 1.0:
                        RB *= c[k]
                    if D1[k - 1] is None:
                        RG = RB
                    else:
                        RG = RB * D1[k - 1] + Bs[k - 1] * D2[k - 1] * RH[k - 1]
            return np.concatenate([o.ravel() for o in out])

        return hv

    def hvp(self, theta, X, y, v) -> np.ndarray:
        """∇²L(θ) v, exact up to rounding (one forward, one backward and one R-pass)."""
        return self.hvp_operator(theta, X, y)(v)

    def hessian(self, theta, X, y) -> np.ndarray:
        """The dense P × P loss Hessian, column by column from :meth:`hvp` (small nets only)."""
        P = self.n_params
        if P > 5000:
            raise WideNetError(f"a dense Hessian of {P} parameters is too large; at most 5000 are allowed")
        hv = self.hvp_operator(theta, X, y)
        I = np.eye(P)
        return np.column_stack([hv(I[:, k]) for k in range(P)])

    def sharpness(self, theta, X, y, method: str = "lanczos", tol: float = 1e-8, seed: int = 0,
                  maxiter: int | None = None) -> float:
        """The sharpness λ_max(∇²L(θ)); see :func:`top_eigenvalue` for ``method``."""
        return top_eigenvalue(self.hvp_operator(theta, X, y), self.n_params, method=method, tol=tol, seed=seed,
                              maxiter=maxiter)[0]

    def ntk_top(self, theta, X, tol: float = 1e-8, seed: int = 0) -> float:
        """λ_max of the empirical NTK J Jᵀ / N (= λ_max of the Gauss–Newton matrix Jᵀ J / N)."""
        Ws = self.unflatten(np.asarray(theta, dtype=np.float64))
        X = self._check_X(X)
        _, A, D1, _ = self._forward(Ws, X)
        N = X.shape[0]

        def kv(u):
            g = self._backward(Ws, A, D1, np.asarray(u, dtype=np.float64).reshape(-1))[0]
            return self._rforward(Ws, self.unflatten(g), A, D1)[0] / N

        if N <= 64:   # small: the dense N × N kernel
            K = np.column_stack([kv(e) for e in np.eye(N)])
            return float(np.linalg.eigvalsh(0.5 * (K + K.T))[-1])
        return top_eigenvalue(kv, N, tol=tol, seed=seed)[0]


def top_eigenvalue(matvec, n: int, method: str = "lanczos", tol: float = 1e-8, seed: int = 0,
                   maxiter: int | None = None, v0=None, ncv: int = 20):
    """Largest eigenvalue of the symmetric operator ``matvec`` on Rⁿ.

    ``method="lanczos"``: ``scipy.sparse.linalg.eigsh(which="LA")`` (largest algebraic
    eigenvalue) from a seeded start vector; ``"power"``: power iteration with the Rayleigh
    quotient, stopped when it changes by less than ``tol`` (relative) — it finds the eigenvalue
    of largest *magnitude*, which is λ_max near a minimum.  ``v0``: a start vector (default a
    seeded Gaussian one); ``ncv``: the Lanczos basis size.  Returns ``(value, vector, matvecs)``."""
    from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh

    count = [0]

    def mv(v):
        count[0] += 1
        return matvec(np.asarray(v, dtype=np.float64).reshape(-1))

    v0 = np.random.default_rng(seed).standard_normal(n) if v0 is None else np.asarray(v0, dtype=np.float64)
    if method == "lanczos":
        if n <= 2:
            M = np.column_stack([mv(e) for e in np.eye(n)])
            w, V = np.linalg.eigh(0.5 * (M + M.T))
            return float(w[-1]), V[:, -1], count[0]
        op = LinearOperator((n, n), matvec=mv, dtype=np.float64)
        try:
            w, V = eigsh(op, k=1, which="LA", tol=tol, v0=v0, maxiter=maxiter, ncv=max(2, min(n - 1, ncv)))
        except ArpackNoConvergence as exc:  # pragma: no cover - reported, not hidden
            if len(exc.eigenvalues):
                return float(exc.eigenvalues[-1]), exc.eigenvectors[:, -1], count[0]
            raise WideNetError("Lanczos did not converge for the sharpness; raise maxiter or tol") from None
        return float(w[0]), V[:, 0], count[0]
    if method == "power":
        v = v0 / np.linalg.norm(v0)
        lam = 0.0
        for _ in range(maxiter or 1000):
            w = mv(v)
            new = float(np.dot(v, w))
            nw = np.linalg.norm(w)
            if not nw > 0:
                return 0.0, v, count[0]
            v = w / nw
            if abs(new - lam) <= tol * max(abs(new), 1e-300):
                lam = new
                break
            lam = new
        return lam, v, count[0]
    raise WideNetError(f"unknown eigenvalue method {method!r}; choose 'lanczos' or 'power'")


# ----------------------------------------------------------------------------- training

@dataclass
class GDResult:
    """The outcome of :func:`train_gd`: final parameters ``theta``, the loss every
    ``record_every`` steps (``record_steps``, ``losses``), the number of ``steps`` taken, the
    final ``loss`` and gradient norm ``grad_norm``, and why it stopped (``reason``: ``"loss"``,
    ``"grad"``, ``"stall"``, ``"max_steps"`` or ``"diverged"``); ``etas`` the step size at the
    recorded steps, ``eta`` the last one, ``sharpness_checks`` how often the adaptive rule measured
    the sharpness."""

    theta: np.ndarray
    steps: int
    loss: float
    grad_norm: float
    reason: str
    record_steps: np.ndarray
    losses: np.ndarray
    etas: np.ndarray | None = None
    eta: float = float("nan")
    sharpness_checks: int = 0
    seconds: float = 0.0

    @property
    def converged(self) -> bool:
        """True when a stopping rule (loss, gradient or stall) fired."""
        return self.reason in ("loss", "grad", "stall")

    @property
    def diverged(self) -> bool:
        return self.reason == "diverged"


def train_gd(net: WideNet, X, y, eta: float | None = None, theta0=None, seed: int = 0, max_steps: int = 10_000,
             loss_tol: float = 1e-6, grad_tol: float = 0.0, stall_tol: float = 0.0, stall_window: int = 500,
             div_factor: float = 1e6, record_every: int = 10, progress: bool = False, adapt_every: int = 0,
             eta_frac: float = 0.5, adapt_tol: float = 1e-3) -> GDResult:
    """Full-batch gradient descent θ ← θ − η ∇L(θ) until a stopping rule fires.

    Stops when L ≤ ``loss_tol`` (absolute), ‖∇L‖ ≤ ``grad_tol`` (absolute), the loss fell by
    less than the fraction ``stall_tol`` over the last ``stall_window`` steps (0 disables), or
    after ``max_steps``; it is *diverged* when L exceeds ``div_factor`` · max(L₀, 1) or is not
    finite (a magnitude threshold, checked every step).  ``theta0`` defaults to
    ``net.init(seed)``.  ``progress`` shows a tqdm bar (about 100 updates).

    Step size: a constant ``eta`` (plain GD), or, with ``adapt_every`` = k > 0, the
    *sharpness-adaptive* rule η = ``eta_frac`` / S(θ) with S re-measured (Lanczos, relative
    tolerance ``adapt_tol``, warm-started) at step 0, every k steps and after any step that
    raised the loss.  With ``eta_frac`` < 2 this keeps ηS below the stability limit, so the run
    follows gradient flow (up to the step size) instead of entering the edge of stability; it is
    not constant-η GD.  ``eta`` is then ignored."""
    adaptive = _int_at_least(adapt_every, "adapt_every", 0) > 0
    if adaptive:
        eta_frac = _positive(eta_frac, "eta_frac")
        eta = float("nan")
    else:
        eta = _positive(eta, "eta")
    max_steps = _int_at_least(max_steps, "max_steps", 0)
    record_every = _int_at_least(record_every, "record_every", 1)
    theta = net.init(seed) if theta0 is None else np.array(theta0, dtype=np.float64, copy=True)
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=max_steps, desc=f"GD {net.activation} D={net.depth} n={net.width}", leave=False)
    chunk = max(1, max_steps // 100)
    t0 = time.perf_counter()
    loss, g = net.loss_grad(theta, X, y)
    limit = div_factor * max(loss, 1.0)
    vec, checks, S = None, 0, float("nan")

    def measure(theta):
        nonlocal vec, checks
        lam, vec, _ = top_eigenvalue(net.hvp_operator(theta, X, y), net.n_params, tol=adapt_tol, seed=seed, v0=vec,
                                     ncv=10)
        checks += 1
        return lam

    if adaptive:
        S = measure(theta)
        eta = eta_frac / max(S, 1e-300)
    rec_s, rec_l, rec_e = [0], [loss], [eta]
    hist = {0: loss}
    reason, step = "max_steps", 0
    while True:
        gn = float(np.linalg.norm(g))
        if not (math.isfinite(loss) and loss <= limit):
            reason = "diverged"
            break
        if loss <= loss_tol:
            reason = "loss"
            break
        if gn <= grad_tol:
            reason = "grad"
            break
        if stall_tol > 0 and step >= stall_window:
            old = hist.get(step - stall_window)
            if old is not None and old - loss <= stall_tol * old:
                reason = "stall"
                break
        if step >= max_steps:
            break
        theta -= eta * g
        step += 1
        prev = loss
        loss, g = net.loss_grad(theta, X, y)
        if adaptive and (step % adapt_every == 0 or loss > prev) and math.isfinite(loss) and loss <= limit:
            S = measure(theta)
            eta = eta_frac / max(S, 1e-300)
        if stall_tol > 0:
            hist[step] = loss
            hist.pop(step - stall_window - 1, None)
        if step % record_every == 0:
            rec_s.append(step)
            rec_l.append(loss)
            rec_e.append(eta)
        if bar is not None and step % chunk == 0:
            bar.update(chunk)
            bar.set_postfix(loss=f"{loss:.3e}", refresh=False)
    if bar is not None:
        bar.close()
    if rec_s[-1] != step:
        rec_s.append(step)
        rec_l.append(loss)
        rec_e.append(eta)
    return GDResult(theta=theta, steps=step, loss=float(loss), grad_norm=float(np.linalg.norm(g)), reason=reason,
                    record_steps=np.asarray(rec_s), losses=np.asarray(rec_l), etas=np.asarray(rec_e, dtype=float),
                    eta=float(eta), sharpness_checks=checks, seconds=time.perf_counter() - t0)


def reduce_inputs(X, tol: float = 1e-12):
    """``(X', P)`` with X = X' Pᵀ: X' = E diag(s) (N × r) and P (d × r) orthonormal, from the
    thin SVD (singular values above ``tol``·σ₁)."""
    E, s, P = svd_coordinates(X, tol)
    return E * s, P


def train_network(X, y, depth: int, width: int, activation: str = "linear", parameterization: str = "standard",
                  init_scale: float = 1.0, eta: float | None = None, eta_frac: float = 0.5,
                  eta_rule: str = "fixed", adapt_every: int = 50, seed: int = 0, reduce: bool = True,
                  max_steps: int = 10_000, loss_tol: float = 1e-6, grad_tol: float = 0.0, stall_tol: float = 0.0,
                  stall_window: int = 500, record_every: int = 10, progress: bool = False,
                  sharpness_tol: float = 1e-6) -> dict:
    """Initialise (seeded), train by full-batch GD and measure a wide network on (X, y).

    Step size: ``eta`` when given (constant); otherwise ``eta_rule="fixed"`` uses the constant
    η = ``eta_frac`` / S₀ (S₀ the sharpness at initialisation) and ``eta_rule="adaptive"`` the
    sharpness-adaptive rule of :func:`train_gd` (η = ``eta_frac`` / S re-measured every
    ``adapt_every`` steps: a gradient-flow-like run that avoids the edge of stability).
    ``reduce`` trains in reduced coordinates (exactly equivalent; see the module docstring).

    Returns a dict: ``net`` (the :class:`WideNet` used), ``theta0``, ``result``
    (:class:`GDResult`), ``eta`` (the last step size), ``sharpness0``, ``sharpness`` (final,
    Lanczos), ``ntk_top`` (final), ``hvps`` (Hessian-vector products of the final Lanczos) and
    the inputs ``X_used``, ``project`` (P, or None)."""
    if eta_rule not in ("fixed", "adaptive"):
        raise WideNetError(f"unknown eta_rule {eta_rule!r}; choose 'fixed' or 'adaptive'")
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    d0 = X.shape[1]
    if reduce:
        Xr, P = reduce_inputs(X)
    else:
        Xr, P = X, None
    net = WideNet(d=Xr.shape[1], depth=depth, width=width, activation=activation,
                  parameterization=parameterization, init_scale=init_scale, fan_in=d0)
    theta0 = net.init(seed, project=P)
    S0 = top_eigenvalue(net.hvp_operator(theta0, Xr, y), net.n_params, tol=sharpness_tol, seed=seed)[0]
    adaptive = eta is None and eta_rule == "adaptive"
    if eta is None and not adaptive:
        eta = _positive(eta_frac, "eta_frac") / max(S0, 1e-300)
    res = train_gd(net, Xr, y, eta, theta0=theta0, seed=seed, max_steps=max_steps, loss_tol=loss_tol,
                   grad_tol=grad_tol, stall_tol=stall_tol, stall_window=stall_window, record_every=record_every,
                   progress=progress, adapt_every=adapt_every if adaptive else 0, eta_frac=eta_frac)
    if res.diverged:
        S, hv_count, K = float("nan"), 0, float("nan")
    else:
        S, _, hv_count = top_eigenvalue(net.hvp_operator(res.theta, Xr, y), net.n_params, tol=sharpness_tol,
                                        seed=seed)
        K = net.ntk_top(res.theta, Xr, tol=sharpness_tol, seed=seed)
    return {"net": net, "theta0": theta0, "result": res, "eta": float(res.eta), "sharpness0": float(S0),
            "sharpness": float(S), "ntk_top": float(K), "hvps": int(hv_count), "X_used": Xr, "project": P}


# ----------------------------------------------------------------------------- Y10

ARCHS = {
    "linear-D5": {"depth": 5, "activation": "linear"},
    "tanh-D4": {"depth": 4, "activation": "tanh"},
}


def _configs():
    pp = "standardize"
    common = {"parameterization": "standard", "init_scale": 1.0, "eta_rule": "adaptive", "eta_frac": 1.0,
              "adapt_every": 50, "eos_limit": 1.8, "loss_tol": 1e-3, "stall_tol": 0.0, "stall_window": 1000}
    reduced = dict(common, width=32, archs=["linear-D5", "tanh-D4"], max_steps=3000, datasets=(
        [{"kind": "digits", "classes": "0,1", "samples": n, "preprocess": pp} for n in (12, 20, 28)]
        + [{"kind": "photo-patches", "patch": 8, "samples": n, "preprocess": pp} for n in (12, 20, 28)]))
    full = dict(common, width=256, archs=["linear-D5", "tanh-D4"], max_steps=10000, datasets=(
        [{"kind": "digits", "classes": c, "samples": n, "preprocess": pp} for c in ("0,1", "3,8") for n in (16, 24, 32)]
        + [{"kind": "photo-patches", "samples": n, "preprocess": pp} for n in (25, 50, 75, 100)]))
    return {"reduced": reduced, "full": full}


Y10_CONFIGS = _configs()
"""Named configurations of :func:`y10_experiment`: ``"reduced"`` (width 32, six small data sets;
tests, seconds) and ``"full"`` (width 256; digits 0/1 and 3/8 at N = 16, 24, 32 and 32×32×3
photo patches at N = 25 … 100, all standardised; on the order of ten minutes on two cores).
Both use the standard parameterisation with init_scale 1, the sharpness-adaptive step
η = 1/S (re-measured every 50 steps) and stop at loss 1e-3 (the targets are ±1, so the
initial loss is about 0.5)."""


def _data_label(spec: dict) -> str:
    parts = [spec["kind"]]
    for k in ("classes", "patch", "samples", "preprocess", "seed"):
        if k in spec:
            v = spec[k]
            parts.append(f"{k}={v}")
    return ",".join(parts)


def _versions() -> dict:
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for pkg in ("symsharp", "numpy", "scipy", "xarray", "scikit-learn"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    return out


def _correlations(a, b):
    """Pearson and Spearman correlations of two vectors (NaN when fewer than 3 points or no
    spread) and the Pearson correlation of the logarithms."""
    from scipy.stats import pearsonr, spearmanr

    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.size < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan"), float("nan"), float("nan")
    p = float(pearsonr(a, b)[0])
    s = float(spearmanr(a, b)[0])
    lg = float(pearsonr(np.log(a), np.log(b))[0]) if np.all(a > 0) and np.all(b > 0) else float("nan")
    return p, s, lg


def y10_experiment(config="reduced", *, width: int | None = None, archs=None, datasets=None, seed: int = 0,
                   progress: bool = False, **overrides):
    """Claim Y10: does Ŝ_D = σ₁²/N · Q^{(D−1)/D} track the sharpness of wide networks after
    training?

    Trains each architecture of ``archs`` (names in :data:`ARCHS`: ``"linear-D5"``, ``"tanh-D4"``,
    or dicts with ``depth`` and optional ``activation``, ``init_scale``, ``parameterization``,
    ``width`` and ``name``, overriding the configuration's) of width ``width`` by full-batch
    GD (η = ``eta_frac`` / S₀, S₀ the sharpness at initialisation) on each data set of
    ``datasets`` (dicts of :func:`symsharp.data.make_dataset` arguments, with ``kind``), measures
    the final loss-Hessian sharpness (Lanczos with exact HVPs) and the top NTK eigenvalue, and
    correlates the sharpness with Ŝ_D (D = the architecture's depth) over the data sets — all of
    them and per data source — using only runs that converged, did not diverge and did not end
    at the edge of stability (η·S ≤ ``eos_limit``, default 1.8; variable ``used``).  Step size:
    ``eta_rule`` "fixed" (η = ``eta_frac``/S₀, constant) or "adaptive" (η = ``eta_frac``/S
    re-measured every ``adapt_every`` steps; see :func:`train_gd`).

    ``config``: ``"reduced"``, ``"full"`` (see :data:`Y10_CONFIGS`) or a dict; keyword
    ``overrides`` (``eta_frac``, ``eta_rule``, ``adapt_every``, ``eos_limit``, ``max_steps``,
    ``loss_tol``, ``stall_tol``, ``stall_window``, ``parameterization``, ``init_scale``) replace
    its entries.  Returns an ``xarray.Dataset``
    with dims ``arch``, ``data`` and ``group`` (``"all"`` and each data kind); ``attrs
    ["symsharp"]`` is a JSON string of the configuration, which dataset fields were varied (per
    group), the seed and library versions."""
    import xarray as xr

    if isinstance(config, str):
        if config not in Y10_CONFIGS:
            raise WideNetError(f"unknown Y10 configuration {config!r}; choose one of {', '.join(Y10_CONFIGS)}")
        cfg = json.loads(json.dumps(Y10_CONFIGS[config]))
        cfg_name = config
    elif isinstance(config, dict):
        cfg = json.loads(json.dumps(config))
        cfg_name = "custom"
    else:
        raise WideNetError(f"config must be 'reduced', 'full' or a dict, got {config!r}")
    allowed = {"eta_frac", "eta_rule", "adapt_every", "eos_limit", "max_steps", "loss_tol", "stall_tol",
               "stall_window", "parameterization", "init_scale"}
    bad = sorted(set(overrides) - allowed)
    if bad:
        raise WideNetError(f"unknown Y10 option {bad[0]!r}; allowed: {', '.join(sorted(allowed))}")
    cfg.update(overrides)
    if width is not None:
        cfg["width"] = width
    if archs is not None:
        cfg["archs"] = list(archs)
    if datasets is not None:
        cfg["datasets"] = [dict(s) for s in datasets]
    W = _int_at_least(cfg.get("width", 256), "width", 1)
    arch_specs = []
    for a in cfg["archs"]:
        if isinstance(a, str):
            if a not in ARCHS:
                raise WideNetError(f"unknown architecture {a!r}; choose one of {', '.join(ARCHS)} or give a dict")
            a = dict(ARCHS[a], name=a)
        else:
            a = dict(a)
            if "depth" not in a:
                raise WideNetError(f"an architecture dict needs a 'depth', got {a!r}")
            a.setdefault("name", f"{a.get('activation', 'linear')}-D{a['depth']}"
                         + (f"-init{a['init_scale']}" if "init_scale" in a else ""))
        a.setdefault("activation", "linear")
        a.setdefault("init_scale", cfg.get("init_scale", 1.0))
        a.setdefault("parameterization", cfg.get("parameterization", "standard"))
        a.setdefault("width", W)
        arch_specs.append(a)
    names = [a["name"] for a in arch_specs]
    if len(set(names)) != len(names):
        raise WideNetError(f"architecture names must be distinct, got {names}")
    dspecs = cfg["datasets"]
    if not dspecs:
        raise WideNetError("datasets must hold at least one data set")
    labels = [_data_label(s) for s in dspecs]
    for s in dspecs:
        if "kind" not in s:
            raise WideNetError(f"each data set needs a 'kind', got {s!r}")

    # data
    data = []
    for s in dspecs:
        kw = {k: v for k, v in s.items() if k != "kind"}
        kw.setdefault("seed", seed)
        ds = make_dataset(s["kind"], **kw)
        E, sv, _ = svd_coordinates(ds.X)
        dd = E.T @ ds.y
        data.append({"ds": ds, "Q": float(np.sum(dd ** 2 / sv ** 2)), "sigma1": float(sv[0]), "rank": int(sv.size),
                     "colspace": bool(np.linalg.norm(ds.y - E @ dd) <= 1e-10 * np.linalg.norm(ds.y))})

    nA, nD = len(arch_specs), len(data)
    out = {k: np.full((nA, nD), np.nan) for k in ("sharpness", "sharpness0", "ntk_top", "S_hat", "final_loss",
                                                 "grad_norm", "eta", "eta_sharpness", "seconds")}
    steps = np.zeros((nA, nD), np.int64)
    hvps = np.zeros((nA, nD), np.int64)
    conv = np.zeros((nA, nD), bool)
    div = np.zeros((nA, nD), bool)
    reason = np.empty((nA, nD), dtype=object)
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=nA * nD, desc="Y10 runs")
    for i, a in enumerate(arch_specs):
        D = _int_at_least(a["depth"], "depth", 2)
        for j, dat in enumerate(data):
            ds = dat["ds"]
            out["S_hat"][i, j] = dat["sigma1"] ** 2 / ds.N * dat["Q"] ** ((D - 1) / D)
            r = train_network(ds.X, ds.y, depth=D, width=a["width"], activation=a["activation"],
                              parameterization=a["parameterization"], init_scale=a["init_scale"],
                              eta_frac=cfg.get("eta_frac", 0.5),
                              eta_rule=cfg.get("eta_rule", "fixed"), adapt_every=cfg.get("adapt_every", 50),
                              seed=seed + 1000 * i + j, max_steps=cfg.get("max_steps", 10_000),
                              loss_tol=cfg.get("loss_tol", 1e-6), stall_tol=cfg.get("stall_tol", 0.0),
                              stall_window=cfg.get("stall_window", 500), progress=progress)
            res = r["result"]
            out["sharpness"][i, j] = r["sharpness"]
            out["sharpness0"][i, j] = r["sharpness0"]
            out["ntk_top"][i, j] = r["ntk_top"]
            out["final_loss"][i, j] = res.loss
            out["grad_norm"][i, j] = res.grad_norm
            out["eta"][i, j] = r["eta"]
            out["eta_sharpness"][i, j] = r["eta"] * r["sharpness"]
            out["seconds"][i, j] = res.seconds
            steps[i, j] = res.steps
            hvps[i, j] = r["hvps"]
            conv[i, j] = res.converged
            div[i, j] = res.diverged
            reason[i, j] = res.reason
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()

    eos_limit = float(cfg.get("eos_limit", 1.8))
    used = conv & ~div & ~(out["eta_sharpness"] > eos_limit)
    kinds = [d["ds"].meta["kind"] for d in data]
    groups = ["all"] + sorted(set(kinds), key=kinds.index)
    corr = {k: np.full((nA, len(groups)), np.nan) for k in ("pearson", "spearman", "pearson_log")}
    n_used = np.zeros((nA, len(groups)), np.int64)
    for i in range(nA):
        for g, grp in enumerate(groups):
            sel = np.array([(grp == "all" or kinds[j] == grp) and used[i, j] for j in range(nD)])
            n_used[i, g] = int(sel.sum())
            p, s, lg = _correlations(out["sharpness"][i, sel], out["S_hat"][i, sel])
            corr["pearson"][i, g], corr["spearman"][i, g], corr["pearson_log"][i, g] = p, s, lg

    varied = {}
    for grp in groups:
        members = [s for s, k in zip(dspecs, kinds) if grp == "all" or k == grp]
        keys = sorted({k for s in members for k in s})
        varied[grp] = [k for k in keys if len({json.dumps(s.get(k), sort_keys=True) for s in members}) > 1]

    res_ds = xr.Dataset(
        {name: (("arch", "data"), arr) for name, arr in out.items()},
        coords={"arch": [a["name"] for a in arch_specs], "data": labels, "group": groups})
    res_ds["steps"] = (("arch", "data"), steps)
    res_ds["hvps"] = (("arch", "data"), hvps)
    res_ds["converged"] = (("arch", "data"), conv)
    res_ds["diverged"] = (("arch", "data"), div)
    res_ds["used"] = (("arch", "data"), used)
    res_ds["stop_reason"] = (("arch", "data"), reason.astype(str))
    res_ds["kind"] = ("data", np.array(kinds, dtype=str))
    res_ds["N"] = ("data", np.array([d["ds"].N for d in data], np.int64))
    res_ds["d"] = ("data", np.array([d["ds"].d for d in data], np.int64))
    res_ds["rank"] = ("data", np.array([d["rank"] for d in data], np.int64))
    res_ds["Q"] = ("data", np.array([d["Q"] for d in data]))
    res_ds["sigma1"] = ("data", np.array([d["sigma1"] for d in data]))
    res_ds["y_in_colspace"] = ("data", np.array([d["colspace"] for d in data]))
    res_ds["depth"] = ("arch", np.array([int(a["depth"]) for a in arch_specs], np.int64))
    res_ds["activation"] = ("arch", np.array([a["activation"] for a in arch_specs], dtype=str))
    res_ds["width"] = ("arch", np.array([int(a["width"]) for a in arch_specs], np.int64))
    res_ds["init_scale"] = ("arch", np.array([float(a["init_scale"]) for a in arch_specs]))
    res_ds["parameterization"] = ("arch", np.array([a["parameterization"] for a in arch_specs], dtype=str))
    for k, arr in corr.items():
        res_ds[k] = (("arch", "group"), arr)
    res_ds["n_used"] = (("arch", "group"), n_used)
    res_ds["sharpness"].attrs.update(long_name="loss-Hessian sharpness after training (Lanczos, exact HVPs)")
    res_ds["sharpness0"].attrs.update(long_name="loss-Hessian sharpness at initialisation")
    res_ds["ntk_top"].attrs.update(long_name="top eigenvalue of the empirical NTK J J^T / N after training")
    res_ds["S_hat"].attrs.update(long_name="predicted sharpness sigma1^2/N * Q^((D-1)/D)")
    res_ds["pearson"].attrs.update(long_name="Pearson correlation of sharpness and S_hat over converged runs")
    res_ds["spearman"].attrs.update(long_name="Spearman rank correlation of sharpness and S_hat")
    res_ds["pearson_log"].attrs.update(long_name="Pearson correlation of log sharpness and log S_hat")
    meta = {"kind": "y10", "config_name": cfg_name, "config": cfg, "width": W, "archs": arch_specs,
            "seed": seed, "varied": varied, "dtype": "float64",
            "eta_rule": ("eta = eta_frac / sharpness re-measured every adapt_every steps (gradient-flow-like)"
                         if cfg.get("eta_rule", "fixed") == "adaptive" else
                         "eta = eta_frac / (sharpness at initialisation), constant"),
            "used": f"converged, not diverged, eta * sharpness <= eos_limit = {eos_limit}",
            "init": f"{cfg.get('parameterization', 'standard')} parameterisation, init_scale "
                    f"{cfg.get('init_scale', 1.0)}; run (arch i, data j) uses seed + 1000 i + j",
            "versions": _versions(), "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    res_ds.attrs["symsharp"] = json.dumps(meta, default=str)
    return res_ds
