"""The setup in one place: what the paper states (quoted verbatim, with its source), what this app chooses where
the paper is silent (and why), and the earlier analyses' rates as the upper bounds the poster cites.

Pages render these; they never restate the paper in their own words. Plain data and strings only (no
Streamlit), so the CLI, the README and the tests read the same text.

The paper: "Sharper Guarantees for Learning Neural Network Classifiers with Gradient Methods" (Taheri,
Thrampoulidis, Mazumdar; arXiv 2410.10024, ICLR 2025). Its full text was not available to us; the sources
quoted are the poster, the arXiv abstract (v2), the public OpenReview reviews (forum h7GAgbLSmC) and a
public summary that quotes the paper's Figure 1 caption.
"""
from __future__ import annotations

from dataclasses import dataclass

# the poster: Taheri, Thrampoulidis, Mazumdar, "Sharp Guarantees for Learning Neural Networks with Gradient Methods"
POSTER = "poster"
ABSTRACT = "arXiv 2410.10024v2, abstract"
REVIEWS = "OpenReview reviews, forum h7GAgbLSmC"
SUMMARY = "a public summary quoting the paper's Figure 1 caption"


@dataclass(frozen=True)
class Quote:
    """A statement of the paper, word for word (formulas in plain text), and where it is from."""

    text: str  # verbatim; "..." marks a cut
    source: str  # e.g. "poster, Table 2"

    def markdown(self) -> str:
        """As a block quote with its source. Example: QUOTES["theorem"].markdown().startswith("> ")"""
        return f"> {self.text}\n>\n> ({self.source})"


@dataclass(frozen=True)
class Choice:
    """A setting the app had to choose: what the paper says of it, what the app does, and why."""

    topic: str  # e.g. "initialization"
    paper: str  # the paper's words on it (quoted), or "not stated"
    here: str  # what this app does
    why: str  # the reason, and where the choice is tested (a page or a measurement)


QUOTES: dict[str, Quote] = {
    "xor": Quote("x ∈ {±1}^d, y = x_1 · x_2", f"{POSTER}, 'Benefits of Feature learning'"),
    "theorem": Quote(
        "Theorem (informal): A two-layer network of constant width m can achieve zero test error on the XOR "
        "problem with n = Õ(d) samples after log(d) SGD iterations with step-size η = m.",
        f"{POSTER}, 'Benefits of Feature learning'"),
    "abstract_xor": Quote(
        "we show for a one-hidden-layer neural network of constant width m with quadratic activation and standard "
        "Gaussian initialization that mini-batch SGD with linear sample complexity and with a large step-size η=m "
        "reaches the perfect test accuracy after only ⌈log(d)⌉ iterations, where d is the data dimension.",
        ABSTRACT),
    "abstract_deep": Quote(
        "Specialized to noiseless data separable with margin γ by neural tangent kernel (NTK) features of a network "
        "of width Ω(poly(log(n))), we show the test-error rate to be e^{O(L)}/γ^2 n, where n is the training set "
        "size and L denotes the number of hidden layers.", ABSTRACT),
    "kernel_ball": Quote(
        "If ||W*_kernel - W_0|| ≤ m^{O(L^-1)}, the network effectively operates in the kernel regime.",
        f"{POSTER}, 'Kernel regime's results'"),
    "table1": Quote(
        "Table 1: Comparing our results for learning deep nets under kernel regime to previous results. Here m: "
        "width, L: depth, n: number of samples, γ: class margin.", f"{POSTER}, Table 1 caption"),
    "table2": Quote(
        "Table 2: Comparison of our results in learning the d-dimensional XOR distribution with large step-size to "
        "kernel regime's results.", f"{POSTER}, Table 2 caption"),
    "fig1": Quote(
        "Fig1: Test error vs iteration number for SGD learning of the XOR distribution for different data "
        "dimensions. Here η=m=20 and n=6d.", f"{POSTER}, Fig 1 caption"),
    "review_digits": Quote(
        "Experiments with a 2-hidden layer network on MNIST and FashionMNIST show that the theoretical bounds "
        "provide accurate approximations for the test loss and generalization gap", REVIEWS),
    "review_xor": Quote("n = O(d) samples. An experiment also confirms the logarithmic dependency on data dimension",
                        REVIEWS),
    "review_eta": Quote("In Theorem 2.4, the step size is equal to the width", REVIEWS),
    "motivation": Quote(
        "Neural nets can operate in the kernel regime where the weights stay close to initialization. By using "
        "large step sizes, the network weights can move far from initialization, learn underlying features and "
        "achieve better test performance.", f"{POSTER}, 'Motivation: Kernel and Feature Learning'"),
    "q3": Quote("Q3: How large can the radius of B(W_0) be?", f"{POSTER}, 'Motivation: Kernel and Feature Learning'"),
    "kernel_better": Quote("Our analysis leads to better test loss bounds for learning under the kernel regime.",
                           f"{POSTER}, 'Kernel regime's results'"),
    "abstract_xor_short": Quote("mini-batch SGD ... with a large step-size η=m reaches the perfect test accuracy "
                                "after only ⌈log(d)⌉ iterations", ABSTRACT),
    "large_steps": Quote("By using large step sizes, the network weights can move far from initialization, learn "
                         "underlying features and achieve better test performance.",
                         f"{POSTER}, 'Motivation: Kernel and Feature Learning'"),
    "figure1_digits": Quote(
        "Iteration-based distance from initialization (||w_t - w_0||), training loss, test loss and generalization "
        "gap (i.e., test loss - train loss) for training a two hidden-layer neural network with FashionMNIST "
        "dataset and two choices of step-size. Here n = 12 × 10^3, m = 500, and total number of parameters "
        "p ≈ 6 × 10^5.", SUMMARY),
}


