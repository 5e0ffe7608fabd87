"""Lesson 2: the CNN pattern language, pooling, VGG and its low / mid / high features."""

NAME = "02_cnn_pattern_vgg"
TITLE = "2 · CNN, il linguaggio dei pattern e VGG / CNNs, the pattern language and VGG"

INTRO_IT = """
Gli appunti descrivono la struttura tipica di una CNN con una formula: blocchi di convoluzioni
e ReLU, un pooling, poi layer fully connected e una softmax. reti prende quella formula alla
lettera: una stringa come `[(CONV3@16-RELU)*2-POOL]*2-(FC@64-RELU)*1,SOFTMAX` è la definizione
del modello. Qui la costruiamo, la alleniamo sulle cifre, guardiamo cosa fa il pooling e cosa
vedono i filtri ai livelli bassi, medi e alti, e contiamo i parametri di VGG-16.
"""
INTRO_EN = """
The notes describe the typical structure of a CNN with a formula: blocks of convolutions and
ReLUs, a pooling, then fully connected layers and a softmax. reti takes that formula
literally: a string such as `[(CONV3@16-RELU)*2-POOL]*2-(FC@64-RELU)*1,SOFTMAX` is the model's
definition. Here we build it, train it on the digits, look at what pooling does and at what
the filters see at low, middle and high levels, and count VGG-16's parameters.
"""

