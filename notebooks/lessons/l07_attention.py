"""Lesson 7: BPE tokens, positions (sinusoidal, ALiBi), masked self-attention, temperature."""

NAME = "07_attention_tokens_temperature"
TITLE = "7 · Token, posizioni, attention e temperatura / Tokens, positions, attention, temperature"

INTRO_IT = """
Un piccolo GPT, pezzo per pezzo. Prima il testo diventa token: caratteri, oppure sottoparole
imparate con il Byte Pair Encoding come fa GPT-2. Poi serve dire al modello dove sta ogni
token, con le codifiche posizionali sinusoidali o con ALiBi. L'attention mascherata lascia che
ogni token guardi solo quelli precedenti. Alla fine la temperatura decide quanto è
avventurosa la generazione. Alleniamo un GPT a caratteri su Shakespeare per poche centinaia di
passi: scrive male, ma abbastanza per vedere tutte queste idee al lavoro.
"""
INTRO_EN = """
A small GPT, piece by piece. First the text becomes tokens: characters, or subwords learned
with Byte Pair Encoding as GPT-2 does. Then the model must be told where each token is, with
sinusoidal position encodings or with ALiBi. Masked attention lets each token look only at
the earlier ones. Finally the temperature decides how adventurous generation is. We train a
character GPT on Shakespeare for a few hundred steps: it writes badly, but well enough to
watch all these ideas at work.
"""