@dataclass(frozen=True)
class Bound:
    """One row of the poster's tables: an analysis's width condition and rates, all upper bounds."""

    analysis: str
    width: str
    rates: dict[str, str]
    ours: bool  # the paper's own result (True) or an earlier analysis the poster cites (False)


# Poster Table 1 (deep nets, kernel regime) and Table 2 (XOR). Every entry is an order-of-magnitude upper bound
# from an analysis, not a measurement: the earlier analyses' rows say what those proofs guarantee, not what a
# kernel-regime network does.
TABLE1 = (
    Bound("Chen et al. 2021 (earlier analysis, upper bound)", "Ω(poly(log(n)/γ))",
          {"test loss": "e^{O(L)}/γ^2 · sqrt(m/n)"}, ours=False),
    Bound("this paper (upper bound)", "Ω(poly(log(n)/γ))", {"test loss": "e^{O(L)}/(γ^2 n)"}, ours=True),
)
TABLE2 = (
    Bound("kernel regime's result (earlier analyses, upper bounds)", "Ω(poly(d))",
          {"iterations": "d^2", "samples": "d^2"}, ours=False),
    Bound("feature learning (this paper, upper bounds)", "Ω(1)", {"iterations": "log(d)", "samples": "d"}, ours=True),
)


CHOICES: tuple[Choice, ...] = (
    Choice("network", "\"one-hidden-layer neural network of constant width m with quadratic activation\" (abstract)",
           "f(x) = c · Σ_j a_j (w_j · x)^2, j = 1..m",
           "the abstract's network; the form of the output layer is ours (next rows)"),
    Choice("second layer", "not stated",
           "fixed, a_j = +1 for half the neurons and -1 for the other half; only W is trained",
           "a symmetric fixed readout makes f(W0) average zero and leaves SGD one weight matrix to move, as in the "
           "XOR analyses the poster compares with"),
    Choice("initialization", "\"standard Gaussian initialization\" (abstract)",
           "W0 entries N(0, 1/d) on inputs in {-1,+1}^d",
           "standard Gaussian weights on unit-norm inputs x/sqrt(d): <w_j, x> ~ N(0, 1) at every d. N(0, 1) weights "
           "on the raw inputs is the other reading; the Poster Fig 1 page measures it"),
    Choice("output scale c", "not stated",
           "c = 1/m (mean field) for feature learning; c = 1/sqrt(m) (NTK scale) for the kernel regime",
           "with η = m and c = 1/m one step moves each neuron by O(1) (η c = 1), so the features can change; the NTK "
           "scale with η = O(1) keeps W within O(1/sqrt(m)) of W0, the kernel regime"),
    Choice("width and step size", "\"η=m=20\" (poster Fig 1); \"step-size η=m\" (abstract)", "m = 20, η = 20",
           "as stated"),
    Choice("loss and optimizer", "\"mini-batch SGD\" (abstract); the deep-net result is for \"the logistic loss\"",
           "logistic loss log(1 + e^{-y f}); plain SGD, constant step, no momentum, no weight decay",
           "the abstract names the logistic loss for deep nets and SGD for XOR; nothing else is stated"),
    Choice("samples per step (Fig 1)", "\"n=6d\" (poster Fig 1); \"mini-batch SGD with linear sample complexity\"",
           "online: each step draws a fresh batch of 6d samples (6d · ceil(ln d) in all)",
           "the reading that reproduces ceil(ln d) here; one fixed set of n = 6d (full batch and mini-batches) is "
           "measured beside it on the Poster Fig 1 page"),
    Choice("log base", "\"⌈log(d)⌉ iterations\" (abstract)", "natural log: ceil(ln d)",
           "not stated; ln fits the measured first zero-error steps (log2 would predict 5 to 11 for d = 25 to 1600)"),
    Choice("zero test error", "\"zero test error\" (poster); \"perfect test accuracy\" (abstract)",
           "no mistake on a fixed test set drawn independently of training (4000 points on Poster Fig 1, 2000 for "
           "n*, 1000 on the other pages; each page states its own)",
           "a finite test set can only bound the error: 0 mistakes in N points puts it below 3/N with 95% confidence "
           "(0.075% for N = 4000, 0.3% for N = 1000)"),
    Choice("kernel regime", "Table 2's kernel row cites earlier analyses' upper bounds, no setup",
           "the same network at the NTK scale c = 1/sqrt(m), m = 512 to 2048, η = 1; and its exact linearization "
           "around W0",
           "the linearization is the kernel regime by construction; its tangent kernel for the quadratic "
           "activation is proportional to (x · x')^2"),
    Choice("iterations in the kernel regime", "Table 2's kernel row: \"Iteration d^2\" (earlier analyses' upper "
           "bound); no setup", "the kernel preset on the same online stream as feature learning (6d fresh samples a "
           "step, same seeds), a step budget (120 by default), the first step with zero test error on 1000 points",
           "with 6d samples a step, d^2 samples take about d/6 steps: the Iterations page draws that ~d shape "
           "through its first kernel point as a reference, not as a prediction"),
    Choice("sample-complexity map", "\"n = Õ(d) samples\" (poster); Table 2: \"Sample d\" against the kernel "
           "row's \"d^2\"", "one fixed training set of n per seed, full batch; feature learning 200 steps, kernel "
           "regime 300 steps (m = 512, η = 1); a cell passes at mean test error <= 0.02 on 1000 points; n doubles "
           "from 16, d = 8 to 64",
           "a quick overview of error against (d, n); its edges are known only to a factor 2 in n over a short "
           "range of d, so the n* page measures zero test error over d = 16 to 1024 instead"),
    Choice("deep-net task", "\"noiseless data separable with margin γ by neural tangent kernel (NTK) features of a "
           "network of width Ω(poly(log(n)))\" (abstract); \"smooth activation\" (abstract)",
           "XOR on {-1,+1}^8, L hidden layers, softplus (or GELU), NTK scale 1/sqrt(m), η = 2, T = n full-batch "
           "steps, widths 32 to 1024",
           "XOR's label is a quadratic function of x, which the NTK's quadratic part separates; T = n makes ηT grow "
           "like n as in the analysis. The margin γ is not computed, so the width condition is not checked; the "
           "distance from init is, in one plain reading (next row)"),
    Choice("kernel-regime boundary", "\"If ||W*_kernel - W_0|| ≤ m^{O(L^-1)}, the network effectively operates in "
           "the kernel regime.\" (poster)", "the Regime map draws the line where the relative distance "
           "||W - W0|| / ||W0|| crosses 1; the Deep nets page compares the absolute distance with m^(1/L)",
           "the constant in O(1/L) is not given, so m^(1/L) is one plain reading of the radius; a relative "
           "distance of 1 means the weights moved as far as their initial norm"),
    Choice("real-data experiment", "\"two hidden-layer neural network with FashionMNIST dataset and two choices of "
           "step-size. Here n = 12 × 10^3, m = 500\" (Figure 1 caption, public summary)",
           "two hidden layers of width 500 (settable), smooth activation (softplus), NTK-style scaling, scalar "
           "output, logistic loss, full-batch gradient descent, two classes of digits",
           "784·500 + 500·500 + 500 ≈ 6.4 × 10^5 parameters matches \"p ≈ 6 × 10^5\" only with a scalar output, "
           "so a binary task; the classes, activation and scaling are not stated"),
)


