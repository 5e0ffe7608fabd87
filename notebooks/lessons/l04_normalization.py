"""Lesson 4: standard scaling, batch normalization, and BN's two inference statistics."""

NAME = "04_normalization"
TITLE = "4 · Normalizzazione / Normalization"

INTRO_IT = """
Normalizzare vuol dire riportare i numeri su una scala comune. Prima lo facciamo sui dati, con
lo standard scaling: ogni colonna a media zero e varianza uno. Poi dentro la rete, con la
batch normalization, che normalizza le attivazioni di ogni layer usando media e varianza del
mini-batch. Infine vediamo come la batch norm sceglie media e varianza in inferenza, quando
non c'è più un mini-batch: medie mobili o statistiche calcolate dopo il training.
"""
INTRO_EN = """
Normalizing means bringing numbers to a common scale. First we do it on the data, with
standard scaling: every column to mean zero and variance one. Then inside the network, with
batch normalization, which normalizes each layer's activations with the mean and variance of
the mini-batch. Finally we see how batch norm chooses its mean and variance at inference,
when there is no mini-batch any more: moving averages or statistics computed after training.
"""

CONCEPTS = [
    dict(
        title="Standard scaling / Standard scaling",
        quotes=[(398, "Preprocessa i dati in modo che ogni feature (colonna) abbia media zero e "
                      "varianza unitaria."),
                (401, "Formula: $X' = (X - μ) / sqrt(σ²)$"),
                (407, "$σ²$: varianza della feature, calcolata come "
                      "$σ²ⱼ = (1/n) Σᵢ (Xᵢⱼ - μⱼ)²$")],
        it="""
Se una colonna misura centimetri e un'altra chilometri, la discesa del gradiente fa passi
adatti all'una e sbagliati per l'altra. Lo standard scaling toglie a ogni colonna la sua
media $\\mu_j$ e la divide per la sua deviazione standard. Attenzione a due dettagli: la
varianza degli appunti divide per $n$, non per $n-1$; e media e varianza si calcolano solo
sul training set, poi si applicano uguali ai dati di test. `StandardScaler` di reti sa anche
tornare indietro, con `inverse_transform`.
""",
        en="""
If one column measures centimetres and another kilometres, gradient descent takes steps that
suit one and are wrong for the other. Standard scaling subtracts each column's mean $\\mu_j$
and divides by its standard deviation. Mind two details: the notes' variance divides by $n$,
not by $n-1$; and the mean and variance are computed on the training set only, then applied
unchanged to the test data. reti's `StandardScaler` also goes back, with
`inverse_transform`.
""",
        code=[
            """
from reti.layers import StandardScaler

X = torch.tensor([[1.0, 100.0], [2.0, 300.0], [3.0, 500.0], [6.0, 400.0]])
scaler = StandardScaler().fit(X)
Z = scaler.transform(X)
print("scaled:\\n", Z)
print("column means", Z.mean(0), "column std (1/n)", Z.std(0, unbiased=False))
print("round trip exact:", torch.allclose(scaler.inverse_transform(Z), X))

fig = Figure(figsize=(8, 3), layout="tight")
before, after = fig.subplots(1, 2)
for j, name in enumerate(["column 0", "column 1"]):
    before.scatter([j] * len(X), X[:, j], label=name)
    after.scatter([j] * len(Z), Z[:, j], label=name)
before.set(title="before / prima", ylabel="value / valore", xticks=[0, 1], xlabel="column")
after.set(title="after / dopo", ylabel="scaled value", xticks=[0, 1], xlabel="column")
after.legend()
fig
""",
        ],
        notice_it="""
Prima dello scaling la seconda colonna vive tra 100 e 500 e la prima tra 1 e 6: sul grafico
di sinistra la prima è schiacciata. Dopo, entrambe hanno media 0 e deviazione standard 1 e
occupano lo stesso intervallo. Il ritorno indietro è esatto: non si perde informazione.
""",
        notice_en="""
Before scaling the second column lives between 100 and 500 and the first between 1 and 6: on
the left plot the first is squashed. Afterwards both have mean 0 and standard deviation 1 and
span the same range. The way back is exact: no information is lost.
""",
        exercise_it="""
Scala a mano la colonna $[2, 4, 6]$ con la formula degli appunti (varianza divisa per $n$).
Scrivi i tre valori scalati come lista.
""",
        exercise_en="""
Scale the column $[2, 4, 6]$ by hand with the notes' formula (variance divided by $n$).
Write the three scaled values as a list.
""",
        check="""
def check_scaled(answer):
    column = torch.tensor([[2.0], [4.0], [6.0]])
    return check(answer, StandardScaler().fit(column).transform(column)[:, 0].tolist(),
                 "mu = 4, sigma^2 = 8/3")
""",
        try_="""
risposta = None  # [..., ..., ...]
check_scaled(risposta)
""",
        solution="""
mu = (2 + 4 + 6) / 3
var = ((2 - mu) ** 2 + (4 - mu) ** 2 + (6 - mu) ** 2) / 3
check_scaled([(v - mu) / var**0.5 for v in (2, 4, 6)])
""",
    ),
    dict(
        title="Batch normalization / Batch normalization",
        quotes=[(424, "Calcola media e varianza su un mini-batch anziché sull'intero dataset."),
                (427, "Formula: $H' = (H - μ) / (sqrt(σ²) + ε)$"),
                (430, "BN(H) imposta una nuova media e varianza: $BN(H) = αH'ᵢⱼ + βⱼ$"),
                (448, "Media e varianza sono calcolate *per canale*, non per feature.")],
        it="""
Durante il training la distribuzione delle attivazioni di un layer cambia a ogni passo,
perché cambiano i pesi dei layer precedenti. La batch norm normalizza le attivazioni con la
media e la varianza del mini-batch, poi con due parametri imparati, $\\alpha$ e $\\beta$,
sceglie la scala e lo spostamento migliori. Nelle convoluzioni le statistiche sono per canale:
un filtro, una media. Il risultato pratico è che si può allenare con un learning rate più
alto. Confrontiamo la stessa CNN con e senza `BN` dopo ogni convoluzione, a lr $10^{-2}$.
""",
        en="""
During training the distribution of a layer's activations changes at every step, because the
earlier layers' weights change. Batch norm normalizes the activations with the mini-batch's
mean and variance, then picks the best scale and shift with two learned parameters,
$\\alpha$ and $\\beta$. In convolutions the statistics are per channel: one filter, one mean.
In practice this lets you train with a higher learning rate. We compare the same CNN with and
without `BN` after each convolution, at lr $10^{-2}$.
""",
        code=[
            """
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
ax.set(xlabel="epoch / epoca", ylabel="test accuracy / accuratezza", title="digits, lr 1e-2")
ax.legend()
for name, history in histories.items():
    print(f"{name:25s} test accuracy {history.final['val_accuracy']:.3f}")
fig
""",
        ],
        notice_it="""
Guarda le prime epoche: con la batch norm l'accuratezza sale prima e in modo più regolare;
senza, la stessa rete allo stesso learning rate parte più lenta. Le due curve con BN sono
sovrapposte (l'arancione è nascosta sotto la verde): su queste cifre le due statistiche di
inferenza della sezione successiva danno la stessa accuratezza.
""",
        notice_en="""
Look at the first epochs: with batch norm accuracy climbs earlier and more steadily; without
it, the same network at the same learning rate starts slower. The two BN curves overlap (the
orange one hides under the green one): on these digits the two inference statistics of the
next section give the same accuracy.
""",
        exercise_it="""
Quanti parametri allenabili ($\\alpha$ e $\\beta$) ha un layer `BN` dopo `CONV3@16`?
Ricorda: le statistiche sono per canale.
""",
        exercise_en="""
How many trainable parameters ($\\alpha$ and $\\beta$) does a `BN` layer after `CONV3@16`
have? Remember: the statistics are per channel.
""",
        check="""
def check_bn_params(answer):
    net = histories["BN (moving average)"].model
    bn = next(m for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d))
    return check(answer, sum(p.numel() for p in bn.parameters()), "one alpha and one beta each")
""",
        try_="""
risposta = None  # an integer
check_bn_params(risposta)
""",
        solution="""
check_bn_params(2 * 16)  # alpha and beta for each of the 16 channels
""",
    ),
    dict(
        title="BN in inferenza: medie mobili o statistiche post-training / BN at inference",
        quotes=[(439, "**Post-Training Stats:** Calcola media e varianza sull'intero dataset e "
                      "le usa fisse."),
                (442, "**Moving Average:** Mantiene medie mobili di media e varianza durante il "
                      "training, le usa fisse in inferenza.")],
        it="""
In inferenza arriva un'immagine alla volta: non c'è un mini-batch da cui calcolare media e
varianza. Gli appunti danno due soluzioni. La media mobile aggiorna durante il training una
stima, $m \\leftarrow (1 - \\text{momentum})\\, m + \\text{momentum} \\cdot \\mu_{batch}$, ed
è quello che fa PyTorch. Le statistiche post-training invece, a training finito, ripassano
tutto il training set e calcolano media e varianza esatte; in reti si chiede con
`bn_stats="population"`. Qui guardiamo la media mobile crescere batch dopo batch.
""",
        en="""
At inference one image arrives at a time: there is no mini-batch to compute a mean and a
variance from. The notes give two answers. The moving average updates an estimate during
training, $m \\leftarrow (1 - \\text{momentum})\\, m + \\text{momentum} \\cdot \\mu_{batch}$,
which is what PyTorch does. Post-training statistics instead, once training is over, go
through the whole training set again and compute the exact mean and variance; in reti you ask
for them with `bn_stats="population"`. Here we watch the moving average grow batch by batch.
""",
        code=[
            """
bn = torch.nn.BatchNorm1d(1, momentum=0.1)  # running_mean starts at 0
estimates = []
for _ in range(40):
    bn(torch.full((8, 1), 5.0) + torch.randn(8, 1))  # batches whose true mean is 5
    estimates.append(bn.running_mean.item())

fig = Figure(figsize=(7, 3), layout="tight")
ax = fig.subplots()
ax.plot(range(1, 41), estimates, "-o", ms=3, label="moving average / media mobile")
ax.axhline(5.0, color="gray", ls="--", label="true mean / media vera")
ax.set(xlabel="training batch", ylabel="running_mean", title="momentum 0.1")
ax.legend()
fig
""",
        ],
        notice_it="""
La media mobile parte da 0 e si avvicina a 5 solo dopo una ventina di batch: ogni passo
recupera il 10% della distanza. Se il training è breve, o se i pesi cambiano molto alla fine,
la stima resta indietro; le statistiche post-training non hanno questo problema, al prezzo
di un passaggio in più sui dati.
""",
        notice_en="""
The moving average starts at 0 and gets close to 5 only after about twenty batches: each step
recovers 10% of the distance. If training is short, or if the weights change a lot at the
end, the estimate lags behind; post-training statistics do not have this problem, at the
price of one more pass over the data.
""",
        exercise_it="""
Una `BatchNorm1d` con momentum 0.1 parte da `running_mean = 0` e vede tre batch la cui media
è esattamente 1. Quanto vale `running_mean` dopo il terzo batch?
""",
        exercise_en="""
A `BatchNorm1d` with momentum 0.1 starts at `running_mean = 0` and sees three batches whose
mean is exactly 1. What is `running_mean` after the third batch?
""",
        check="""
def check_running_mean(answer):
    layer = torch.nn.BatchNorm1d(1, momentum=0.1)
    for _ in range(3):
        layer(torch.tensor([[0.0], [2.0]]))  # mean exactly 1
    return check(answer, layer.running_mean.item(), "m <- 0.9 m + 0.1 * 1, three times")
""",
        try_="""
risposta = None  # a number
check_running_mean(risposta)
""",
        solution="""
m = 0.0
for _ in range(3):
    m = 0.9 * m + 0.1 * 1.0
check_running_mean(m)  # 0.271
""",
    ),
]
