"""Lesson 3: standard and inverted dropout, dropout against overfitting, residual connections."""

NAME = "03_dropout_residual"
TITLE = "3 · Dropout e connessioni residue / Dropout and residual connections"

INTRO_IT = """
Due idee che rendono le reti più facili da allenare. Il dropout spegne a caso una parte dei
neuroni durante il training, così la rete non può affidarsi a pochi neuroni specifici. Le
connessioni residue sommano l'input di un blocco alla sua uscita, $h = F(x) + x$, e permettono
al gradiente di attraversare reti molto profonde. Per ognuna verifichiamo la formula degli
appunti e poi la mettiamo alla prova su un piccolo training.
"""
INTRO_EN = """
Two ideas that make networks easier to train. Dropout switches off a random share of the
neurons during training, so the network cannot rely on a few specific ones. Residual
connections add a block's input to its output, $h = F(x) + x$, and let the gradient flow
through very deep networks. For each we check the notes' formula, then put it to the test on
a small training run.
"""

CONCEPTS = [
    dict(
        title="Dropout standard e inverso / Standard and inverted dropout",
        quotes=[(298, "Formula: $h = r ⊙ x$"),
                (310, "Formula: $h = (1-p)x$"),
                (316, "La scalatura delle attivazioni viene fatta durante il training, non "
                      "l'inferenza."),
                (322, "Formula: $h = (r ⊙ x) / (1-p)$")],
        it="""
Durante il training ogni neurone resta acceso con probabilità $1-p$: la maschera $r$ vale 1 o 0
a caso, $r_i \\sim \\text{Bernoulli}(1-p)$. In media, quindi, l'attivazione vale $(1-p)x$. In
inferenza non si spegne nulla, e per avere la stessa media il dropout standard moltiplica per
$1-p$. Il dropout inverso sposta la correzione nel training: divide i neuroni accesi per $1-p$,
così in inferenza la rete si usa così com'è. Le due versioni danno la stessa attivazione
attesa; cambia solo dove sta la scalatura. PyTorch e reti usano il dropout inverso per default.
""",
        en="""
During training each neuron stays on with probability $1-p$: the mask $r$ is 1 or 0 at random,
$r_i \\sim \\text{Bernoulli}(1-p)$. On average the activation is therefore $(1-p)x$. At
inference nothing is switched off, and to keep the same mean, standard dropout multiplies by
$1-p$. Inverted dropout moves the correction into training: it divides the surviving neurons by
$1-p$, so at inference the network is used as it is. Both give the same expected activation;
only the place of the scaling changes. PyTorch and reti use inverted dropout by default.
""",
        code=[
            """
from reti.layers import dropout

x = torch.ones(100_000)
gen = torch.Generator().manual_seed(0)
p = 0.3
means = {}
for mode in ("inverted", "standard"):
    train_out = dropout(x, p, mode, training=True, generator=gen)
    infer_out = dropout(x, p, mode, training=False)
    means[mode] = (train_out.mean().item(), infer_out.mean().item())
    print(f"{mode:9s} training mean {means[mode][0]:.3f}, inference mean {means[mode][1]:.3f}, "
          f"kept values {train_out[train_out > 0].unique().tolist()}")

fig = Figure(figsize=(6, 3), layout="tight")
ax = fig.subplots()
ax.bar([0, 1], [means["standard"][0], means["standard"][1]], 0.35, label="standard")
ax.bar([0.4, 1.4], [means["inverted"][0], means["inverted"][1]], 0.35, label="inverted")
ax.set_xticks([0.2, 1.2], ["training", "inference / inferenza"])
ax.set(ylabel="mean activation / attivazione media", title=f"x = 1, p = {p}")
ax.legend()
fig
""",
        ],
        notice_it="""
Con il dropout standard la media è $1-p = 0.7$ sia in training sia in inferenza; con quello
inverso è 1 in entrambi i casi. Quello che conta è che, per ciascuna versione, le due barre
sono alla stessa altezza: la rete vede in inferenza la stessa scala che ha visto in training.
Nota anche i valori sopravvissuti: 1 per lo standard, $1/(1-p) \\approx 1.43$ per l'inverso.
""",
        notice_en="""
With standard dropout the mean is $1-p = 0.7$ in training and at inference; with inverted
dropout it is 1 in both. What matters is that, for each version, the two bars have the same
height: at inference the network sees the scale it saw in training. Note the surviving values
too: 1 for standard, $1/(1-p) \\approx 1.43$ for inverted.
""",
        exercise_it="""
Con il dropout inverso e $p = 0.25$, quanto vale in training un neurone acceso con $x = 2$?
""",
        exercise_en="""
With inverted dropout and $p = 0.25$, what is the training value of a surviving neuron with
$x = 2$?
""",
        check="""
def check_inverted_value(answer):
    out = dropout(torch.full((1000,), 2.0), 0.25, "inverted", training=True,
                  generator=torch.Generator().manual_seed(1))
    return check(answer, out.max().item(), "divide by the probability of staying on")
""",
        try_="""
risposta = None  # a number
check_inverted_value(risposta)
""",
        solution="""
check_inverted_value(2 / (1 - 0.25))
""",
    ),
    dict(
        title="Il dropout contro l'overfitting / Dropout against overfitting",
        quotes=[(277, "**Definizione:** Tecnica di regolarizzazione per prevenire "
                      "l'overfitting in reti neurali."),
                (328, "**Efficacia:** Non è sempre efficace.")],
        it="""
Con pochi dati una rete grande impara a memoria il training set: la loss di training scende a
zero mentre quella di test risale. È l'overfitting. Qui alleniamo la stessa rete, due layer
da 256 unità, su sole 400 cifre, una volta senza dropout e una volta con $p = 0.5$. Se il
dropout funziona, la distanza tra loss di training e loss di test deve restare più piccola.
Gli appunti avvertono che non è sempre efficace: guardare le curve è l'unico modo di saperlo.
""",
        en="""
With little data a large network learns the training set by heart: training loss falls to
zero while test loss climbs back. That is overfitting. Here we train the same network, two
layers of 256 units, on only 400 digits, once without dropout and once with $p = 0.5$. If
dropout works, the gap between training and test loss should stay smaller. The notes warn it
is not always effective: looking at the curves is the only way to know.
""",
        code=[
            """
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
ax.set(xlabel="epoch / epoca", ylabel="cross-entropy",
       title="400 training digits: dropout narrows the gap")
ax.legend()
fig
""",
        ],
        notice_it="""
Senza dropout la loss di training (linea continua) scende quasi a zero e si stacca da quella
di test (tratteggiata). Con $p = 0.5$ la loss di training resta più alta, perché la rete
lavora ogni volta con metà dei neuroni, ma le due curve restano più vicine.
""",
        notice_en="""
Without dropout the training loss (solid line) falls almost to zero and pulls away from the
test loss (dashed). With $p = 0.5$ the training loss stays higher, because the network works
with half its neurons each time, but the two curves stay closer.
""",
        exercise_it="""
Calcola, all'ultima epoca, la distanza `val_loss - train_loss` per le due reti (usa
`runs_by_p[p].final`) e scrivi il valore di $p$ con la distanza più piccola.
""",
        exercise_en="""
At the last epoch, compute the gap `val_loss - train_loss` for both networks (use
`runs_by_p[p].final`) and write the value of $p$ with the smaller gap.
""",
        check="""
def check_smaller_gap(answer):
    gaps = {p: r.final["val_loss"] - r.final["train_loss"] for p, r in runs_by_p.items()}
    return check(answer, min(gaps, key=gaps.get))
""",
        try_="""
risposta = None  # 0.0 or 0.5
check_smaller_gap(risposta)
""",
        solution="""
gaps = {p: r.final["val_loss"] - r.final["train_loss"] for p, r in runs_by_p.items()}
print(gaps)
check_smaller_gap(min(gaps, key=gaps.get))
""",
    ),
    dict(
        title="Connessioni residue / Residual connections",
        quotes=[(345, "Formula: $h = F(x) + x$"),
                (354, "Se i parametri sono tali che $F(x) = 0$, allora l'input passa "
                      "inalterato (funzione identità)."),
                (357, "I derivati non si annullano grazie alla forma $F(x) + x$.")],
        it="""
Un blocco residuo non impara l'uscita intera, ma solo la correzione $F(x)$ da sommare
all'input. Se la correzione migliore è nulla, basta portare i pesi di $F$ a zero e il blocco
lascia passare $x$ così com'è. C'è anche un motivo legato al gradiente: la derivata di
$F(x) + x$ rispetto a $x$ contiene sempre un $+1$, quindi il segnale arriva ai primi layer
anche se $F$ ha derivate piccole. Confrontiamo `resnet20` ($h = F(x) + x$) con il suo gemello
`plain20` ($h = F(x)$), stessi layer e stesso training.
""",
        en="""
A residual block does not learn the whole output, only the correction $F(x)$ added to the
input. If the best correction is none, driving $F$'s weights to zero lets the block pass $x$
through unchanged. There is a gradient reason too: the derivative of $F(x) + x$ with respect
to $x$ always contains a $+1$, so the signal reaches the first layers even when $F$'s
derivatives are small. We compare `resnet20` ($h = F(x) + x$) with its twin `plain20`
($h = F(x)$), same layers and same training.
""",
        code=[
            """
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
ax.set(xlabel="step / passo", ylabel="cross-entropy", title="h = F(x) + x against h = F(x)")
ax.legend()
for name, history in deep.items():
    print(f"{name}: {count_parameters(history.model):,} parameters, "
          f"test accuracy {history.final['val_accuracy']:.3f}")
fig
""",
        ],
        notice_it="""
Le due reti hanno gli stessi parametri, ma con le scorciatoie la loss scende più in fretta
nello stesso numero di passi: il gradiente arriva ai primi layer. La rete senza scorciatoie,
a pari budget, resta indietro. Con più epoche anche `plain20` migliora: le connessioni residue
rendono il training più facile, non lo rendono possibile da zero.
""",
        notice_en="""
The two nets have the same parameters, but with shortcuts the loss falls faster in the same
number of steps: the gradient reaches the first layers. The net without shortcuts, on the same
budget, lags behind. With more epochs `plain20` improves too: residual connections make
training easier, they do not make it possible from nothing.
""",
        exercise_it="""
Prendi $F$ = un layer `torch.nn.Linear(3, 3)` con pesi e bias a zero e $x = [1, 2, 3]$.
Calcola il gradiente di `h.sum()` rispetto a $x$ per $h = F(x)$ e per $h = F(x) + x$ e
scrivi la coppia `(gradiente_plain, gradiente_residuo)` come due liste.
""",
        exercise_en="""
Take $F$ = a `torch.nn.Linear(3, 3)` layer with zero weights and bias and $x = [1, 2, 3]$.
Compute the gradient of `h.sum()` with respect to $x$ for $h = F(x)$ and for
$h = F(x) + x$, and write the pair `(plain_gradient, residual_gradient)` as two lists.
""",
        check="""
def check_residual_gradient(answer):
    # the derivative of F(x) + x is F'(x) + 1: with F = 0 that is 0 for plain, 1 for residual
    return check(answer, ([0.0, 0.0, 0.0], [1.0, 1.0, 1.0]), "autograd: x.requires_grad_()")
""",
        try_="""
risposta = None  # ([...], [...])
check_residual_gradient(risposta)
""",
        solution="""
F = torch.nn.Linear(3, 3)
torch.nn.init.zeros_(F.weight), torch.nn.init.zeros_(F.bias)
grads = []
for residual in (False, True):
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    h = F(x) + x if residual else F(x)
    h.sum().backward()
    grads.append(x.grad.tolist())
check_residual_gradient(tuple(grads))
""",
    ),
]
