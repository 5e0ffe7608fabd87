"""Write the course notebooks (``notebooks/*.ipynb``) from the cells below, outputs empty.

The notebooks are generated so their source stays reviewable as Python and no output is ever
committed: edit this file, then ``python notebooks/make_notebooks.py``. Each notebook follows
one part of the notes (quoted in Italian, with English alongside), calls reti's public API and
runs top to bottom in a few minutes on 2 CPU cores (tests/test_notebooks.py executes them).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

# Every notebook starts with the same set-up: inline figures (reti returns matplotlib Figure
# objects and never picks a backend itself), quiet runs in a temporary folder, on the CPU.
SETUP = """\
%matplotlib inline
import tempfile
from pathlib import Path

import torch
from matplotlib.figure import Figure

import reti
from reti.train import TrainConfig

runs = Path(tempfile.mkdtemp(prefix="reti-notebook-"))  # run folders of this notebook
torch.manual_seed(0)
print("reti", reti.__version__, "| torch", torch.__version__)"""


def md(text: str):
    return new_markdown_cell(text.strip())


def code(text: str):
    return new_code_cell(text.strip())


NOTEBOOKS: dict[str, list] = {}

NOTEBOOKS["01_foundations_connectivity"] = [
    md("""
# 1 · Reti neurali: score lineare, rete a 2 layer, connettività
# 1 · Neural nets: the linear score, the 2-layer net, connectivity

> **Funzione Score Lineare:** $f = Wx$ — **Rete Neurale a 2-layer:** $f = W_2 \\max(0, W_1 x)$
> *(appunti: Reti Neurali)*

The linear score and the 2-layer net of the notes, trained side by side on the 1797 handwritten
8x8 digits that ship with scikit-learn (`reti data get digits`). / I due modelli degli appunti,
addestrati sulle cifre 8x8 di scikit-learn.
"""),
    code(SETUP),
    code("""
from reti.data import load_images

digits = load_images("digits")
digits  # shapes, classes and one image per class
"""),
    md("""
A pattern of fully connected layers is an MLP: `FC@10` alone is $f = Wx$, `FC@64-RELU,SOFTMAX`
is $f = W_2 \\max(0, W_1 x)$ (the `,SOFTMAX` head adds the last layer). / Un pattern di soli
layer FC è un MLP.
"""),
    code("""
from reti.tasks.vision import VisionConfig, train

budget = TrainConfig(epochs=12, batch_size=64, lr=5e-3, schedule="cosine", device="cpu",
                     quiet=True, seed=0)
linear = train(VisionConfig(data="digits", model="FC@10", train=budget))
linear  # a short table and the learning curves
"""),
    code("""
two_layer = train(VisionConfig(data="digits", model="FC@64-RELU,SOFTMAX", train=budget))
two_layer
"""),
    code("""
from reti.layers import count_parameters

for name, run in {"f = Wx": linear, "f = W2 max(0, W1 x)": two_layer}.items():
    accuracy = run.final["val_accuracy"]
    print(f"{name:22s} {count_parameters(run.model):6,d} parameters, test accuracy {accuracy:.3f}")
"""),
    md("""
> **Fully Connected:** molti parametri: $10^{12}$ per una immagine 1000x1000 con 1M hidden
> units. **Locally Connected:** 100M con filter size 10x10. **Convolutional:** condivide i
> parametri: con 100 filtri 10x10 si hanno 10k parametri. *(appunti: Fully Connected /
> Locally Connected / Convolutional Neural Net)*

reti counts each layer the way the notes do (weights only, as in the notes, then with biases).
/ reti conta i parametri come negli appunti.
"""),
    code("""
from IPython.display import Markdown
from reti.layers import compare_connectivity
from reti.layers.params import format_params_table

Markdown(format_params_table(compare_connectivity()))
"""),
    code("""
# the same three layers on the digits: an 8x8 image, 64 hidden units, 3x3 filters, 16 filters
Markdown(format_params_table(compare_connectivity(image_size=8, hidden_units=64,
                                                  kernel_size=3, filters=16)))
