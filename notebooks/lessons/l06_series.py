"""Lesson 6: series as a matrix, causal convolutions, forecasting options A and B, applications."""

NAME = "06_series"
TITLE = "6 · Serie temporali / Time series"

INTRO_IT = """
Le convoluzioni non servono solo per le immagini. Su una serie temporale il filtro scorre
lungo il tempo invece che sullo spazio, e se lo facciamo guardare solo al passato otteniamo un
modello che può prevedere il futuro. In questo notebook rappresentiamo una serie come matrice,
verifichiamo che una convoluzione causale non "vede" il futuro, confrontiamo le due opzioni di
previsione degli appunti sui passeggeri aerei e finiamo con due applicazioni: rilevare
anomalie in un elettrocardiogramma e classificare serie intere.
"""
INTRO_EN = """
Convolutions are not only for images. On a time series the filter slides along time instead
of space, and if we let it look only at the past we get a model that can forecast the
future. In this notebook we represent a series as a matrix, check that a causal convolution
does not "see" the future, compare the notes' two forecasting options on airline passengers,
and end with two applications: finding anomalies in an electrocardiogram and classifying
whole series.
"""

CONCEPTS = [
    dict(
        title="Una serie è una matrice / A series is a matrix",
        quotes=[(574, "**Input:** Time series di n passi, $x₀, x₁,..., xₙ₋₁$, dove ogni passo "
                      "ha c features."),
                (577, "Rappresentata come matrice $X (n, c)$: ogni riga è un timestep, ogni "
                      "colonna è una feature.")],
        it="""
Una serie temporale è una tabella: una riga per ogni istante, una colonna per ogni grandezza
misurata. I passeggeri aerei dal 1949 al 1960 sono 144 mesi di una sola grandezza, quindi una
matrice con 144 righe e una colonna. Un elettrocardiogramma a due derivazioni avrebbe due
colonne. Le convoluzioni di PyTorch vogliono invece i canali prima del tempo, $(B, C, T)$:
reti fa la trasposizione al momento giusto, ma è bene sapere che c'è.
""",
        en="""
A time series is a table: one row per instant, one column per measured quantity. Airline
passengers from 1949 to 1960 are 144 months of a single quantity, so a matrix with 144 rows
and one column. A two-lead electrocardiogram would have two columns. PyTorch's convolutions,
on the other hand, want channels before time, $(B, C, T)$: reti transposes at the right
moment, but it is good to know it happens.
""",
        code=[
            """
from reti.data.series import load_series

airline = load_series("airline")
print(airline)
fig = Figure(figsize=(9, 3), layout="tight")
ax = fig.subplots()
ax.plot(range(len(airline.values)), airline.values[:, 0], color="black")
ax.set(xlabel="month since Jan 1949 / mese", ylabel="passengers (thousands) / passeggeri",
       title="airline: one column, one row per month")
fig
""",
        ],
        notice_it="""
La serie ha una tendenza (cresce negli anni) e una stagionalità di 12 mesi (i picchi estivi),
e le oscillazioni crescono con il livello. Un buon modello deve catturare tutte e tre le cose;
la previsione "stagionale ingenua", che ripete l'anno precedente, ne cattura già due.
""",
        notice_en="""
The series has a trend (it grows over the years) and a 12-month season (the summer peaks),
and the swings grow with the level. A good model must capture all three; the "seasonal naive"
forecast, which repeats the previous year, already captures two of them.
""",
        exercise_it="""
Qual è la forma $(n, c)$ della matrice `airline.values`? Scrivila come tupla.
""",
        exercise_en="""
What is the shape $(n, c)$ of the matrix `airline.values`? Write it as a tuple.
""",
        check="""
def check_series_shape(answer):
    return check(answer, tuple(airline.values.shape), "12 years of months, one quantity")
""",
        try_="""
risposta = None  # (n, c)
check_series_shape(risposta)
""",
        solution="""
check_series_shape((12 * 12, 1))
""",
    ),
    dict(
        title="La convoluzione causale / The causal convolution",
        quotes=[(616, "L'output a un tempo i dipende solo dai passi precedenti (non futuri)."),
                (622, "$Hᵢ = φ( Σⱼ₌₀ᵏ Σ₂₁ᶜ Wⱼ,₂ * Xᵢ₋ⱼ,₂)$")],
        it="""
Una convoluzione normale centrata sul passo $i$ legge anche $i+1, i+2, \\dots$: per una
previsione sarebbe barare. La convoluzione causale aggiunge zeri solo a sinistra, così
l'uscita al passo $i$ legge $X_i, X_{i-1}, \\dots, X_{i-k}$ e nient'altro. Con la dilatazione
il filtro salta dei passi e vede più lontano nel passato con gli stessi pesi; impilando
livelli con dilatazioni 1, 2, 4, 8 (una TCN) il campo recettivo cresce in modo esponenziale.
La prova migliore è sperimentale: cambiamo il futuro e guardiamo se il passato si muove.
""",
        en="""
An ordinary convolution centred at step $i$ also reads $i+1, i+2, \\dots$: for a forecast that
would be cheating. A causal convolution pads with zeros on the left only, so the output at
step $i$ reads $X_i, X_{i-1}, \\dots, X_{i-k}$ and nothing else. With dilation the filter skips
steps and sees further into the past with the same weights; stacking levels with dilations
1, 2, 4, 8 (a TCN) makes the receptive field grow exponentially. The best proof is an
experiment: change the future and watch whether the past moves.
""",
        code=[
            """
from reti.layers import CausalConv1d, receptive_field

conv = CausalConv1d(1, 4, kernel_size=3, dilation=2)
x = torch.randn(1, 1, 20)
future = x.clone()
future[..., 10:] += 5.0  # change every step from 10 on
print("outputs 0..9 unchanged:", torch.equal(conv(x)[..., :10], conv(future)[..., :10]))
print("a 4-level TCN (k=3, dilations 1,2,4,8) sees", receptive_field(3, [1, 2, 4, 8]), "steps")

# which inputs does the output at step 15 depend on? the gradient says it
x = torch.randn(1, 1, 20, requires_grad=True)
conv(x)[0, :, 15].sum().backward()
fig = Figure(figsize=(8, 2.8), layout="tight")
ax = fig.subplots()
ax.stem(range(20), x.grad[0, 0].abs().numpy())
ax.axvline(15, color="tab:red", ls="--", label="output step 15")
ax.set_xticks(range(0, 20, 2))
ax.set(xlabel="input step / passo di ingresso", ylabel="|d out_15 / d x_j|",
       title="kernel 3, dilation 2: steps 15, 13, 11 only")
ax.legend()
fig
""",
        ],
        notice_it="""
Il gradiente è diverso da zero solo ai passi 15, 13 e 11: tre pesi, distanziati di 2 per la
dilatazione, tutti nel passato o nel presente. Nessun passo dopo il 15 conta, ed è per questo
che cambiare il futuro ha lasciato intatte le uscite 0..9.
""",
        notice_en="""
The gradient is non-zero only at steps 15, 13 and 11: three weights, spaced by 2 because of
the dilation, all in the past or present. No step after 15 counts, which is why changing the
future left outputs 0..9 untouched.
""",
        exercise_it="""
Una TCN ha 3 livelli con kernel 5 e dilatazioni 1, 2, 4, e due convoluzioni per livello.
Quanti passi di ingresso vede una sua uscita? (Ogni convoluzione aggiunge $(k-1)\\,d$ passi.)
""",
        exercise_en="""
A TCN has 3 levels with kernel 5 and dilations 1, 2, 4, and two convolutions per level. How
many input steps does one of its outputs see? (Each convolution adds $(k-1)\\,d$ steps.)
""",
        check="""
def check_receptive_field(answer):
    return check(answer, receptive_field(5, [1, 2, 4], convs=2), "start from 1 (the step itself)")
""",
        try_="""
risposta = None  # an integer
check_receptive_field(risposta)
""",
        solution="""
check_receptive_field(1 + 2 * (5 - 1) * (1 + 2 + 4))  # 57
""",
    ),
    dict(
        title="Previsione: opzioni A e B / Forecasting: options A and B",
        quotes=[(636, "Poola l'output $H$ e applica un regressor per predire $xₙ$."),
                (639, "Definisce un target $Y = [x₁, x₂,..., xₙ]$ e allena il modello in modo "
                      "che $Hᵢ ≈ Hᵢ₊₁$"),
                (642, "Quest'ultimo funziona solo con modelli causali."),
                (650, "Modelli allenati a prevedere il passo successivo possono essere usati per "
                      "generazione autoregressiva.")],
        it="""
L'opzione A riassume l'uscita della rete con un pooling e una testa che predice subito i
prossimi 12 mesi. L'opzione B allena la rete a prevedere il passo successivo in ogni
posizione; per andare 12 mesi avanti si usa la generazione autoregressiva: si aggiunge la
previsione all'input e si ripete. L'opzione B ha bisogno di un modello causale, altrimenti in
training il passo $i$ vedrebbe la risposta $x_{i+1}$. Misuriamo entrambe con il MASE:
l'errore medio sul test diviso per l'errore medio che la previsione stagionale ingenua
(ripetere l'anno prima) fa sul training. Più basso è meglio, e la riga `seasonal naive` dà il
termine di paragone sul test.
""",
        en="""
Option A summarises the network's output with a pooling and a head that predicts the next 12
months at once. Option B trains the network to predict the next step at every position; to go
12 months ahead it uses autoregressive generation: append the prediction to the input and
repeat. Option B needs a causal model, otherwise in training step $i$ would see the answer
$x_{i+1}$. We measure both with MASE: the mean test error divided by the mean error that
the seasonal-naive forecast (repeat last year) makes on the training part. Lower is better,
and the `seasonal naive` row is the yardstick on the test.
""",
        code=[
            """
from reti.tasks.series import SeriesConfig, forecast_from_run, run

budget = TrainConfig(epochs=30, batch_size=16, lr=3e-3, device="cpu", quiet=True, seed=0)
result = run(SeriesConfig(data="airline", horizon=12, window=24, channels=32, levels=2,
                          compare=True, out=str(runs / "airline"), train=budget))
scores = {**result.models, **result.baselines}
mase = {name: round(s["mase"], 4) for name, s in scores.items()}
mase  # lower is better; compare with the seasonal-naive row
""",
            """
fc = forecast_from_run(runs / "airline", 24)
n = len(fc["history"])
fig = Figure(figsize=(9, 3), layout="tight")
ax = fig.subplots()
ax.plot(range(n - 48, n), fc["history"][-48:, 0], color="black", label="history / storia")
ax.plot(range(n, n + len(fc["truth"])), fc["truth"][:, 0], color="tab:green", label="truth / vero")
ax.plot(range(n, n + 24), fc["seasonal_naive"][:, 0], "--", color="gray", label="seasonal naive")
ax.plot(range(n, n + 24), fc["forecast"][:, 0], color="tab:red", label="TCN")
ax.set(xlabel="month / mese", ylabel="passengers (thousands)")
ax.legend()
fig
""",
        ],
        notice_it="""
La previsione della TCN segue la forma stagionale e la tendenza a crescere, mentre la
previsione stagionale ingenua ripete l'anno prima e resta sotto la verità: non vede la
crescita. Per questo il suo MASE sul test supera 1. Le due opzioni della TCN finiscono
vicine tra loro; su soli 144 mesi i numeri cambiano un po' con il seme, e per dire quale
opzione è migliore servirebbero più semi.
""",
        notice_en="""
The TCN's forecast follows the seasonal shape and the upward trend, while the seasonal-naive
forecast repeats last year and stays below the truth: it does not see the growth. That is why
its test MASE is above 1. The TCN's two options end up close to each other; on only 144
months the numbers move a little with the seed, and telling which option is better would
take more seeds.
""",
        exercise_it="""
Scrivi l'insieme (`set`) dei nomi in `mase` che battono la previsione stagionale ingenua sul
test, cioè con un MASE minore del suo.
""",
        exercise_en="""
Write the `set` of names in `mase` that beat the seasonal-naive forecast on the test, that
is with a lower MASE than its own.
""",
        check="""
def check_beats_naive(answer):
    yardstick = mase["seasonal naive (m=12)"]
    return check(answer, {name for name, value in mase.items() if value < yardstick})
""",
        try_="""
risposta = None  # {"...", ...}
check_beats_naive(risposta)
""",
        solution="""
yardstick = next(value for name, value in mase.items() if name.startswith("seasonal naive"))
check_beats_naive({name for name, value in mase.items() if value < yardstick})
""",
    ),
    dict(
        title="Anomalie e classificazione / Anomalies and classification",
        quotes=[(598, "**Applicazioni:**"), (604, "Anomaly Detection"), (607, "Classification")],
        it="""
Un modello che prevede il passo successivo dei dati normali sbaglia di più quando arriva
qualcosa di anomalo. Questa è l'idea del rilevamento di anomalie: alleniamo una TCN causale
sulla parte normale di un elettrocardiogramma (MIT-BIH) e segnaliamo i punti in cui l'errore
supera il quantile dell'errore di training. Per la classificazione serve invece tutta la
serie: una rete convoluzionale non causale (FCN) guarda l'intera serie GunPoint e dice se la
mano estrae una pistola o punta un dito.
""",
        en="""
A model that predicts the next step of normal data errs more when something anomalous
arrives. That is the idea of anomaly detection: we train a causal TCN on the normal part of an
electrocardiogram (MIT-BIH) and flag the points where the error exceeds a quantile of the
training error. Classification needs the whole series instead: a non-causal convolutional net
(FCN) looks at the entire GunPoint series and says whether the hand draws a gun or points a
finger.
""",
        code=[
            """
budget = TrainConfig(epochs=3, batch_size=64, lr=3e-3, device="cpu", quiet=True, seed=0)
anomaly = run(SeriesConfig(task="anomaly", data="mitdb", channels=16, levels=3, window=32,
                           train=budget))
print(int(anomaly.trace.labels.sum()), "anomalous points in the test part")
{name: {k: round(s[k], 3) for k in ("precision", "recall", "f1", "point-adjusted f1", "flagged")}
 for name, s in {**anomaly.models, **anomaly.baselines}.items()}
""",
            """
values, flags, labels = anomaly.trace.values, anomaly.trace.flags, anomaly.trace.labels
steps = torch.arange(len(values))
fig = Figure(figsize=(10, 3), layout="tight")
ax = fig.subplots()
ax.plot(steps, values, lw=0.6, color="black", label="ECG")
ax.fill_between(steps, values.min(), values.max(), where=labels.bool().numpy(), color="tab:orange",
                alpha=0.3, label="labelled anomalous / anomalo")
ax.scatter(steps[flags], values[flags], s=12, color="tab:red", label="flagged / segnalato",
           zorder=3)
ax.set(xlabel="step / passo", ylabel="value / valore",
       title="mitdb: next-step error above the training quantile")
ax.legend(loc="upper right")
fig
""",
            """
budget = TrainConfig(epochs=30, batch_size=16, lr=3e-3, device="cpu", quiet=True, seed=0)
classify = run(SeriesConfig(task="classify", data="GunPoint", model="fcn", channels=32,
                            train=budget))
{**classify.models, **classify.baselines}
""",
        ],
        notice_it="""
Il modello segnala pochi punti, e solo alcuni cadono nella zona arancione: molti picchi
normali hanno errori alti anche loro. Punto per punto quindi precisione (quanti segnalati sono
davvero anomali) e richiamo (quante anomalie vengono trovate) sono bassi. I punteggi
"point-adjusted", la convenzione dei benchmark di anomalie, contano invece un intero segmento
anomalo come trovato se almeno un suo punto è segnalato: con la stessa figura danno un numero
molto più alto. Quando leggi un punteggio di anomalie, chiedi sempre quale dei due è. Su
GunPoint confronta l'accuratezza della FCN con quella della classe più frequente.
""",
        notice_en="""
The model flags few points, and only some fall in the orange zone: many normal peaks have
high errors too. Point by point, then, precision (how many flagged points are really
anomalous) and recall (how many anomalies are found) are low. The "point-adjusted" scores,
the anomaly benchmarks' convention, instead count a whole anomalous segment as found when one
of its points is flagged: from the same figure they give a much higher number. When you read
an anomaly score, always ask which of the two it is. On GunPoint, compare the FCN's accuracy
with that of the most frequent class.
""",
        exercise_it="""
Calcola la precisione del modello punto per punto da `flags` e `labels`: tra i punti
segnalati, la frazione che è davvero anomala.
""",
        exercise_en="""
Compute the model's point-wise precision from `flags` and `labels`: among the flagged points,
the fraction that is really anomalous.
""",
        check="""
def check_precision(answer):
    model_scores = next(iter(anomaly.models.values()))
    return check(answer, model_scores["precision"], "(flags & labels).sum() / flags.sum()")
""",
        try_="""
risposta = None  # a number between 0 and 1
check_precision(risposta)
""",
        solution="""
hits = (flags & labels.bool()).sum().item()
check_precision(hits / max(flags.sum().item(), 1))
""",
    ),
]
