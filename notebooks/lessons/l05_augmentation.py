"""Lesson 5: the augmentation loop and its transform families, mixup / cutmix, training with it."""

NAME = "05_data_augmentation"
TITLE = "5 · Data augmentation / Data augmentation"

INTRO_IT = """
La data augmentation allarga il training set senza raccogliere dati nuovi: a ogni mini-batch
applica trasformazioni casuali alle immagini, e la rete vede ogni volta una versione un po'
diversa. In reti ogni trasformazione è un'operazione su tutto il batch con il suo generatore
di numeri casuali, e una stringa come `hflip(0.5),rotate(10)` le compone. Vediamo tutte le
famiglie degli appunti su una foto, poi mixup e cutmix, che mescolano due immagini, e infine
un training con e senza augmentation.
"""
INTRO_EN = """
Data augmentation enlarges the training set without collecting new data: at each mini-batch
it applies random transformations to the images, and the network sees a slightly different
version every time. In reti every transformation is an operation on the whole batch with its
own random generator, and a string such as `hflip(0.5),rotate(10)` composes them. We see every
family of the notes on a photo, then mixup and cutmix, which blend two images, and finally a
training run with and without augmentation.
"""

CONCEPTS = [
    dict(
        title="Le trasformazioni degli appunti / The notes' transformations",
        quotes=[(485, "Campiona un mini-batch dal dataset."),
                (488, "Applica una o più trasformazioni casuali (flipping, cropping, "
                      "rotazione...)."),
                (491, "Allena il modello sul mini-batch trasformato.")],
        it="""
Ogni riga della figura è una famiglia degli appunti: geometriche (flip, rotazione, ritaglio),
di colore (jitter di luminosità, contrasto, saturazione e tinta), rumore e distorsioni
(rumore gaussiano, deformazione elastica) e mascheramento (cutout). La prima colonna è la foto
originale, le altre quattro sono estrazioni casuali della stessa trasformazione. Una buona
augmentation cambia l'immagine senza cambiarne il significato: un gatto ruotato di 25 gradi è
ancora un gatto, ma una cifra 6 ruotata di 180 gradi diventa un 9.
""",
        en="""
Each row of the figure is a family from the notes: geometric (flip, rotation, crop), colour
(brightness, contrast, saturation and hue jitter), noise and distortion (Gaussian noise,
elastic deformation) and masking (cutout). The first column is the original photo, the other
four are random draws of the same transformation. A good augmentation changes the image
without changing its meaning: a cat rotated by 25 degrees is still a cat, but a 6 rotated by
180 degrees becomes a 9.
""",
        code=[
            """
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
""",
        ],
        notice_it="""
Nella riga `hflip(0.5)` circa metà delle estrazioni sono specchiate e metà no: 0.5 è la
probabilità. Le rotazioni lasciano angoli neri dove l'immagine non ha dati, il cutout copre un
quadrato in un punto diverso ogni volta. Nessuna trasformazione rende la foto
irriconoscibile: è questo che si vuole.
""",
        notice_en="""
In the `hflip(0.5)` row about half the draws are mirrored and half are not: 0.5 is the
probability. Rotations leave black corners where the image has no data, cutout covers a
square at a different place each time. No transformation makes the photo unrecognisable:
that is the point.
""",
        exercise_it="""
Scrivi una spec che specchi orizzontalmente **ogni** immagine. Il controllo la applica alle
foto e la confronta con `photos.flip(-1)`.
""",
        exercise_en="""
Write a spec that mirrors **every** image horizontally. The check applies it to the photos
and compares the result with `photos.flip(-1)`.
""",
        check="""
def check_always_flip(answer):
    if answer is None:
        return check(None, None)
    out, _ = parse_spec(answer)(photos, None, torch.Generator().manual_seed(3))
    return check(bool(torch.equal(out, photos.flip(-1))), True, "the argument is a probability")
""",
        try_="""
risposta = None  # a spec string, e.g. "hflip(...)"
check_always_flip(risposta)
""",
        solution="""
check_always_flip("hflip(1.0)")
""",
    ),
    dict(
        title="Mixup e CutMix / Mixup and CutMix",
        quotes=[(554, "**Combinazione Tecniche:**"), (557, "Mixup"), (560, "CutMix")],
        it="""
Mixup e CutMix combinano due immagini del batch. Mixup le sovrappone con trasparenza, CutMix
incolla un rettangolo della seconda dentro la prima. Anche le etichette si mescolano: se un
quarto dell'immagine viene dal secondo esempio, l'etichetta diventa 75% della prima classe e
25% della seconda. La rete impara così a dare probabilità proporzionate a quello che vede, non
risposte sicure al cento per cento.
""",
        en="""
Mixup and CutMix combine two images of the batch. Mixup overlays them with transparency,
CutMix pastes a rectangle of the second into the first. The labels mix too: if a quarter of
the image comes from the second example, the label becomes 75% first class and 25% second.
The network thus learns to give probabilities in proportion to what it sees, rather than
answers that are one hundred percent sure.
""",
        code=[
            """
mix = parse_spec("cutmix(1.0)", num_classes=2)
mixed, soft = mix(photos, torch.tensor([0, 1]), torch.Generator().manual_seed(1))
print("soft labels / etichette morbide:\\n", soft)
image_grid_figure([photos, mixed], row_titles=["photos", "cutmix"],
                  col_titles=["image 0", "image 1"])
""",
        ],
        notice_it="""
Ogni riga delle etichette morbide somma a 1, e la parte che va all'altra classe è proprio la
frazione di area incollata. L'immagine mescolata ha un rettangolo netto: CutMix non sfuma,
sostituisce.
""",
        notice_en="""
Each row of the soft labels sums to 1, and the share that goes to the other class is exactly
the fraction of area pasted in. The mixed image has a sharp rectangle: CutMix does not blend,
it replaces.
""",
        exercise_it="""
Misura che frazione dei pixel di `mixed[0]` viene da `photos[1]`: conta le posizioni in cui
`mixed[0]` è diverso da `photos[0]` (in almeno un canale). Il controllo la confronta con
l'etichetta morbida `soft[0, 1]`.
""",
        exercise_en="""
Measure what fraction of `mixed[0]`'s pixels comes from `photos[1]`: count the positions where
`mixed[0]` differs from `photos[0]` (in at least one channel). The check compares it with the
soft label `soft[0, 1]`.
""",
        check="""
def check_pasted_area(answer):
    if answer is None:
        return check(None, None)
    right = abs(float(answer) - soft[0, 1].item()) < 0.02  # a few pasted pixels may be equal
    return check(right, True, "(mixed[0] != photos[0]).any(0).float().mean()")
""",
        try_="""
risposta = None  # a fraction between 0 and 1
check_pasted_area(risposta)
""",
        solution="""
pasted = (mixed[0] != photos[0]).any(0).float().mean().item()
print(f"measured {pasted:.3f}, label {soft[0, 1].item():.3f}")
check_pasted_area(pasted)
""",
    ),
    dict(
        title="Allenare con l'augmentation / Training with augmentation",
        quotes=[(494, "**Benefici:** Previene overfitting e migliora la robustezza del modello.")],
        it="""
Mettiamo alla prova la promessa degli appunti. Alleniamo la stessa CNN su sole 300 cifre, una
volta sulle immagini originali e una volta con piccole traslazioni e rotazioni, che su una
cifra non cambiano il significato. Senza augmentation la rete vede le stesse 300 immagini per
20 epoche e può impararle a memoria; con l'augmentation ogni epoca porta versioni nuove. Ci
aspettiamo una loss di training più alta ma un'accuratezza di test uguale o migliore.
""",
        en="""
Let us test the notes' promise. We train the same CNN on only 300 digits, once on the original
images and once with small shifts and rotations, which do not change a digit's meaning.
Without augmentation the network sees the same 300 images for 20 epochs and can learn them by
heart; with augmentation every epoch brings new versions. We expect a higher training loss
but an equal or better test accuracy.
""",
        code=[
            """
from reti.tasks.vision import VisionConfig, train

budget = TrainConfig(epochs=20, batch_size=32, lr=3e-3, device="cpu", quiet=True, seed=0)
cnn = "[(CONV3@16-BN-RELU)*2-POOL]*2-(FC@64-RELU)*1,SOFTMAX"
plain = train(VisionConfig(data="digits", model=cnn, limit=300, train=budget))
spec = "translate(0.125),rotate(10)"  # up to one pixel of shift, up to 10 degrees
augmented = train(VisionConfig(data="digits", model=cnn, limit=300, augment=spec, train=budget))

fig = Figure(figsize=(8, 3), layout="tight")
ax = fig.subplots()
for name, run in {"without / senza": plain, "with / con augmentation": augmented}.items():
    epochs = [r["epoch"] for r in run.rows]
    ax.plot(epochs, [r["train_loss"] for r in run.rows], label=f"train, {name}")
    ax.plot(epochs, [r["val_loss"] for r in run.rows], "--", label=f"test, {name}")
ax.set(xlabel="epoch / epoca", ylabel="cross-entropy", title="300 training digits")
ax.legend()
print(f"test accuracy without {plain.final['val_accuracy']:.3f}, "
      f"with augmentation {augmented.final['val_accuracy']:.3f}")
fig
""",
        ],
        notice_it="""
La loss di training con augmentation resta più alta: il compito è più difficile, perché le
immagini cambiano a ogni epoca. La distanza tra training e test, invece, si riduce: è l'effetto
contro l'overfitting promesso dagli appunti. Con 300 immagini e un budget piccolo la
differenza di accuratezza è di pochi punti, e può cambiare con il seme: per una conclusione
solida servono più semi.
""",
        notice_en="""
The training loss with augmentation stays higher: the task is harder, because the images
change every epoch. The gap between training and test, on the other hand, shrinks: that is
the effect against overfitting the notes promise. With 300 images and a small budget the
accuracy difference is a few points and can change with the seed: a solid conclusion needs
more seeds.
""",
        exercise_it="""
Quale dei due run ha la distanza `val_loss - train_loss` più piccola all'ultima epoca?
Rispondi `"plain"` o `"augmented"`.
""",
        exercise_en="""
Which of the two runs has the smaller gap `val_loss - train_loss` at the last epoch? Answer
`"plain"` or `"augmented"`.
""",
        check="""
def check_smaller_gap(answer):
    gaps = {name: run.final["val_loss"] - run.final["train_loss"]
            for name, run in {"plain": plain, "augmented": augmented}.items()}
    return check(answer, min(gaps, key=gaps.get))
""",
        try_="""
risposta = None  # "plain" or "augmented"
check_smaller_gap(risposta)
""",
        solution="""
gaps = {name: run.final["val_loss"] - run.final["train_loss"]
        for name, run in {"plain": plain, "augmented": augmented}.items()}
print(gaps)
check_smaller_gap(min(gaps, key=gaps.get))
""",
    ),
]