"""),
]

NOTEBOOKS["02_cnn_pattern_vgg"] = [
    md("""
# 2 · CNN, il linguaggio dei pattern e VGG
# 2 · CNNs, the pattern language and VGG

> **Struttura tipica CNN:** CONV -> RELU -> POOL (più volte) -> FC (linear) -> Softmax.
> Struttura di base: $[(CONV-RELU)*N-POOL?]*M-(FC-RELU)*K,SOFTMAX$ *(appunti: Struttura tipica CNN)*

reti reads that pattern as a model definition. / reti legge il pattern come definizione del
modello.
"""),
    code(SETUP),
    code("""
from reti.models import build_model

pattern = "[(CONV3@16-RELU)*2-POOL]*2-(FC@64-RELU)*1,SOFTMAX"
model = build_model(pattern, 10, 1, 8)  # 10 classes, 1 channel, 8x8 images
model
"""),
    code("""
from reti.errors import ParseError

try:
    build_model("[(CONV3@16-RELU)*2-POOL]*2-(FC@-RELU),SOFTMAX", 10, 1, 8)
except ParseError as error:
    print(error)  # a parser reports where the pattern breaks
"""),
    code("""
from reti.tasks.vision import VisionConfig, evaluate, load_run, train

cnn_run = runs / "cnn"
cnn = train(VisionConfig(data="digits", model=pattern, out=str(cnn_run),
                         train=TrainConfig(epochs=6, batch_size=64, lr=3e-3, schedule="onecycle",
                                           device="cpu", quiet=True, seed=0)))
cnn
"""),
    md("""
> **VGG-16:** Bassi livelli: low level features. Medio livello: mid level features. Alti
> livelli: high level features. Dopo i vari layers la classificazione è lineare. *(appunti: VGG-16)*

The first layer's filters and what the low, middle and high conv layers see in one test image.
/ I filtri del primo layer e le feature di basso, medio e alto livello.
"""),
    code("""
from reti.viz import conv_feature_maps, feature_maps_figure, filters_figure

model, model_config = load_run(cnn_run)
first_conv = next(m for m in model.modules() if isinstance(m, torch.nn.Conv2d))
filters_figure(first_conv.weight, title="first-layer filters / filtri del primo layer")
"""),
    code("""
from reti.data import load_images

image = load_images("digits").test_x[:1] / 255.0  # one test digit, (1, 1, 8, 8) in [0, 1]
feature_maps_figure(conv_feature_maps(model, image), image[0])
"""),
    code("""
from reti.viz import confusion_figure

scores = evaluate(cnn_run)
confusion_figure(scores["confusion"], scores["classes"], f"test accuracy {scores['accuracy']:.3f}")
"""),
    md("""
VGG is the same language with more stages: the named models are data. Built on PyTorch's
`meta` device, the full ImageNet VGG-16 is counted without allocating its weights. / VGG-16
contato senza allocarne i pesi.
"""),
    code("""
from reti.layers import count_parameters
from reti.models import VGG, VGGConfig

with torch.device("meta"):
    vgg16 = VGG(VGGConfig(depth=16))  # 224x224 RGB, 1000 classes
print(f"VGG-16 on ImageNet: {count_parameters(vgg16):,} parameters")
small = VGG(VGGConfig(depth=11, batch_norm=True, num_classes=10, in_channels=1, image_size=32))
print(f"VGG-11-BN for 32x32 grey images: {count_parameters(small):,} parameters")
"""),
]

NOTEBOOKS["03_dropout_residual"] = [
    md("""
# 3 · Dropout e connessioni residue
# 3 · Dropout and residual connections

> **Dropout:** $h = r \\odot x$, dove $r_i \\sim Bernoulli(1-p)$. In inferenza: $h = (1-p)x$.
> **Inverse Dropout:** $h = (r \\odot x) / (1-p)$: la scalatura viene fatta durante il training.
> *(appunti: Dropout)*