CONCEPTS = [
    dict(
        title="Il pattern di una CNN / The CNN pattern",
        quotes=[(256, "CONV -> RELU -> POOL (più volte) -> FC (linear) -> Softmax."),
                (259, "Struttura di base: $[(CONV-RELU)*N-POOL?]*M-(FC-RELU)*K,SOFTMAX$")],
        it="""
Leggi il pattern dall'interno verso l'esterno. `(CONV3@16-RELU)*2` sono due convoluzioni 3x3
con 16 filtri, ciascuna seguita da una ReLU: è il blocco ripetuto $N$ volte. Il `POOL` dopo il
blocco dimezza l'immagine, e tutto il gruppo tra parentesi quadre si ripete $M$ volte. Poi
vengono $K$ layer fully connected e infine la softmax, che trasforma i punteggi in
probabilità. Scrivere un modello così obbliga a pensare alla sua forma, non ai dettagli del
codice; e se il pattern è sbagliato, reti indica il punto esatto dell'errore.
""",
        en="""
Read the pattern from the inside out. `(CONV3@16-RELU)*2` is two 3x3 convolutions with 16
filters, each followed by a ReLU: the block repeated $N$ times. The `POOL` after the block
halves the image, and the whole bracketed group repeats $M$ times. Then come $K$ fully
connected layers and finally the softmax, which turns scores into probabilities. Writing a
model this way makes you think about its shape, not about code details; and when a pattern is
wrong, reti points at the exact place of the mistake.
""",
        code=[
            """
from reti.models import build_model

pattern = "[(CONV3@16-RELU)*2-POOL]*2-(FC@64-RELU)*1,SOFTMAX"
model = build_model(pattern, 10, 1, 8)  # 10 classes, 1 channel, 8x8 images
model
""",
            """
from reti.errors import ParseError

try:
    build_model("[(CONV3@16-RELU)*2-POOL]*2-(FC@-RELU),SOFTMAX", 10, 1, 8)
except ParseError as error:
    print(error)  # the message names the column where the pattern breaks
""",
            """
from reti.tasks.vision import VisionConfig, evaluate, load_run, train

cnn_run = runs / "cnn"
cnn = train(VisionConfig(data="digits", model=pattern, out=str(cnn_run),
                         train=TrainConfig(epochs=6, batch_size=64, lr=3e-3, schedule="onecycle",
                                           device="cpu", quiet=True, seed=0)))
cnn.plot()  # learning curves: loss and test accuracy against the step
""",
        ],
        notice_it="""
Nella stampa del modello ritrovi il pattern pezzo per pezzo: quattro `Conv2d`, due
`MaxPool2d`, poi i `Linear`. Nelle curve, la loss di training e quella di test scendono
insieme e l'accuratezza sale in poche epoche: il modello impara, e non c'è ancora
overfitting.
""",
        notice_en="""
In the printed model you find the pattern piece by piece: four `Conv2d`, two `MaxPool2d`, then
the `Linear` layers. In the curves, training and test loss fall together and accuracy climbs
within a few epochs: the model learns, and there is no overfitting yet.
""",
        exercise_it="""
Scrivi un pattern con $N = 1$, $M = 3$, $K = 2$: tre blocchi `CONV3@32-RELU` ognuno seguito da
`POOL`, poi due layer `FC@64-RELU` e la softmax. Il controllo lo costruisce per le cifre 8x8 e
conta convoluzioni, pooling e layer lineari.
""",
        exercise_en="""
Write a pattern with $N = 1$, $M = 3$, $K = 2$: three `CONV3@32-RELU` blocks each followed by
`POOL`, then two `FC@64-RELU` layers and the softmax. The check builds it for the 8x8 digits
and counts convolutions, poolings and linear layers.
""",
        check="""
def check_pattern(answer):
    if answer is None:
        return check(None, None)
    net = build_model(answer, 10, 1, 8)
    kinds = [type(m).__name__ for m in net.modules()]
    found = (kinds.count("Conv2d"), kinds.count("MaxPool2d"), kinds.count("Linear"))
    print("Conv2d, MaxPool2d, Linear:", found)
    return check(found, (3, 3, 3), "3 conv, 3 pool, 2 FC + the softmax layer")
""",
        try_="""
risposta = None  # a pattern string, e.g. "[(CONV3@32-RELU)*1-POOL]*..."
check_pattern(risposta)
""",
        solution="""
check_pattern("[(CONV3@32-RELU)*1-POOL]*3-(FC@64-RELU)*2,SOFTMAX")
""",
    ),
    dict(
        title="Pooling / Pooling",
        quotes=[(228, "Rende la rappresentazione più piccola e gestibile."),
                (237, "224 diventa 112."), (245, "**No learnable parameters.**")],
        it="""
Il pooling riassume ogni finestra 2x2 con un solo numero, il massimo (o la media). Così
l'immagine dimezza in altezza e in larghezza: 224 diventa 112, e nelle nostre cifre 8 diventa
4. Il pooling non ha pesi da imparare: è una regola fissa. Serve a ridurre i calcoli e a
rendere la rete un po' meno sensibile a piccoli spostamenti, perché il massimo di una finestra
non cambia se il tratto si sposta di un pixel al suo interno.
""",
        en="""
Pooling summarises each 2x2 window with one number, its maximum (or its mean). The image
halves in height and width: 224 becomes 112, and on our digits 8 becomes 4. Pooling has no
weights to learn: it is a fixed rule. It cuts computation and makes the network a little less
sensitive to small shifts, because the maximum of a window does not change when a stroke
moves by one pixel inside it.
""",
        code=[
            """
from reti.data import load_images
from reti.layers import MaxPool2d, conv_output_size, count_parameters

print("224 ->", conv_output_size(224, kernel_size=2, stride=2))
pool = MaxPool2d(2)
print("parameters of a max pooling:", count_parameters(pool))
image = load_images("digits").test_x[:1] / 255.0  # one test digit, (1, 1, 8, 8) in [0, 1]
pooled = pool(image)
fig = Figure(figsize=(6.5, 3), layout="constrained")
for ax, (name, x) in zip(fig.subplots(1, 2), {"input 8x8": image, "max pool 4x4": pooled}.items()):
    shown = ax.imshow(x[0, 0].numpy(), cmap="gray_r", vmin=0, vmax=1)
    ax.set(title=name, xlabel="column / colonna", ylabel="row / riga")
fig.colorbar(shown, ax=fig.axes, label="intensity / intensità")
fig
""",
        ],
        notice_it="""
L'immagine a destra ha un quarto dei pixel ma la cifra si riconosce ancora: il pooling tiene
il tratto più forte di ogni finestra. Il conteggio dei parametri è zero, come dicono gli
appunti.
""",
        notice_en="""
The right-hand image has a quarter of the pixels yet the digit is still recognisable: pooling
keeps the strongest stroke of each window. The parameter count is zero, as the notes say.
""",
        exercise_it="""
Un'immagine 32x32 passa per una convoluzione 5x5 (stride 1, padding 0) e poi per un max
pooling 2x2 con stride 2. Qual è il lato dell'immagine in uscita? Usa la formula
$\\lfloor (n + 2P - F) / S \\rfloor + 1$ due volte.
""",
        exercise_en="""
A 32x32 image goes through a 5x5 convolution (stride 1, padding 0) and then a 2x2 max pooling
with stride 2. What is the side of the output image? Use the formula
$\\lfloor (n + 2P - F) / S \\rfloor + 1$ twice.
""",
        check="""
def check_output_side(answer):
    after_conv = conv_output_size(32, kernel_size=5)
    return check(answer, conv_output_size(after_conv, kernel_size=2, stride=2))
""",
        try_="""
risposta = None  # an integer
check_output_side(risposta)
""",
        solution="""
after_conv = (32 + 2 * 0 - 5) // 1 + 1  # 28
check_output_side((after_conv - 2) // 2 + 1)  # 14
""",
    ),
    dict(
        title="VGG: feature di basso, medio e alto livello / VGG: low, mid and high-level features",
        quotes=[(176, "Bassi livelli: low level features."),
                (179, "Medio livello: mid level features."),
                (182, "Alti livelli: high level features."),
                (185, "Dopo i vari layers la classificazione è lineare.")],
        it="""
VGG è lo stesso linguaggio con più stadi: blocchi di convoluzioni 3x3, un pooling dopo ogni
blocco, tre layer fully connected alla fine. Gli appunti dicono che i primi layer vedono
feature semplici (bordi, contrasti), quelli centrali combinazioni di bordi, gli ultimi parti
intere dell'oggetto. Lo verifichiamo sulla nostra piccola CNN: guardiamo i filtri del primo
layer e le mappe di attivazione che una cifra produce ai tre livelli. Alla fine contiamo i
parametri di VGG-16 vero, costruito senza allocare i pesi.
""",
        en="""
VGG is the same language with more stages: blocks of 3x3 convolutions, a pooling after each
block, three fully connected layers at the end. The notes say the first layers see simple
features (edges, contrasts), the middle ones combinations of edges, the last ones whole parts
of the object. We check it on our small CNN: we look at the first layer's filters and at the
activation maps one digit produces at the three levels. Finally we count the parameters of the
real VGG-16, built without allocating its weights.
""",
        code=[
            """
from reti.viz import conv_feature_maps, feature_maps_figure, filters_figure

model, model_config = load_run(cnn_run)
first_conv = next(m for m in model.modules() if isinstance(m, torch.nn.Conv2d))
filters_figure(first_conv.weight, title="first-layer filters / filtri del primo layer")
""",
            """
feature_maps_figure(conv_feature_maps(model, image), image[0])
""",
            """
from reti.viz import confusion_figure

scores = evaluate(cnn_run)
confusion_figure(scores["confusion"], scores["classes"], f"test accuracy {scores['accuracy']:.3f}")
""",
            """
from reti.models import VGG, VGGConfig

with torch.device("meta"):
    vgg16 = VGG(VGGConfig(depth=16))  # 224x224 RGB, 1000 classes
print(f"VGG-16 on ImageNet: {count_parameters(vgg16):,} parameters")
""",
        ],
        notice_it="""
I filtri del primo layer sono piccoli rilevatori di bordi chiari e scuri in direzioni
diverse. Le mappe del primo livello assomigliano ancora alla cifra; salendo diventano più
piccole e più astratte, finché non si riconosce più la forma ma solo quale caratteristica è
presente. La matrice di confusione mostra quali cifre il modello scambia tra loro: quasi tutto
sta sulla diagonale.
""",
        notice_en="""
The first layer's filters are small detectors of light and dark edges in different
directions. First-level maps still look like the digit; higher up they shrink and grow more
abstract, until you no longer see the shape, only which feature is present. The confusion
matrix shows which digits the model mixes up: nearly everything is on the diagonal.
""",
        exercise_it="""
Il "16" di VGG-16 conta i layer con pesi. Quante convoluzioni ha VGG-16? (Suggerimento:
i layer fully connected sono 3.) Il controllo conta i `Conv2d` del modello costruito da reti.
""",
        exercise_en="""
The "16" in VGG-16 counts the layers with weights. How many convolutions does VGG-16 have?
(Hint: there are 3 fully connected layers.) The check counts the `Conv2d` modules of the model
reti builds.
""",
        check="""
def check_vgg_convs(answer):
    convs = sum(isinstance(m, torch.nn.Conv2d) for m in vgg16.modules())
    return check(answer, convs, "16 layers with weights minus the fully connected ones")
""",
        try_="""
risposta = None  # an integer
check_vgg_convs(risposta)
""",
        solution="""
check_vgg_convs(16 - 3)
""",
    ),
]
