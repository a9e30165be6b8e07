"""GD of the chain model (single-neuron deep linear network) in raw coordinates, in any arithmetic.

Model-specific (the one exception in this package): the network's own arithmetic cannot come from
a SymPy map of fixed size, because the data enter as arrays.  One arithmetic-generic GD step is
written once, as a list of statements (:func:`chain_statements`), and printed for every
arithmetic by the same printers as the maps: batched Numba kernels for float64, float32,
emulated float16/bfloat16 (optionally stochastic rounding) and double-double, and plain Python
for ``mpfr:BITS`` and ``mp:BITS`` (gmpy2 / mpmath objects, one trajectory per call).

The step, with θ = (u ∈ R^d, v_1 … v_{D−1}), data X (N×d), y (N), every operation rounded in the
arithmetic, in this order::

    P   = v_1 · v_2 ⋯ v_{D−1}                      (left to right)
    s_j = X_j1 u_1 + X_j2 u_2 + … + X_jd u_d        (left to right, j = 1 … N)
    r_j = s_j · P − y_j                             (residual)
    a_k = r_1 X_1k + r_2 X_2k + … + r_N X_Nk        (Xᵀ r)
    b   = r_1 s_1 + … + r_N s_N                     (r · Xu)
    E_l = ∏_{m≠l} v_m                               (left to right; 1 when D = 2)
    u_k ← u_k − η · ((P / N) · a_k)
    v_l ← v_l − η · ((b / N) · E_l)

which is ``chain_gd_numpy``'s order of operations for the gradient of L = ‖X u P − y‖²/(2N)
(except that its BLAS products may sum in another order).  Data and η are rounded to the format
once.  Divergence: some |θ_i| > threshold at a check (every ``check_every`` steps and at the
last step).
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numba
import numpy as np

from ..cache import atomic_write, cache_dir, content_hash, import_file
from ..common import CodegenError
from .kernels import CHAIN_SOURCES, NOISE_OP, sources_hash
from .program import Op, Program
from .spec import parse_arith, round_float_array, to_fraction

CHAIN_VERSION = 1


# ============================================================================== the step, once

def chain_statements(D1: int, N="N", d="DIM") -> list:
    """The GD step as statements: ("loop", var, start, stop, body), ("batch", body) (an
    elementwise block over the trajectories), ("load", dst, array, index), ("store", array,
    index, src), ("op", kind, dst, a, b) with operation ids assigned later.  Arrays: per
    trajectory ``U`` (d), ``V`` (D1), ``SS``, ``RR`` (N), ``AA`` (d), ``EE`` (D1), ``PP``, ``BB``,
    ``ETA`` (scalars); data ``XD`` (N, d), ``YD`` (N), ``NC`` (the number N as a 1-vector in the
    format).  Constant ``c0`` = 1.  ``N`` and ``d`` are the names of the loop bounds."""
    S = []
    # P = v_1 ⋯ v_{D−1}
    b = [("load", "w_p", "V", (0,))]
    for l in range(1, D1):
        b += [("load", "w_v", "V", (l,)), ("op", "mul", "w_p", "w_p", "w_v")]
    b += [("store", "PP", (), "w_p"), ("load", "w_nc", "NC", (0,)), ("op", "div", "w_pn", "w_p", "w_nc"),
          ("store", "PN", (), "w_pn")]
    S.append(("batch", b))
    # s_j and r_j
    inner = [("batch", [("load", "w_s", "SS", ("j",)), ("load", "w_x", "XD", ("j", "kk")), ("load", "w_u", "U", ("kk",)),
                        ("op", "mul", "w_q", "w_x", "w_u"), ("op", "add", "w_s", "w_s", "w_q"),
                        ("store", "SS", ("j",), "w_s")])]
    body_j = [("batch", [("load", "w_x", "XD", ("j", 0)), ("load", "w_u", "U", (0,)), ("op", "mul", "w_s", "w_x", "w_u"),
                         ("store", "SS", ("j",), "w_s")])]
    body_j.append(("loop", "kk", 1, d, inner))
    body_j.append(("batch", [("load", "w_s", "SS", ("j",)), ("load", "w_p", "PP", ()), ("op", "mul", "w_f", "w_s", "w_p"),
                             ("load", "w_y", "YD", ("j",)), ("op", "sub", "w_r", "w_f", "w_y"),
                             ("store", "RR", ("j",), "w_r")]))
    S.append(("loop", "j", 0, N, body_j))
    # a_k = Σ_j r_j X_jk
    inner = [("batch", [("load", "w_a", "AA", ("kk",)), ("load", "w_r", "RR", ("j",)), ("load", "w_x", "XD", ("j", "kk")),
                        ("op", "mul", "w_q", "w_r", "w_x"), ("op", "add", "w_a", "w_a", "w_q"),
                        ("store", "AA", ("kk",), "w_a")])]
    body_k = [("batch", [("load", "w_r", "RR", (0,)), ("load", "w_x", "XD", (0, "kk")), ("op", "mul", "w_a", "w_r", "w_x"),
                         ("store", "AA", ("kk",), "w_a")])]
    body_k.append(("loop", "j", 1, N, inner))
    S.append(("loop", "kk", 0, d, body_k))
    # b = Σ_j r_j s_j
    S.append(("batch", [("load", "w_r", "RR", (0,)), ("load", "w_s", "SS", (0,)), ("op", "mul", "w_b", "w_r", "w_s"),
                        ("store", "BB", (), "w_b")]))
    if True:
        S.append(("loop", "j", 1, N, [("batch", [
            ("load", "w_b", "BB", ()), ("load", "w_r", "RR", ("j",)), ("load", "w_s", "SS", ("j",)),
            ("op", "mul", "w_q", "w_r", "w_s"), ("op", "add", "w_b", "w_b", "w_q"), ("store", "BB", (), "w_b")])]))
    # E_l = ∏_{m≠l} v_m
    b = []
    for l in range(D1):
        others = [m for m in range(D1) if m != l]
        if not others:
            b.append(("store", "EE", (l,), "c0"))
            continue
        b.append(("load", "w_e", "V", (others[0],)))
        for m in others[1:]:
            b += [("load", "w_v", "V", (m,)), ("op", "mul", "w_e", "w_e", "w_v")]
        b.append(("store", "EE", (l,), "w_e"))
    S.append(("batch", b))
    # u update
    S.append(("loop", "kk", 0, d, [("batch", [
        ("load", "w_a", "AA", ("kk",)), ("load", "w_pn", "PN", ()), ("op", "mul", "w_g", "w_pn", "w_a"),
        ("load", "w_eta", "ETA", ()), ("op", "mul", "w_g", "w_eta", "w_g"), ("load", "w_u", "U", ("kk",)),
        ("op", "sub", "w_u", "w_u", "w_g"), ("store", "U", ("kk",), "w_u")])]))
    # v update (E computed from the old v above)
    b = [("load", "w_b", "BB", ()), ("load", "w_nc", "NC", (0,)), ("op", "div", "w_bn", "w_b", "w_nc"),
         ("load", "w_eta", "ETA", ())]
    for l in range(D1):
        b += [("load", "w_e", "EE", (l,)), ("op", "mul", "w_g", "w_bn", "w_e"), ("op", "mul", "w_g", "w_eta", "w_g"),
              ("load", "w_v", "V", (l,)), ("op", "sub", "w_v", "w_v", "w_g"), ("store", "V", (l,), "w_v")]
    S.append(("batch", b))
    _number_ops(S, [0])
    return S


def _number_ops(stmts, counter):
    for i, s in enumerate(stmts):
        if s[0] == "op" and len(s) == 5:
            stmts[i] = s + (counter[0],)
            counter[0] += 1
        elif s[0] == "loop":
            _number_ops(s[4], counter)
        elif s[0] == "batch":
            _number_ops(s[1], counter)


def _opid(static: int, loops: list) -> str:
    """Operation id expression: unique over (static op, j, kk) for any N (the data's rows)."""
    jv = "j" if "j" in loops else "(-1)"
    kv = "kk" if "kk" in loops else "(-1)"
    return f"({static} + 64 * ((({kv}) + 1) * (N + 1) + ({jv}) + 1))"


PER_TRAJ = ("U", "V", "SS", "RR", "AA", "EE", "PP", "PN", "BB", "ETA")
DATA = ("XD", "YD")


# ============================================================================== printing

def _numba_lines(stmts, pr, dd: bool, ind: int, loops: list) -> list:
    out = []
    pad = "    " * ind
    for s in stmts:
        kind = s[0]
        if kind == "loop":
            _, var, a, b, body = s
            out.append(f"{pad}for {var} in range({a}, {b}):")
            out += _numba_lines(body, pr, dd, ind + 1, loops + [var])
        elif kind == "batch":
            out.append(f"{pad}for i in range(n):")
            if _is_sr(pr):
                out.append(f"{pad}    sk = skeys[i]")
            out += _numba_lines(s[1], pr, dd, ind + 1, loops)
        elif kind == "load":
            _, dst, arr, idx = s
            ix = ", ".join(str(v) for v in idx)
            full = (ix + ", i" if ix else "i") if arr in PER_TRAJ else ix
            if dd:
                out.append(f"{pad}{dst}_h = {arr}[{full}]")
                out.append(f"{pad}{dst}_l = {arr}L[{full}]")
            else:
                out.append(f"{pad}{dst} = {arr}[{full}]")
        elif kind == "store":
            _, arr, idx, src = s
            ix = ", ".join(str(v) for v in idx)
            full = ix + ", i" if ix else "i"
            if dd:
                out.append(f"{pad}{arr}[{full}] = {pr.hi(src)}")
                out.append(f"{pad}{arr}L[{full}] = {pr.lo(src)}")
            else:
                out.append(f"{pad}{arr}[{full}] = {pr.ref(src)}")
        elif kind == "op":
            _, k, dst, a, b, sid = s
            for ln in pr.op_lines(Op(dst, k, (a, b)), _opid(sid, loops)):
                out.append(pad + ln)
    return out


def _is_sr(pr) -> bool:
    """True when the printer rounds stochastically."""
    return getattr(pr, "rounding", "nearest") == "stochastic"


def _python_lines(stmts, pr, ind: int) -> list:
    out = []
    pad = "    " * ind
    for s in stmts:
        kind = s[0]
        if kind == "loop":
            _, var, a, b, body = s
            out.append(f"{pad}for {var} in range({a}, {b}):")
            out += _python_lines(body, pr, ind + 1)
        elif kind == "batch":
            out += _python_lines(s[1], pr, ind)
        elif kind == "load":
            _, dst, arr, idx = s
            out.append(f"{pad}{dst} = {_pyindex(arr, idx)}")
        elif kind == "store":
            _, arr, idx, src = s
            out.append(f"{pad}{_pyindex(arr, idx)} = {pr.ref(src)}")
        elif kind == "op":
            _, k, dst, a, b, sid = s
            for ln in pr.op_lines(Op(dst, k, (a, b))):
                out.append(pad + ln)
    return out


def _pyindex(arr, idx):
    if arr in ("PP", "PN", "BB", "ETA", "NC"):
        return f"{arr}[0]"
    if arr == "XD":
        return f"XD[{idx[0]}][{idx[1]}]"
    return f"{arr}[{idx[0]}]"


def _consts_program() -> Program:
    prog = Program((), ())
    prog.consts = [Fraction(1)]
    return prog


def numba_source(D1, fmt, rounding, key) -> str:
    """Source of the batched chain GD kernel module in ``fmt`` (depth D1 + 1; any data size)."""
    from .printers import DDPrinter, FloatPrinter

    dd = fmt == "dd"
    cprog = _consts_program()
    pr = DDPrinter(cprog) if dd else FloatPrinter(fmt, rounding)
    dt = "np.float64" if dd or fmt == "float64" else "np.float32"
    stmts = chain_statements(D1)
    L = [f'"""Chain-model GD kernel (raw coordinates, depth D = {D1 + 1}) in {fmt}, '
         f'{rounding} rounding; generated by symsharp.codegen.arith.chain.  Do not edit."""',
         "import math", "import numpy as np", "import numba as nb",
         "from symsharp.codegen.arith.rounding import (fma, op_bits, rne_bf16, rne_bf16_kernel, rne_fp16, sr_bf16, "
         "sr_fp16, step_key, traj_key, uniform_pm1)", "",
         f"KEY = {key!r}", f"FORMAT = {fmt!r}", f"ROUNDING = {rounding!r}", f"DEPTH = {D1 + 1}",
         f"NOISE_OP = {NOISE_OP}"]
    L += pr.const_defs(cprog)
    args = ("U0, U0L, V0, V0L, XD, XDL, YD, YDL, NC, NCL, ETA0, ETA0L, steps, rec_every, REC, thr, check_every, DIV, "
            "DIV_AT, seed, TID, noise_bits")
    L += ["", "", "@nb.njit(cache=True)", f"def run_tile(lo, hi, {args}):",
          '    """Trajectories lo … hi−1: time outer, data loops, the tile innermost."""',
          "    amp = 2.0 ** (-noise_bits) if noise_bits > 0 else 0.0", "    if True:", "        n = hi - lo",
          "        N = XD.shape[0]", "        DIM = XD.shape[1]"]
    body = []
    for a in ("U", "V"):
        body.append(f"{a} = {a}0[:, lo:hi].copy()")
        body.append(f"{a}L = {a}0L[:, lo:hi].copy()" if dd else f"{a}L = {a}0L[:, lo:hi]")
    body.append("ETA = ETA0[lo:hi].copy()")
    body.append("ETAL = ETA0L[lo:hi].copy()")
    for a, shape in (("SS", "(N, n)"), ("RR", "(N, n)"), ("AA", "(DIM, n)"), ("EE", f"({D1}, n)"),
                     ("PP", "n"), ("PN", "n"), ("BB", "n")):
        body.append(f"{a} = np.empty({shape}, {dt})")
        if dd:
            body.append(f"{a}L = np.empty({shape}, np.float64)")
    body += ["tk = np.empty(n, np.uint64)", "skeys = np.empty(n, np.uint64)", "for i in range(n):",
             "    tk[i] = traj_key(seed, TID[lo + i])", "alive = 0", "for i in range(n):",
             "    if not DIV[lo + i]:", "        alive += 1", "if rec_every > 0:", "    for i in range(n):"]
    body += ["        for q in range(DIM):", "            REC[0, q, lo + i] = U[q, i]",
             f"        for q in range({D1}):", "            REC[0, DIM + q, lo + i] = V[q, i]"]
    body += ["for t in range(1, steps + 1):"]
    if _is_sr(pr):
        body += ["    for i in range(n):", "        skeys[i] = step_key(tk[i], t)"]
    body += _numba_lines(stmts, pr, dd, 1, [])
    # injected noise
    body += ["    if noise_bits > 0:", "        for i in range(n):", "            nk = step_key(tk[i], t)"]
    if _is_sr(pr):
        body.append("            sk = nk")
    for a, rows, off in (("U", "DIM", "0"), ("V", str(D1), "DIM")):
        body.append(f"            for q in range({rows}):")
        body.append(f"                xi = amp * uniform_pm1(op_bits(nk, NOISE_OP + {off} + q))")
        if dd:
            body += [f"                _n_h = {a}[q, i] * xi", f"                _n_l = fma({a}[q, i], xi, -_n_h) + {a}L[q, i] * xi",
                     f"                _a_h = {a}[q, i] + _n_h", f"                _a_b = _a_h - {a}[q, i]",
                     f"                _a_l = ({a}[q, i] - (_a_h - _a_b)) + (_n_h - _a_b) + {a}L[q, i] + _n_l",
                     f"                {a}[q, i] = _a_h + _a_l", f"                {a}L[q, i] = _a_l - ({a}[q, i] - _a_h)"]
        else:
            inner = pr.rnd(f"{a}[q, i] * {dt}(xi)", f"NOISE_OP + 4096 + {off} + q") if pr.emulated else f"{a}[q, i] * {dt}(xi)"
            outer = pr.rnd(f"{a}[q, i] + {inner}", f"NOISE_OP + 8192 + {off} + q") if pr.emulated else f"{a}[q, i] + {inner}"
            body.append(f"                {a}[q, i] = {outer}")
    body += ["    if rec_every > 0 and t % rec_every == 0:", "        r = t // rec_every", "        for i in range(n):"]
    body += ["            for q in range(DIM):", "                REC[r, q, lo + i] = U[q, i]",
             f"            for q in range({D1}):", "                REC[r, DIM + q, lo + i] = V[q, i]"]
    body += ["    if t % check_every == 0 or t == steps:", "        for i in range(n):", "            if not DIV[lo + i]:",
             "                ok = True", "                for q in range(DIM):", "                    if not (abs(U[q, i]) <= thr):",
             "                        ok = False", f"                for q in range({D1}):",
             "                    if not (abs(V[q, i]) <= thr):", "                        ok = False", "                if not ok:",
             "                    DIV[lo + i] = True", "                    DIV_AT[lo + i] = t", "                    alive -= 1",
             "        if alive == 0:", "            break"]
    body += ["U0[:, lo:hi] = U", "V0[:, lo:hi] = V"]
    if dd:
        body += ["U0L[:, lo:hi] = UL", "V0L[:, lo:hi] = VL"]
    L += ["        " + ln for ln in body]
    L += ["", "", "@nb.njit(cache=True, parallel=True)", f"def iterate({args}, tile):",
          '    """Advance U0 (d, B), V0 (D-1, B) in place by ``steps`` GD steps; tiles go to the cores."""',
          "    B = U0.shape[1]", "    ntiles = (B + tile - 1) // tile", "    for it in nb.prange(ntiles):",
          "        lo = it * tile", f"        run_tile(lo, min(B, lo + tile), {args})"]
    return "\n".join(L) + "\n"


def python_source(D1, key) -> str:
    """Source of the one-trajectory chain GD module for number objects (mpfr, mpf)."""
    from .printers import ObjectPrinter

    pr = ObjectPrinter()
    stmts = chain_statements(D1)
    L = [f'"""Chain-model GD (raw coordinates, depth D = {D1 + 1}) for number objects; '
         'generated by symsharp.codegen.arith.chain.  Do not edit."""', f"KEY = {key!r}", "", "",
         "def run(U, V, XD, YD, NC, eta, steps, thr, check_every, C0, record_every=0):",
         '    """Advance the lists U, V in place; returns (diverged_at, records)."""',
         "    N = len(XD)", "    DIM = len(XD[0])",
         "    SS = [None] * N", "    RR = [None] * N", "    AA = [None] * DIM", f"    EE = [None] * {D1}",
         "    PP = [None]", "    PN = [None]", "    BB = [None]", "    ETA = [eta]", "    div_at = -1",
         "    recs = [list(U) + list(V)] if record_every else None",
         "    for t in range(1, steps + 1):"]
    L += _python_lines(stmts, pr, 2)
    L += ["        if record_every and t % record_every == 0:", "            recs.append(list(U) + list(V))",
          "        if t % check_every == 0 or t == steps:",
          "            if not (all(abs(w) <= thr for w in U) and all(abs(w) <= thr for w in V)):",
          "                div_at = t", "                break", "    return div_at, recs"]
    return "\n".join(L) + "\n"


# ============================================================================== runtime

@dataclass
class ChainResult:
    """Final states u (B, d), v (B, D−1) as float64 (dd: high words, low words in ``u_lo``,
    ``v_lo``), divergence flags and steps (−1: never), and records (R, B, d + D − 1) of (u, v) at
    steps 0, r, 2r, … when requested."""

    u: np.ndarray
    v: np.ndarray
    diverged: np.ndarray
    diverged_at: np.ndarray
    records: np.ndarray | None
    record_steps: np.ndarray
    u_lo: np.ndarray | None = None
    v_lo: np.ndarray | None = None


def _check_data(X, y):
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    if X.ndim != 2 or X.shape[0] != y.shape[0] or X.size == 0:
        raise CodegenError(f"X must be an N×d array and y a length-N vector, got shapes {X.shape} and {y.shape}")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise CodegenError("X and y must be finite")
    return X, y


class ChainGD:
    """Full-batch GD of the chain model of depth ``depth`` on (X, y) in raw coordinates, in the
    arithmetic ``arith`` (see the module docstring).  :meth:`run` iterates a batch of
    trajectories (initial states and learning rates per trajectory)."""

    def __init__(self, X, y, depth: int, arith="float64", rounding: str = "nearest"):
        X, y = _check_data(X, y)
        D = int(depth)
        if D != depth or D < 2:
            raise CodegenError(f"depth must be an integer ≥ 2, got {depth!r}")
        self.arith = parse_arith(arith)
        if self.arith.kind == "arb":
            raise CodegenError("ball arithmetic (arb) is not available for chain-model GD; use mpfr or mp")
        if rounding not in ("nearest", "stochastic"):
            raise CodegenError(f"rounding must be 'nearest' or 'stochastic', got {rounding!r}")
        if rounding == "stochastic" and self.arith.name not in ("float16", "bfloat16"):
            raise CodegenError(f"stochastic rounding is available for float16 and bfloat16, not {self.arith.name}")
        self.rounding = rounding
        self.X, self.y = X, y
        self.N, self.d = X.shape
        self.D1 = D - 1
        self._mod = None
        key = content_hash("symsharp-chain-gd", CHAIN_VERSION, sources_hash(CHAIN_SOURCES), NOISE_OP, numba.__version__,
                           self.arith.name if self.arith.is_kernel else "object", rounding, self.D1)
        if self.arith.is_kernel:
            path = cache_dir() / f"chain_gd_{self.arith.name}_{rounding[:2]}_D{D}_{key[:20]}.py"
            if not path.exists():
                atomic_write(path, numba_source(self.D1, self.arith.name, rounding, key))
        else:
            path = cache_dir() / f"chain_gd_py_D{D}_{key[:20]}.py"
            if not path.exists():
                atomic_write(path, python_source(self.D1, key))
        self.path = Path(path)
        self._mod = import_file(self.path)

    def __repr__(self):
        return f"ChainGD(N={self.N}, d={self.d}, D={self.D1 + 1}, {self.arith.name}, {self.rounding})"

    # ---------------------------------------------------------------- conversion
    def _kernel_arrays(self, a):
        """(hi, lo) of a float64 array in the kernel format."""
        fmt = self.arith.name
        a = np.asarray(a, np.float64)
        if fmt == "dd":
            return np.array(a, order="C"), np.zeros_like(a)
        dt = np.float64 if fmt == "float64" else np.float32
        hi = np.array(round_float_array(a, fmt).astype(dt), order="C")
        return hi, np.zeros_like(hi)

    def run(self, u0, v0, eta, steps: int, threshold: float = 1e6, check_every: int = 16, seed: int = 0,
            traj_ids=None, noise_bits: int = 0, record_every: int = 0, tile: int | None = None) -> ChainResult:
        """Run B trajectories: ``u0`` (B, d), ``v0`` (B, D−1) float64 initial states (rounded to
        the format), ``eta`` scalar or (B,).  ``traj_ids`` name the trajectories for the random
        bits (stochastic rounding, ``noise_bits`` > 0 injected relative noise 2^-p per step and
        parameter).  Multiple-precision arithmetics run one trajectory after another (use a
        process pool above this for many)."""
        u0 = np.atleast_2d(np.asarray(u0, np.float64))
        v0 = np.atleast_2d(np.asarray(v0, np.float64))
        if u0.shape[1] != self.d or v0.shape[1] != self.D1 or u0.shape[0] != v0.shape[0]:
            raise CodegenError(f"u0 must be (B, {self.d}) and v0 (B, {self.D1}), got {u0.shape} and {v0.shape}")
        B = u0.shape[0]
        eta = np.broadcast_to(np.asarray(eta, np.float64), (B,)).copy()
        steps = int(steps)
        rsteps = np.arange(0, steps + 1, record_every, dtype=np.int64) if record_every else np.zeros(0, np.int64)
        tid = np.arange(B, dtype=np.int64) if traj_ids is None else np.asarray(traj_ids, np.int64).reshape(B)
        if self.arith.is_kernel:
            return self._run_kernel(u0, v0, eta, steps, threshold, check_every, seed, tid, noise_bits, record_every,
                                    rsteps, tile)
        if noise_bits:
            raise CodegenError("injected noise is implemented in the kernel arithmetics only")
        return self._run_python(u0, v0, eta, steps, threshold, check_every, record_every, rsteps)

    def _run_kernel(self, u0, v0, eta, steps, thr, every, seed, tid, noise_bits, record_every, rsteps, tile):
        B = u0.shape[0]
        U, UL = self._kernel_arrays(u0.T)
        V, VL = self._kernel_arrays(v0.T)
        XD, XDL = self._kernel_arrays(self.X)
        YD, YDL = self._kernel_arrays(self.y)
        NC, NCL = self._kernel_arrays(np.array([float(self.N)]))
        E, EL = self._kernel_arrays(eta)
        rec = np.full((len(rsteps), self.d + self.D1, B), np.nan)
        div = np.zeros(B, np.bool_)
        div_at = np.full(B, -1, np.int64)
        if tile is None:
            per = -(-B // max(1, numba.get_num_threads()))
            tile = max(8, min(256, -(-per // 8) * 8))
        with numba.parallel_chunksize(1):
            self._mod.iterate(U, UL, V, VL, XD, XDL, YD, YDL, NC, NCL, E, EL, np.int64(steps), np.int64(record_every), rec,
                              np.float64(thr), np.int64(every), div, div_at, np.int64(seed), tid, np.int64(noise_bits),
                              np.int64(tile))
        dd = self.arith.name == "dd"
        return ChainResult(U.T.astype(np.float64), V.T.astype(np.float64), div, div_at,
                           np.moveaxis(rec, 2, 1) if len(rsteps) else None, rsteps,
                           UL.T.copy() if dd else None, VL.T.copy() if dd else None)

    def _run_python(self, u0, v0, eta, steps, thr, every, record_every, rsteps):
        from .spec import require_backend

        a = self.arith
        mod = require_backend(a.kind)
        if a.kind == "mpfr":
            ctx = mod.context(precision=a.bits)

            def conv(q):
                q = to_fraction(q)
                return mod.mpfr(mod.mpq(q.numerator, q.denominator))
        else:
            ctx = mod.workprec(a.bits)

            def conv(q):
                q = to_fraction(q)
                return mod.mpf(q.numerator) / q.denominator
        B = u0.shape[0]
        uo = np.empty((B, self.d))
        vo = np.empty((B, self.D1))
        div_at = np.full(B, -1, np.int64)
        recs = np.full((len(rsteps), B, self.d + self.D1), np.nan) if record_every else None
        with ctx:
            XD = [[conv(float(v)) for v in row] for row in self.X]
            YD = [conv(float(v)) for v in self.y]
            NC, C0 = [conv(self.N)], conv(1)
            thr_c = conv(float(thr))
            for b in range(B):
                U = [conv(float(v)) for v in u0[b]]
                V = [conv(float(v)) for v in v0[b]]
                da, rr = self._mod.run(U, V, XD, YD, NC, conv(float(eta[b])), int(steps), thr_c, int(every), C0,
                                       int(record_every))
                div_at[b] = da
                uo[b] = [float(w) for w in U]
                vo[b] = [float(w) for w in V]
                if record_every:
                    for r, row in enumerate(rr):
                        recs[r, b] = [float(w) for w in row]
        return ChainResult(uo, vo, div_at >= 0, div_at, recs, rsteps)