Both ways give the same expected activation; they differ in where the scaling lives. / I due
modi danno la stessa attivazione attesa.
"""),
    code(SETUP),
    code("""
from reti.layers import dropout

x = torch.ones(100_000)
gen = torch.Generator().manual_seed(0)
p = 0.3
for mode in ("inverted", "standard"):
    train_mean = dropout(x, p, mode, training=True, generator=gen).mean().item()
    infer_mean = dropout(x, p, mode, training=False).mean().item()
    print(f"{mode:9s} training mean {train_mean:.3f}, inference mean {infer_mean:.3f}")
"""),
    code("""
from reti.tasks.vision import VisionConfig, train

budget = TrainConfig(epochs=15, batch_size=64, lr=3e-3, device="cpu", quiet=True, seed=0)
runs_by_p = {}
for p in (0.0, 0.5):
    head = f"FC@256-RELU-DROPOUT({p})-FC@256-RELU-DROPOUT({p}),SOFTMAX"
    runs_by_p[p] = train(VisionConfig(data="digits", model=head, limit=400, train=budget))

fig = Figure(figsize=(8, 3), layout="tight")
ax = fig.subplots()
for p, run in runs_by_p.items():
    epochs = [r["epoch"] for r in run.rows]
    ax.plot(epochs, [r["train_loss"] for r in run.rows], label=f"train, p={p}")
    ax.plot(epochs, [r["val_loss"] for r in run.rows], "--", label=f"test, p={p}")
ax.set(xlabel="epoch", ylabel="cross-entropy", title="400 training digits: dropout narrows the gap")
ax.legend()
fig
"""),
    md("""
> **Connessioni Residue:** $h = F(x) + x$. Se $F(x) = 0$ l'input passa inalterato; i derivati
> non si annullano grazie alla forma $F(x) + x$. *(appunti: Connessioni Residue)*

The same 20-layer net with and without its shortcuts (`plain20` computes $h = F(x)$ where
`resnet20` computes $h = F(x) + x$), trained alike on 400 digits. / La stessa rete a 20 layer
con e senza connessioni residue.
"""),
    code("""
from reti.layers import count_parameters

budget = TrainConfig(epochs=3, batch_size=32, lr=3e-3, device="cpu", quiet=True, seed=0)
deep = {name: train(VisionConfig(data="digits", model=name, limit=400, train=budget))
        for name in ("resnet20", "plain20")}
fig = Figure(figsize=(8, 3), layout="tight")
ax = fig.subplots()
for name, history in deep.items():
    steps = [r["step"] for r in history.rows]
    ax.plot(steps, [r["train_loss"] for r in history.rows], "-o", label=f"{name} train")
    ax.plot(steps, [r["val_loss"] for r in history.rows], "--", label=f"{name} test")
ax.set(xlabel="step", ylabel="cross-entropy", title="h = F(x) + x against h = F(x)")
ax.legend()
for name, history in deep.items():
    print(f"{name}: {count_parameters(history.model):,} parameters, "
          f"test accuracy {history.final['val_accuracy']:.3f}")
fig
"""),
]

NOTEBOOKS["04_normalization"] = [
    md("""
# 4 · Normalizzazione
# 4 · Normalization

> **Standard Scaling:** $X' = (X - \\mu) / \\sqrt{\\sigma^2}$, con $\\mu_j = (1/n) \\sum_i X_{ij}$.
> *(appunti: Normalizzazione)*

Each feature (column) gets mean zero and unit variance, with statistics from the training data
only. / Ogni colonna ha media zero e varianza uno.
"""),
    code(SETUP),
    code("""
from reti.layers import StandardScaler

X = torch.tensor([[1.0, 100.0], [2.0, 300.0], [3.0, 500.0]])
scaler = StandardScaler().fit(X)
Z = scaler.transform(X)
print("scaled:\\n", Z)
print("column means", Z.mean(0), "column std (1/n)", Z.std(0, unbiased=False))
print("round trip exact:", torch.allclose(scaler.inverse_transform(Z), X))
"""),
    md("""
