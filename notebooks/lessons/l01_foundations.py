"""Lesson 1: the linear score, the 2-layer net, and FC / locally connected / CNN connectivity."""

NAME = "01_foundations_connectivity"
TITLE = "1 · Reti neurali e connettività / Neural nets and connectivity"

INTRO_IT = """
Gli appunti partono da due formule: lo score lineare e la rete a due layer. In questo notebook
le alleniamo entrambe sulle 1797 cifre scritte a mano 8x8 di scikit-learn, poi contiamo i
parametri di tre modi di collegare un'immagine a un layer nascosto: tutto con tutto (fully
connected), a zone (locally connected) e con filtri condivisi (convoluzione). Ogni sezione
cita la frase degli appunti che mette alla prova, con il numero di riga, e finisce con un
esercizio che puoi controllare da solo.
"""
INTRO_EN = """
The notes begin with two formulas: the linear score and the two-layer net. In this notebook
we train both on scikit-learn's 1797 handwritten 8x8 digits, then count the parameters of
three ways of wiring an image to a hidden layer: everything to everything (fully connected),
patch by patch (locally connected) and with shared filters (convolution). Each section quotes
the sentence of the notes it puts to the test, with its line number, and ends with an exercise
you can check yourself.
"""

CONCEPTS = [
    dict(
        title="Score lineare e rete a 2 layer / The linear score and the 2-layer net",
        quotes=[(15, "**Funzione Score Lineare:**"), (18, "$f = Wx$"),
                (21, "**Rete Neurale a 2-layer:**"), (24, "$f = W₂ max(0, W₁x)$")],
        it="""
Lo score lineare moltiplica l'immagine, stesa in un vettore $x$ di 64 pixel, per una matrice
$W$: ogni riga di $W$ dà il punteggio di una classe. È un modello semplice, ma può solo
tracciare confini piatti tra le classi. La rete a due layer inserisce in mezzo un layer
nascosto e una ReLU, $\\max(0, \\cdot)$: la non linearità le permette di combinare i pixel in
caratteristiche nuove prima di dare il punteggio. In reti, un pattern di soli layer `FC` è un
MLP: `FC@10` è $f = Wx$, `FC@64-RELU,SOFTMAX` è $f = W_2 \\max(0, W_1 x)$.
""",
        en="""
The linear score multiplies the image, flattened into a vector $x$ of 64 pixels, by a matrix
$W$: each row of $W$ gives the score of one class. It is a simple model, but it can only draw
flat boundaries between classes. The two-layer net puts a hidden layer and a ReLU,
$\\max(0, \\cdot)$, in between: the non-linearity lets it combine pixels into new features
before scoring. In reti a pattern made only of `FC` layers is an MLP: `FC@10` is $f = Wx$,
`FC@64-RELU,SOFTMAX` is $f = W_2 \\max(0, W_1 x)$.
""",
        code=[
            """
from reti.data import load_images

digits = load_images("digits")
digits  # shapes, classes and one image per class
""",
            """
from reti.tasks.vision import VisionConfig, train

budget = TrainConfig(epochs=12, batch_size=64, lr=5e-3, schedule="cosine", device="cpu",
                     quiet=True, seed=0)
linear = train(VisionConfig(data="digits", model="FC@10", train=budget))
two_layer = train(VisionConfig(data="digits", model="FC@64-RELU,SOFTMAX", train=budget))
two_layer  # a short table and the learning curves
""",
            """
from reti.layers import count_parameters

fig = Figure(figsize=(8, 3), layout="tight")
ax = fig.subplots()
for name, run in {"f = Wx": linear, "f = W2 max(0, W1 x)": two_layer}.items():
    epochs = [r["epoch"] for r in run.rows]
    ax.plot(epochs, [r["val_accuracy"] for r in run.rows], "-o", label=name)
    print(f"{name:22s} {count_parameters(run.model):6,d} parameters, "
          f"test accuracy {run.final['val_accuracy']:.3f}")
ax.set(xlabel="epoch / epoca", ylabel="test accuracy / accuratezza",
       title="digits 8x8: linear score against 2-layer net")
ax.legend()
fig
""",
        ],
        notice_it="""
Le due curve partono vicine, ma la rete a due layer finisce più in alto: la ReLU le dà
caratteristiche che lo score lineare non può costruire. Nota anche il prezzo: circa sei volte
i parametri. Su cifre così piccole anche il modello lineare fa già molto bene, segno che le
classi sono quasi separabili da confini piatti.
""",
        notice_en="""
The two curves start close, but the two-layer net ends higher: the ReLU gives it features the
linear score cannot build. Note the price too: about six times the parameters. On such small
digits even the linear model does well, a sign that the classes are nearly separable by flat
boundaries.
""",
        exercise_it="""
Quanti parametri ha `FC@10` sulle cifre 8x8 (pesi **e** bias)? Fai il conto a mano: 64 pixel
in ingresso, 10 classi in uscita. Scrivi il numero al posto di `None`.
""",
        exercise_en="""
How many parameters does `FC@10` have on the 8x8 digits (weights **and** biases)? Work it out
by hand: 64 input pixels, 10 output classes. Write the number in place of `None`.
""",
        check="""
def check_linear_params(answer):
    # reti counts them on the trained model itself
    return check(answer, count_parameters(linear.model), "pesi 64 x 10, più un bias per classe")
""",
        try_="""
risposta = None  # il tuo numero / your number
check_linear_params(risposta)
""",
        solution="""
check_linear_params(64 * 10 + 10)  # W is 10 x 64, one bias per class
""",
    ),
    dict(
        title="Fully connected, locally connected, convoluzionale / three connectivities",
        quotes=[(38, "Molti parametri: 10^12 per una immagine 1000x1000 con 1M hidden units"),
                (58, "100M per una immagine 1000x1000 con 1M hidden units e filter size 10x10"),
                (81, "Esempio con 100 filtri e dimensione 10x10, si hanno 10k parametri.")],
        it="""
Un layer fully connected collega ogni unità nascosta a ogni pixel: con un'immagine di un
milione di pixel e un milione di unità servono $10^{12}$ pesi, troppi per essere utili. Il
layer locally connected guarda solo una finestra 10x10 per unità, e scende a $10^8$. La
convoluzione fa un passo in più: usa gli stessi filtri in ogni posizione, quindi il numero di
pesi non dipende più dalla dimensione dell'immagine. Qui reti rifà i conti degli appunti
(solo i pesi, come negli appunti) e li ripete sulle nostre cifre.
""",
        en="""
A fully connected layer wires every hidden unit to every pixel: with a one-megapixel image and
a million hidden units that is $10^{12}$ weights, far too many to be useful. A locally
connected layer lets each unit look at a 10x10 window only, and drops to $10^8$. Convolution
goes one step further: it uses the same filters at every position, so the number of weights
no longer depends on the image size. Here reti redoes the notes' counts (weights only, as the
notes count them) and repeats them on our digits.
""",
        code=[
            """
from IPython.display import Markdown

from reti.layers import compare_connectivity
from reti.layers.params import format_params_table

notes_rows = compare_connectivity()  # the notes' own example: 1000x1000, 1M units, 100 filters
Markdown(format_params_table(notes_rows))
""",
            """
digit_rows = compare_connectivity(image_size=8, hidden_units=64, kernel_size=3, filters=16)
fig = Figure(figsize=(9, 3), layout="tight")
for ax, (name, rows) in zip(fig.subplots(1, 2), {"notes: 1000x1000": notes_rows,
                                                  "digits: 8x8": digit_rows}.items()):
    ax.bar([r.kind for r in rows], [r.weights for r in rows], color=["tab:red", "tab:orange",
                                                                    "tab:green"])
    ax.set_yscale("log")
    ax.set(title=name, ylabel="weights / pesi (log scale)", xlabel="layer")
fig
""",
        ],
        notice_it="""
L'asse verticale è logaritmico: ogni tacca è un fattore dieci. Negli appunti tra fully
connected e convoluzione ci sono otto ordini di grandezza; sulle cifre 8x8 la distanza è molto
più piccola, perché l'immagine è minuscola. Il vantaggio della convoluzione cresce con la
dimensione dell'input, come dicono gli appunti.
""",
        notice_en="""
The vertical axis is logarithmic: each tick is a factor of ten. In the notes, eight orders of
magnitude separate fully connected from convolution; on the 8x8 digits the gap is much
smaller, because the image is tiny. Convolution's advantage grows with the input size, as the
notes say.
""",
        exercise_it="""
Un'immagine RGB 32x32 (3 canali), 1000 unità nascoste, filtri 5x5, 100 filtri, senza bias.
Quanti pesi hanno i tre layer? Scrivi una tupla `(fully_connected, locally_connected,
convoluzionale)`.
""",
        exercise_en="""
A 32x32 RGB image (3 channels), 1000 hidden units, 5x5 filters, 100 filters, no biases. How
many weights do the three layers have? Write a tuple `(fully_connected, locally_connected,
convolutional)`.
""",
        check="""
def check_connectivity(answer):
    rows = compare_connectivity(image_size=32, hidden_units=1000, kernel_size=5, filters=100,
                                in_channels=3)
    return check(answer, tuple(r.weights for r in rows), "ricorda i 3 canali / mind the 3 channels")
""",
        try_="""
risposta = None  # (fully connected, locally connected, convolutional)
check_connectivity(risposta)
""",
        solution="""
fully = 32 * 32 * 3 * 1000  # every unit sees every value
local = 1000 * 5 * 5 * 3  # every unit has its own 5x5x3 window
conv = 100 * 5 * 5 * 3  # 100 shared 5x5x3 filters
check_connectivity((fully, local, conv))
""",
    ),
]