def choice(topic: str) -> Choice:
    """The choice on one topic. Example: choice("log base").here == "natural log: ceil(ln d)" """
    for c in CHOICES:
        if c.topic == topic:
            return c
    raise KeyError(topic)


def choices_rows(topics: tuple[str, ...] | None = None) -> list[dict[str, str]]:
    """The choices as table rows (topic, the paper, this app, why), all of them or the named topics in order."""
    picked = CHOICES if topics is None else tuple(choice(t) for t in topics)
    return [{"setting": c.topic, "the paper": c.paper, "this app": c.here, "why": c.why} for c in picked]


def bounds_lines(table: tuple[Bound, ...], rates: tuple[str, ...] | None = None) -> list[str]:
    """A poster table as one line per analysis, each named as the upper bound it is, with the named rates (all).

    Example:
        >>> bounds_lines(TABLE2, ("samples",))[0]
        "kernel regime's result (earlier analyses, upper bounds): width Ω(poly(d)); samples d^2"
    """
    return [f"{b.analysis}: width {b.width}; " + "; ".join(f"{k} {v}" for k, v in b.rates.items()
                                                         if rates is None or k in rates) for b in table]


def bounds_rows(table: tuple[Bound, ...]) -> list[dict[str, str]]:
    """A poster table as rows, each analysis labelled as an upper bound (the earlier ones as the poster cites them)."""
    return [{"analysis": b.analysis, "width": b.width, **b.rates} for b in table]