> **Batch Normalization:** $H' = (H - \\mu) / (\\sqrt{\\sigma^2} + \\epsilon)$,
> $BN(H) = \\alpha H' + \\beta$; nelle convoluzioni media e varianza sono calcolate *per
> canale*. In inferenza: **Post-Training Stats** oppure **Moving Average**.
> *(appunti: Batch Normalization)*

The same CNN with and without `BN` after each conv, at a learning rate where BN matters. /
La stessa CNN con e senza BN.
"""),
    code("""
from reti.tasks.vision import VisionConfig, train

budget = TrainConfig(epochs=6, batch_size=64, lr=1e-2, device="cpu", quiet=True, seed=0)
plain_cnn = "[(CONV3@16-RELU)*2-POOL]*2-(FC@64-RELU)*1,SOFTMAX"
bn_cnn = "[(CONV3@16-BN-RELU)*2-POOL]*2-(FC@64-RELU)*1,SOFTMAX"
histories = {
    "no BN": train(VisionConfig(data="digits", model=plain_cnn, train=budget)),
    "BN (moving average)": train(VisionConfig(data="digits", model=bn_cnn, train=budget)),
    "BN (post-training stats)": train(
        VisionConfig(data="digits", model=bn_cnn, bn_stats="population", train=budget)
    ),
}
fig = Figure(figsize=(8, 3), layout="tight")
ax = fig.subplots()
for name, history in histories.items():
    epochs = [r["epoch"] for r in history.rows]
    ax.plot(epochs, [r["val_accuracy"] for r in history.rows], "-o", label=name)
ax.set(xlabel="epoch", ylabel="test accuracy", title="digits, lr 1e-2")
ax.legend()
for name, history in histories.items():
    print(f"{name:25s} test accuracy {history.final['val_accuracy']:.3f}")
fig
"""),
    code("""
histories["BN (moving average)"]  # the History of one run: table and curves
"""),
]

NOTEBOOKS["05_data_augmentation"] = [
    md("""
# 5 · Data augmentation

> 1. Campiona un mini-batch dal dataset. 2. Applica una o più trasformazioni casuali (flipping,
> cropping, rotazione...). 3. Allena il modello sul mini-batch trasformato.
> **Benefici:** previene overfitting e migliora la robustezza del modello.
> *(appunti: Data Augmentation)*

Every transformation of the notes is a batched tensor op with its own seeded generator, and a
spec string composes them. / Ogni trasformazione è un'operazione sul batch, con il suo seme.
"""),
    code(SETUP),
    code("""
from reti.augment import parse_spec
from reti.data import load_photos
from reti.viz import image_grid_figure

photos = torch.nn.functional.interpolate(load_photos().float() / 255.0, size=(96, 144))
specs = ["hflip(0.5)", "rotate(25)", "crop(16)", "jitter(0.4,0.4,0.4,0.1)", "noise(0.1)",
         "elastic(30,4)", "cutout(40)"]
rows, gen = [], torch.Generator().manual_seed(0)
for spec in specs:
    augmented, _ = parse_spec(spec)(photos[:1].repeat(4, 1, 1, 1), None, gen)
    rows.append(torch.cat([photos[:1], augmented]))
image_grid_figure(rows, row_titles=specs, col_titles=["original"] + ["random draw"] * 4)
"""),
    code("""
# Mixup and CutMix mix two images and their labels (soft targets)
mix = parse_spec("cutmix(1.0)", num_classes=2)
mixed, soft = mix(photos, torch.tensor([0, 1]), torch.Generator().manual_seed(1))
print("soft labels:\\n", soft)
image_grid_figure([photos, mixed], row_titles=["photos", "cutmix"])
"""),
    md("""