CONCEPTS = [
    dict(
        title="Token e Byte Pair Encoding / Tokens and Byte Pair Encoding",
        quotes=[(777, "Algoritmo che parte dal vocabolario base con tutti i caratteri."),
                (780, "Conta la frequenza delle coppie di caratteri."),
                (783, "Unisce la coppia più frequente in un nuovo simbolo."),
                (792, "GPT-2 utilizza BPE su byte e aggiunge regole per il merging process.")],
        it="""
Con i caratteri il vocabolario è piccolo ma le sequenze sono lunghe; con le parole intere è
il contrario, e ogni parola nuova resta sconosciuta. Il BPE sta nel mezzo: parte dai singoli
byte, conta le coppie vicine più frequenti e le fonde in un simbolo nuovo, e ripete finché il
vocabolario ha la dimensione voluta. Le parole comuni diventano un solo token, quelle rare si
spezzano in pezzi noti. GPT-2 lavora sui byte, quindi nessun testo gli è sconosciuto, e
divide prima il testo in parole e numeri con un'espressione regolare, così le fusioni non
attraversano gli spazi.
""",
        en="""
With characters the vocabulary is small but sequences are long; with whole words it is the
other way round, and every new word stays unknown. BPE sits in between: it starts from single
bytes, counts the most frequent neighbouring pairs and merges them into a new symbol, and
repeats until the vocabulary has the size wanted. Common words become one token, rare ones
split into known pieces. GPT-2 works on bytes, so no text is unknown to it, and it first
splits the text into words and numbers with a regular expression, so merges never cross
spaces.
""",
        code=[
            """
from reti.data.text import load_text
from reti.tokenize import BPETokenizer, CharTokenizer
from reti.tokenize.display import show_tokens

corpus = load_text("shakespeare").train[:200_000]
sentence = "To be, or not to be, that is the question."
show_tokens(CharTokenizer.train(corpus), sentence)
""",
            """
bpe = BPETokenizer.train(corpus[:50_000], vocab_size=400)
show_tokens(bpe, sentence)  # frequent pairs became tokens
""",
            """
from reti.data import fetch
from reti.tokenize import load_gpt2

gpt2 = load_gpt2(fetch("gpt2"))
show_tokens(gpt2, "Hello world! Ciao mondo, questa è una frase in italiano.")
""",
        ],
        notice_it="""
Con i caratteri ogni lettera è un token. Il nostro BPE, con sole 143 fusioni imparate su
Shakespeare, unisce già parole frequenti come " to", " not" e " that". GPT-2 divide
l'inglese in poche parole intere, mentre l'italiano, raro nei suoi dati, si spezza in molti
più pezzi: il tokenizer riflette la lingua su cui è stato allenato.
""",
        notice_en="""
With characters every letter is a token. Our BPE, with only 143 merges learned on
Shakespeare, already joins frequent words such as " to", " not" and " that". GPT-2 splits
English into a few whole words, while Italian, rare in its data, breaks into many more
pieces: a tokenizer mirrors the language it was trained on.
""",
        exercise_it="""
Fai a mano il primo passo del BPE sul testo `"aaabdaaabac"`: quale coppia di caratteri è la
più frequente? Il controllo allena un BPE di reti con una sola fusione.
""",
        exercise_en="""
Do the first BPE step by hand on the text `"aaabdaaabac"`: which pair of characters is the
most frequent? The check trains a reti BPE with a single merge.
""",
        check="""
def check_first_merge(answer):
    one_merge = BPETokenizer.train("aaabdaaabac", vocab_size=258, min_frequency=1)
    return check(answer, one_merge.token_bytes(256).decode(), "count every neighbouring pair")
""",
        try_="""
risposta = None  # a two-character string
check_first_merge(risposta)
""",
        solution="""
from collections import Counter

text = "aaabdaaabac"
pairs = Counter(text[i:i + 2] for i in range(len(text) - 1))
print(pairs.most_common(3))
check_first_merge(pairs.most_common(1)[0][0])
""",
    ),
    dict(
        title="Codifiche posizionali: sinusoidi e ALiBi / Positions: sinusoids and ALiBi",
        quotes=[(800, "**Problema:** I transformers processano i tokens simultaneamente, "
                      "perdendo informazione di sequenza."),
                (803, "**Positional Encoding:** Aggiunge informazione di posizione ai token "
                      "vectors, consentendo al modello di differenziarli."),
                (824, "Es. ALiBi (Attention with Linear Biases): bᵢⱼ aggiunto basato sulla "
                      "distanza relativa.")],
        it="""
L'attention tratta i token come un insieme: senza aiuto "il cane morde l'uomo" e "l'uomo morde
il cane" sarebbero uguali. La codifica sinusoidale aggiunge a ogni token un vettore che dipende
dalla sua posizione $t$: le dimensioni pari sono seni e quelle dispari coseni, $p(t)_{2k} =
\\sin(\\omega_k t)$ e $p(t)_{2k+1} = \\cos(\\omega_k t)$, con frequenze $\\omega_k =
1/10000^{2k/d}$ che vanno da veloci a lentissime, come le lancette di un orologio. ALiBi fa una
cosa diversa: non tocca i vettori, ma toglie dal punteggio di attention una quantità
proporzionale alla distanza $i - j$, con una pendenza diversa per ogni testa. Così i token
vicini pesano di più.
""",
        en="""
Attention treats tokens as a set: without help "the dog bites the man" and "the man bites the
dog" would look the same. The sinusoidal encoding adds to each token a vector that depends on
its position $t$: even dimensions are sines and odd ones cosines, $p(t)_{2k} = \\sin(\\omega_k
t)$ and $p(t)_{2k+1} = \\cos(\\omega_k t)$, with frequencies $\\omega_k = 1/10000^{2k/d}$ from
fast to very slow, like the hands of a clock. ALiBi does something else: it leaves the vectors
alone and subtracts from the attention score an amount proportional to the distance $i - j$,
with a different slope per head. So nearby tokens weigh more.
""",
        code=[
            """
from reti.layers import ALiBi, SinusoidalPosition

table = SinusoidalPosition(64)(torch.arange(100))  # (100 positions, 64 dimensions)
bias = ALiBi(4)(torch.arange(12), torch.arange(12))  # one (12, 12) bias per head
fig = Figure(figsize=(10, 3.2), layout="constrained")
left, right = fig.subplots(1, 2)
shown = left.imshow(table.T.numpy(), aspect="auto", cmap="RdBu")
fig.colorbar(shown, ax=left, label="p(t)_i")
left.set(xlabel="position t / posizione", ylabel="dimension i", title="sinusoidal p(t)")
future = torch.ones(12, 12).triu(1).bool()  # the causal mask hides these anyway: left blank
shown = right.imshow(bias[0].masked_fill(future, float("nan")).numpy(), cmap="viridis")
fig.colorbar(shown, ax=right, label="bias b_ij")
right.set(xlabel="key j", ylabel="query i", title="ALiBi bias, head 1")
fig
""",
        ],
        notice_it="""
A sinistra le prime dimensioni cambiano colore a ogni posizione (frequenze alte), le ultime
quasi mai (frequenze basse): ogni posizione ha una combinazione unica. A destra il bias è 0
sulla diagonale e diventa più negativo allontanandosi: più un token è lontano, meno
attenzione riceve. Il triangolo superiore è lasciato in bianco: sono i token futuri, che la
maschera causale cancella comunque.
""",
        notice_en="""
On the left the first dimensions change colour at every position (high frequencies), the last
ones almost never (low frequencies): every position has a unique combination. On the right
the bias is 0 on the diagonal and grows more negative with distance: the farther a token, the
less attention it gets. The upper triangle is left blank: those are the future tokens, which
the causal mask removes anyway.
""",
        exercise_it="""
Con $d = 64$, quanto vale la componente $i = 2$ (cioè $k = 1$, un seno) della codifica alla
posizione $t = 3$? Usa la formula degli appunti.
""",
        exercise_en="""
With $d = 64$, what is component $i = 2$ (that is $k = 1$, a sine) of the encoding at
position $t = 3$? Use the notes' formula.
""",
        check="""
def check_sinusoid(answer):
    return check(answer, SinusoidalPosition(64)(torch.tensor([3]))[0, 2].item(),
                 "sin(omega_1 * 3) with omega_1 = 1 / 10000^(2/64)")
""",
        try_="""
risposta = None  # a number
check_sinusoid(risposta)
""",
        solution="""
import math

omega = 1 / 10000 ** (2 * 1 / 64)
check_sinusoid(math.sin(omega * 3))
""",
    ),
    dict(
        title="Self-attention mascherata / Masked self-attention",
        quotes=[(715, "**Attention Score:** $dot product$ di Q e K."),
                (718, "**Masking:** Blocca i token futuri (upper triangle) ponendo i loro "
                      "scores a $-inf$."),
                (721, "**Softmax:** Converte gli scores in probabilità.")],
        it="""
Ogni token produce una query (che cosa cerco), una key (che cosa offro) e un value (che cosa
passo). Il punteggio tra il token $i$ e il token $j$ è il prodotto scalare di $q_i$ e $k_j$:
alto se la domanda e l'offerta si somigliano. In un modello che genera testo il token $i$ non
deve vedere i successivi, quindi i punteggi del triangolo superiore diventano $-\\infty$ e,
dopo la softmax, pesi zero. L'uscita di ogni token è la media dei value pesata da quelle
probabilità. Alleniamo un piccolo GPT a caratteri e guardiamo i suoi pesi di attention.
""",
        en="""
Each token produces a query (what I am looking for), a key (what I offer) and a value (what I
pass on). The score between token $i$ and token $j$ is the dot product of $q_i$ and $k_j$:
high when question and offer match. In a model that generates text, token $i$ must not see
the later ones, so the upper-triangle scores become $-\\infty$ and, after the softmax, zero
weights. Each token's output is the average of the values weighted by those probabilities.
We train a small character GPT and look at its attention weights.
""",
        code=[
            """
from reti.tasks.text import TextConfig, load_run, sample, train

budget = TrainConfig(max_steps=150, batch_size=16, lr=3e-3, schedule="cosine", warmup_steps=20,
                     grad_clip=1.0, eval_every=50, log_every=10, device="cpu", quiet=True, seed=0)
text_cfg = TextConfig(n_layer=2, n_head=4, d_model=64, n_ctx=64, pos="alibi", max_chars=300_000,
                      out=str(runs / "gpt"), train=budget)
history = train(text_cfg)
history.plot()  # training loss every 10 steps, validation every 50
""",
            """
model, tok, _ = load_run(runs / "gpt")
prompt = torch.tensor([tok.encode("ROMEO: What light")])
maps = model.attention_maps(prompt)  # per layer: (1, heads, T, T)
fig = Figure(figsize=(11, 2.8), layout="constrained")
for head, ax in enumerate(fig.subplots(1, 4)):
    shown = ax.imshow(maps[-1][0, head].detach().numpy(), cmap="viridis", vmin=0, vmax=1)
    ax.set(title=f"last layer, head {head + 1}", xlabel="key j", ylabel="query i")
fig.colorbar(shown, ax=fig.axes, label="attention weight / peso")
fig  # the upper triangle is zero: no token looks ahead
""",
        ],
        notice_it="""
In tutte le teste il triangolo sopra la diagonale è viola scuro, cioè zero: nessun token
guarda avanti. Ogni riga somma a 1, quindi la prima riga ha tutto il peso sul primo token.
Le teste si comportano in modo diverso: alcune concentrano il peso su pochi token (le celle
chiare), altre lo spalmano in modo uniforme su tutto il prompt.
""",
        notice_en="""
In every head the triangle above the diagonal is dark purple, that is zero: no token looks
ahead. Each row sums to 1, so the first row puts all its weight on the first token. The heads
behave differently: some concentrate their weight on a few tokens (the bright cells), others
spread it evenly over the whole prompt.
""",
        exercise_it="""
Due token, punteggi $QK^T = [[1, 5], [2, 1]]$. Applica la maschera causale e la softmax
riga per riga e scrivi la matrice dei pesi come lista di liste.
""",
        exercise_en="""
Two tokens, scores $QK^T = [[1, 5], [2, 1]]$. Apply the causal mask and the row-wise
softmax, and write the weight matrix as a list of lists.
""",
        check="""
def check_masked_weights(answer):
    # PyTorch's own causal attention with V = identity returns the weights themselves
    scores = torch.tensor([[1.0, 5.0], [2.0, 1.0]])
    q, k = scores, torch.eye(2)  # q @ k.T == scores
    weights = torch.nn.functional.scaled_dot_product_attention(
        q[None], k[None], torch.eye(2)[None], is_causal=True, scale=1.0)[0]
    return check(answer, weights.tolist(), "the 5 is in the future: it gets -inf")
""",
        try_="""
risposta = None  # [[..., ...], [..., ...]]
check_masked_weights(risposta)
""",
        solution="""
scores = torch.tensor([[1.0, 5.0], [2.0, 1.0]])
masked = scores.masked_fill(torch.ones(2, 2).triu(1).bool(), float("-inf"))
check_masked_weights(masked.softmax(-1).tolist())  # [[1, 0], [0.731, 0.269]]
""",
    ),
    dict(
        title="Temperatura / Temperature",
        quotes=[(845, "Iperparametro che controlla la randomicità della generazione."),
                (848, "Temp = 1: nessun effetto."),
                (851, "Temp < 1: distribuisce \"sharper\", più deterministico.")],
        it="""
Il modello produce un logit per ogni token possibile, e la softmax li trasforma in
probabilità. La temperatura $T$ divide i logit prima della softmax. Con $T = 1$ non cambia
nulla. Con $T < 1$ le differenze tra i logit crescono: il token più probabile prende quasi
tutto e la generazione diventa prevedibile e ripetitiva. Con $T > 1$ le differenze si
schiacciano e anche i token improbabili escono più spesso: il testo diventa più vario, fino a
diventare caotico.
""",
        en="""
The model produces one logit per possible token, and the softmax turns them into
probabilities. Temperature $T$ divides the logits before the softmax. With $T = 1$ nothing
changes. With $T < 1$ the gaps between logits grow: the most likely token takes nearly
everything and generation becomes predictable and repetitive. With $T > 1$ the gaps shrink
and unlikely tokens come out more often: the text grows more varied, up to chaotic.
""",
        code=[
            """
from reti.generate import SamplingConfig, filter_logits

logits = model(prompt)[0, -1].detach()
fig = Figure(figsize=(9, 2.8), layout="tight")
ax = fig.subplots()
top = logits.topk(15).indices
for t in (0.5, 1.0, 2.0):
    probs = filter_logits(logits, temperature=t).softmax(-1)
    ax.plot(range(15), probs[top].numpy(), "-o", label=f"T = {t}")
ax.set_xticks(range(15), [repr(tok.decode([i]))[1:-1] for i in top.tolist()])
ax.set(xlabel="next character (most likely first) / prossimo carattere",
       ylabel="probability / probabilità")
ax.legend()
fig
""",
            """
for t in (0.5, 1.0, 1.5):
    print(f"--- T = {t}")
    print(sample(model, tok, "ROMEO:", SamplingConfig(max_tokens=80, temperature=t)))
""",
        ],
        notice_it="""
Con $T = 0.5$ la curva è ripida: il primo carattere prende gran parte della probabilità. Con
$T = 2$ è quasi piatta. Nei campioni di testo, a $T = 0.5$ tornano spesso le stesse sillabe,
a $T = 1.5$ compaiono combinazioni strane: la temperatura scambia correttezza con varietà.
""",
        notice_en="""
At $T = 0.5$ the curve is steep: the first character takes most of the probability. At
$T = 2$ it is nearly flat. In the text samples, at $T = 0.5$ the same syllables keep coming
back, at $T = 1.5$ odd combinations appear: temperature trades correctness for variety.
""",
        exercise_it="""
Logit $[2, 1, 0]$ e temperatura $T = 0.5$: calcola le tre probabilità dopo la softmax e
scrivile come lista.
""",
        exercise_en="""
Logits $[2, 1, 0]$ and temperature $T = 0.5$: compute the three probabilities after the
softmax and write them as a list.
""",
        check="""
def check_temperature(answer):
    expected = filter_logits(torch.tensor([2.0, 1.0, 0.0]), temperature=0.5).softmax(-1)
    return check(answer, expected.tolist(), "divide the logits by T, then softmax")
""",
        try_="""
risposta = None  # [..., ..., ...]
check_temperature(risposta)
""",
        solution="""
import math

exps = [math.exp(v / 0.5) for v in (2.0, 1.0, 0.0)]
check_temperature([e / sum(exps) for e in exps])
""",
    ),
]