Training on 300 digits with and without augmentation: the augmented run sees a new version of
each image every epoch. / 300 cifre, con e senza augmentation.
"""),
    code("""
from reti.tasks.vision import VisionConfig, train

budget = TrainConfig(epochs=20, batch_size=32, lr=3e-3, device="cpu", quiet=True, seed=0)
cnn = "[(CONV3@16-BN-RELU)*2-POOL]*2-(FC@64-RELU)*1,SOFTMAX"
plain = train(VisionConfig(data="digits", model=cnn, limit=300, train=budget))
spec = "translate(0.125),rotate(10)"  # up to one pixel of shift, up to 10 degrees
augmented = train(VisionConfig(data="digits", model=cnn, limit=300, augment=spec, train=budget))
print(f"test accuracy without {plain.final['val_accuracy']:.3f}, "
      f"with augmentation {augmented.final['val_accuracy']:.3f}")
augmented
"""),
]

NOTEBOOKS["06_series"] = [
    md("""
# 6 · Serie temporali: convoluzioni 1D e causali, previsione, anomalie, classificazione
# 6 · Time series: 1D and causal convolutions, forecasting, anomalies, classification

> **Input:** time series di n passi, rappresentata come matrice $X (n, c)$: ogni riga è un
> timestep, ogni colonna è una feature. **Causal Convolution:** l'output a un tempo i dipende
> solo dai passi precedenti: $H_i = \\phi(\\sum_{j=0}^{k} \\sum_c W_{j,c} X_{i-j,c})$.
> *(appunti: Convoluzioni 1D)*
"""),
    code(SETUP),
    code("""
from reti.data.series import load_series

airline = load_series("airline")
airline  # monthly passengers 1949-1960
"""),
    md("""
A causal convolution pads on the left only: changing the future leaves the past outputs alone.
/ Cambiare il futuro non cambia le uscite passate.
"""),
    code("""
from reti.layers import CausalConv1d, receptive_field

conv = CausalConv1d(1, 4, kernel_size=3, dilation=2)
x = torch.randn(1, 1, 20)
future = x.clone()
future[..., 10:] += 5.0  # change every step from 10 on
same = torch.equal(conv(x)[..., :10], conv(future)[..., :10])
print("outputs 0..9 unchanged:", same)
print("a 4-level TCN (k=3, dilations 1,2,4,8) sees", receptive_field(3, [1, 2, 4, 8]), "steps")
"""),
    md("""
> **Causal Model, opzioni:** pool dell'output $H$ e un regressor per predire $x_n$ (A), oppure
> target $Y = [x_1, ..., x_n]$ con $H_i \\approx x_{i+1}$ (B, solo modelli causali), e
> generazione autoregressiva. *(appunti: Causal Model, Autoregressive Generation)*

Option A (a direct 12-step head) against option B (next step, rolled out 12 times), both
beside the seasonal-naive forecast. / Opzione A contro opzione B.
"""),
    code("""
from reti.tasks.series import SeriesConfig, forecast_from_run, run

budget = TrainConfig(epochs=30, batch_size=16, lr=3e-3, device="cpu", quiet=True, seed=0)
result = run(SeriesConfig(data="airline", horizon=12, window=24, channels=32, levels=2,
                          compare=True, out=str(runs / "airline"), train=budget))
scores = {**result.models, **result.baselines}
{name: round(s["mase"], 4) for name, s in scores.items()}  # MASE: below 1 beats naive
"""),
    code("""
fc = forecast_from_run(runs / "airline", 24)
n = len(fc["history"])
fig = Figure(figsize=(9, 3), layout="tight")
ax = fig.subplots()
ax.plot(range(n - 48, n), fc["history"][-48:, 0], color="black", label="history")
ax.plot(range(n, n + len(fc["truth"])), fc["truth"][:, 0], color="tab:green", label="truth")
ax.plot(range(n, n + 24), fc["seasonal_naive"][:, 0], "--", color="gray", label="seasonal naive")
ax.plot(range(n, n + 24), fc["forecast"][:, 0], color="tab:red", label="TCN")
ax.set(xlabel="month", ylabel="passengers (thousands)")
ax.legend()
fig
"""),
    md("""
**Anomaly detection** / **rilevamento di anomalie:** a causal model learns the next step of
normal data; a large error flags a point (an ECG from MIT-BIH). **Classification** /
**classificazione**: a fully convolutional net on the GunPoint series.
"""),
    code("""
budget = TrainConfig(epochs=3, batch_size=64, lr=3e-3, device="cpu", quiet=True, seed=0)
anomaly = run(SeriesConfig(task="anomaly", data="mitdb", channels=16, levels=3, window=32,
                           train=budget))
print(int(anomaly.trace.labels.sum()), "anomalous points in the test part")
{name: {k: round(s[k], 3) for k in ("precision", "recall", "f1", "point-adjusted f1", "flagged")}
 for name, s in {**anomaly.models, **anomaly.baselines}.items()}
"""),
    md("""
Point-adjusted scores count a whole anomalous segment as found when one of its points is
flagged (the usual convention of the anomaly benchmarks). / Un segmento anomalo conta come
trovato se almeno un suo punto è segnalato.
"""),
    code("""
values, flags, labels = anomaly.trace.values, anomaly.trace.flags, anomaly.trace.labels
steps = torch.arange(len(values))
fig = Figure(figsize=(10, 3), layout="tight")
ax = fig.subplots()
ax.plot(steps, values, lw=0.6, color="black", label="ECG")
ax.fill_between(steps, values.min(), values.max(), where=labels.bool().numpy(), color="tab:orange",
                alpha=0.3, label="labelled anomalous")
ax.scatter(steps[flags], values[flags], s=12, color="tab:red", label="flagged", zorder=3)
ax.set(xlabel="step", ylabel="value", title="mitdb: next-step error above the training quantile")
ax.legend(loc="upper right")
fig
"""),
    code("""
from reti.data.series import load_ucr

load_ucr("GunPoint")
"""),
    code("""
budget = TrainConfig(epochs=30, batch_size=16, lr=3e-3, device="cpu", quiet=True, seed=0)
classify = run(SeriesConfig(task="classify", data="GunPoint", model="fcn", channels=32,
                            train=budget))
{**classify.models, **classify.baselines}
"""),
]

NOTEBOOKS["07_attention_tokens_temperature"] = [
    md("""
# 7 · Attention, tokenizer, posizioni e temperatura
# 7 · Attention, tokenizers, positions and temperature

> **Subword Encoders (Byte Pair Encoding):** parte dal vocabolario base con tutti i caratteri,
> conta la frequenza delle coppie, unisce la coppia più frequente in un nuovo simbolo...
> GPT-2 utilizza BPE su byte. *(appunti: Text Embeddings)*
"""),
    code(SETUP),
    code("""
from reti.data.text import load_text
from reti.tokenize import BPETokenizer, CharTokenizer
from reti.tokenize.display import show_tokens

corpus = load_text("shakespeare").train[:200_000]
sentence = "To be, or not to be, that is the question."
show_tokens(CharTokenizer.train(corpus), sentence)
"""),
    code("""
bpe = BPETokenizer.train(corpus[:50_000], vocab_size=400)
show_tokens(bpe, sentence)  # frequent pairs became tokens
"""),
    code("""
from reti.data import fetch
from reti.tokenize import load_gpt2

gpt2 = load_gpt2(fetch("gpt2"))
show_tokens(gpt2, "Hello world! Ciao mondo, questa è una frase in italiano.")
"""),
    md("""
> **Positional Encoding:** sinusoidal $p(t)_i = \\sin(\\omega_k t)$ se $i = 2k$,
> $\\cos(\\omega_k t)$ se $i = 2k+1$, $\\omega_k = 1/10000^{2k/d}$. **ALiBi:** $b_{ij}$
> aggiunto in base alla distanza relativa. *(appunti: Positional Encoding)*
"""),
    code("""
from reti.layers import ALiBi, SinusoidalPosition

table = SinusoidalPosition(64)(torch.arange(100))  # (100 positions, 64 dimensions)
bias = ALiBi(4)(torch.arange(12), torch.arange(12))  # one (12, 12) bias per head
fig = Figure(figsize=(10, 3), layout="tight")
left, right = fig.subplots(1, 2)
left.imshow(table.T.numpy(), aspect="auto", cmap="RdBu")
left.set(xlabel="position t", ylabel="dimension i", title="sinusoidal p(t)")
right.imshow(bias[0].numpy(), cmap="viridis")
right.set(xlabel="key j", ylabel="query i", title="ALiBi bias, head 1")
fig
"""),
    md("""
> **Masked Self-Attention:** attention score = prodotto scalare di Q e K; i token futuri
> (triangolo superiore) a $-\\infty$; softmax. **Temperature:** Temp = 1 nessun effetto;
> Temp < 1 distribuzione più "sharp", più deterministica. *(appunti: Self-Attention, Temperature)*

A small character GPT with ALiBi positions, a few hundred steps on Shakespeare. / Un piccolo
GPT a caratteri.
"""),
    code("""
from reti.tasks.text import TextConfig, load_run, sample, train

budget = TrainConfig(max_steps=150, batch_size=16, lr=3e-3, schedule="cosine", warmup_steps=20,
                     grad_clip=1.0, eval_every=50, device="cpu", quiet=True, seed=0)
text_cfg = TextConfig(n_layer=2, n_head=4, d_model=64, n_ctx=64, pos="alibi", max_chars=300_000,
                      out=str(runs / "gpt"), train=budget)
history = train(text_cfg)
history  # validation every 50 steps: the curve has points along the run
"""),
    code("""
model, tok, _ = load_run(runs / "gpt")
prompt = torch.tensor([tok.encode("ROMEO: What light")])
maps = model.attention_maps(prompt)  # per layer: (1, heads, T, T)
fig = Figure(figsize=(10, 2.6), layout="tight")
for head, ax in enumerate(fig.subplots(1, 4)):
    ax.imshow(maps[-1][0, head].detach().numpy(), cmap="viridis", vmin=0, vmax=1)
    ax.set(title=f"last layer, head {head + 1}", xlabel="key", ylabel="query")
fig  # the upper triangle is zero: no token looks ahead
"""),
    code("""
from reti.generate import SamplingConfig, filter_logits

logits = model(prompt)[0, -1].detach()
fig = Figure(figsize=(9, 2.8), layout="tight")
ax = fig.subplots()
top = logits.topk(15).indices
for t in (0.5, 1.0, 2.0):
    probs = filter_logits(logits, temperature=t).softmax(-1)
    ax.plot(range(15), probs[top].numpy(), "-o", label=f"T = {t}")
ax.set_xticks(range(15), [repr(tok.decode([i]))[1:-1] for i in top.tolist()])
ax.set(xlabel="next character (most likely first)", ylabel="probability")
ax.legend()
fig
"""),
    code("""
for t in (0.5, 1.0, 1.5):
    print(f"--- T = {t}")
    print(sample(model, tok, "ROMEO:", SamplingConfig(max_tokens=80, temperature=t)))
"""),
]


def main() -> list[Path]:
    """Write every notebook with empty outputs; returns their paths."""
    written = []
    for name, cells in NOTEBOOKS.items():
        nb = new_notebook(cells=cells)
        for i, cell in enumerate(nb.cells):
            cell.id = f"cell-{i:02d}"  # fixed ids: the same source writes the same file
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                     "language": "python"}  # fmt: skip
        nb.metadata["language_info"] = {"name": "python"}
        nbformat.validate(nb)
        path = HERE / f"{name}.ipynb"
        nbformat.write(nb, path)
        written.append(path)
    return written


if __name__ == "__main__":
    for path in main():
        print(path.name)
