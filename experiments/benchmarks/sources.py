"""Where every public benchmark file comes from, and how to know it is the right one.

One row per file a loader reads under `--data-dir`: the benchmark family
(the folder), the path under `--data-dir`, the authors' download location,
the SHA-256 and size of the authors' release, the licence as the authors
state it, and the citation. `python -m experiments.fetch_data` downloads and
verifies from this table; the loaders point at it when a file is missing.

Some files come inside an archive (Flickr8k's text release): the archive is
downloaded and each listed member is checked against its own SHA-256.
Where no download location for the exact file could be found, `url` is None
and `how_to_get` says where the authors publish the data instead.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Archive:
    """A downloadable archive holding several listed files."""

    url: str
    name: str
    sha256: str | None = None  # None: the authors publish no checksum; members are checked instead


@dataclass(frozen=True)
class DataFile:
    family: str
    path: str             # relative to --data-dir, POSIX separators
    sha256: str | None    # None: no copy of the authors' release was available to checksum
    size: int | None
    url: str | None = None
    archive: Archive | None = None
    member: str | None = None  # the member's file name inside `archive`
    note: str = ""
    # The benchmarks whose loader reads this file; None: every benchmark of the family,
    # (): none (kept for reference, such as a readme).
    read_by: tuple[str, ...] | None = None
    # Paths this file stands in for: a loader reads it when they are missing.
    replaces: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return PurePosixPath(self.path).name

    @property
    def authors_name(self) -> str:
        """The file's name in the authors' release (the last part of its URL, the
        member's name in an archive): what a mirror or a hand download holds."""
        if self.member is not None:
            return self.member
        if self.url is not None:
            return PurePosixPath(urlsplit(self.url).path).name
        return self.name

    @property
    def source(self) -> str | None:
        return self.archive.url if self.archive else self.url


@dataclass(frozen=True)
class Family:
    """A benchmark family: its folder under --data-dir, the benchmarks read from it."""

    name: str
    benchmarks: tuple[str, ...]
    homepage: str
    licence: str
    citation: str
    files: tuple[DataFile, ...]
    how_to_get: str = ""


_FLICKR8K_TEXT = Archive(
    # The copy of Flickr8k_text.zip the CLIPScore release downloads
    # (jmhessel/clipscore, flickr8k_example/download.py); the authors' own
    # distribution is behind a request form.
    url="https://drive.usercontent.google.com/download?id=1ljB7DR-YM-q9WKnHDW5dHjauK029B2s6"
        "&export=download&confirm=t",
    name="Flickr8k_text.zip")

_FLEUR = "https://raw.githubusercontent.com/Yebin46/FLEUR"
_FLEUR_ANNOTATIONS = f"{_FLEUR}/33a892bb15682de01b6e9aa7f53dea979a8f0635/annotations"
_FLEUR_RESULTS = f"{_FLEUR}/62cf0055219183f337cbe0909e99ddfee617bab9/results"
_THUMB = "https://raw.githubusercontent.com/jungokasai/THumB"


def _member(path: str, sha: str, size: int, read_by: tuple[str, ...] | None) -> DataFile:
    return DataFile("flickr8k", path, sha, size, archive=_FLICKR8K_TEXT,
                    member=PurePosixPath(path).name, read_by=read_by)


FAMILIES: tuple[Family, ...] = (
    Family(
        name="flickr8k",
        benchmarks=("flickr8k-expert", "flickr8k-cf"),
        homepage="http://nlp.cs.illinois.edu/HockenmaierGroup/8k-pictures.html",
        licence="research use; the release's readme asks users to cite the paper "
                "(no licence text in the release)",
        citation="Hodosh, Young & Hockenmaier 2013, Framing Image Description as a Ranking "
                 "Task: Data, Models and Evaluation Metrics, JAIR 47",
        files=(
            _member("flickr8k/ExpertAnnotations.txt",
                    "56c2b1a9e1a46ba73b8b151abd7c3c8b1676fbacadb559d0c2eb6524b166cf4f", 346674,
                    ("flickr8k-expert",)),
            _member("flickr8k/CrowdFlowerAnnotations.txt",
                    "72a74aef443df4848fb1f3c23654ee9e0ca5b528198f68e2efedf11b6ca61260", 2918552,
                    ("flickr8k-cf",)),
            _member("flickr8k/Flickr8k.token.txt",
                    "9b8608b02da9040581f1e3d4c8738db1fb6f63314342100432adc3962f77d71a", 3395229,
                    ("flickr8k-expert", "flickr8k-cf")),
            _member("flickr8k/Flickr_8k.testImages.txt",
                    "c0924146c131458ceba45da59670fe9520eadce1e5cafffa16a817672a9b1f17", 25775, ()),
            _member("flickr8k/readme.txt",
                    "6152fc45ae9b629c4af9c8466e5ae608b80fbcb0f6316fef458dc160020a21a2", 1821, ()),
            DataFile("flickr8k", "flickr8k/flickr8k_expert.json",
                     "835162c77b014cd2191bea942189272af1a54628e0b6c4693f08a2a8d2691fff", 3582523,
                     url=f"{_FLEUR_ANNOTATIONS}/flickr8k.json",
                     note="the CLIPScore release's flickr8k.json layout, as FLEUR's repository "
                          "ships it (annotations/flickr8k.json)",
                     read_by=("flickr8k-expert",),
                     replaces=("flickr8k/ExpertAnnotations.txt", "flickr8k/Flickr8k.token.txt")),
        )),
    Family(
        name="pascal50s",
        benchmarks=("pascal50s",),
        homepage="https://vrama91.github.io/cider/",
        licence="none stated by the authors",
        citation="Vedantam, Zitnick & Parikh 2015, CIDEr: Consensus-based Image Description "
                 "Evaluation, CVPR",
        files=(
            DataFile("pascal50s", "pascal50s/pascal_50s.json",
                     "f6033bbcf74583a22d289cf080fff5b930c04cf6d29e33e0170552e8e0237da9", 1754543,
                     url=f"{_FLEUR_ANNOTATIONS}/pascal_50s.json",
                     note="the 4 x 1,000 pairs with 5 references each, in the JSON layout FLEUR's "
                          "repository ships (annotations/pascal_50s.json)"),
        )),
    Family(
        name="thumb",
        benchmarks=("thumb",),
        homepage="https://github.com/jungokasai/THumB",
        licence="none stated in the repository",
        citation="Kasai, Sakaguchi, Dunagan, Morrison, Le Bras, Choi & Smith 2022, Transparent "
                 "Human Evaluation for Image Captioning, NAACL",
        files=(
            DataFile("thumb", "thumb/mscoco_THumB-1.0.jsonl",
                     "463ebf947c793a541922ead33eb10a885e77c19e9c7d27cf89e034bfff643efa", 585297,
                     url=f"{_THUMB}/95195a22d37420c4b421ab95bdbe24458592caac/mscoco/"
                         "mscoco_THumB-1.0.jsonl"),
            DataFile("thumb", "thumb/mscoco_references.jsonl",
                     "897672f1f53ed33a376237c33fabc89ebbd04b40e9ced82691c2e9c9324d8fdf", 136692,
                     url=f"{_THUMB}/master/mscoco/mscoco_references.json",
                     note="published as mscoco_references.json (JSON Lines despite the name); the "
                          "path is the one projects that clone the repository read"),
        )),
    Family(
        name="nebula",
        benchmarks=("nebula",),
        homepage="https://huggingface.co/datasets/Ka2ukiMatsuda/Nebula",
        licence="none stated on the dataset page",
        citation="Matsuda, Wada & Sugiura 2024, DENEB: A Hallucination-Robust Automatic "
                 "Evaluation Metric for Image Captioning, ACCV",
        files=(
            DataFile("nebula", "nebula/nebula_test.json",
                     "ac70204016a35ccc3a81603a7c1c9c836152ab8d7d3fea6a33e84eafe937df39", 1845909),
        ),
        how_to_get="the authors publish Nebula as Parquet with images "
                   "(huggingface.co/datasets/Ka2ukiMatsuda/Nebula, split `test`); no download "
                   "location for this JSON file was found: place your copy at "
                   "nebula/nebula_test.json and run --check"),
    Family(
        name="polaris",
        benchmarks=("polaris",),
        homepage="https://yuiga.dev/polos",
        licence="Clear BSD (BSD-3-Clause-Clear), as the authors' repository states",
        citation="Wada, Kaneda, Saito & Sugiura 2024, Polos: Multimodal Metric Learning from "
                 "Human Feedback for Image Captioning, CVPR",
        files=(
            DataFile("polaris", "polaris/polaris_val.json",
                     "fef800bd40634682963fd8ef339e5f4197ea1ea43ef9e29f79f07d97e9a63983", 3924119),
        ),
        how_to_get="the authors publish Polaris as CSV files in "
                   "https://polos-polaris.s3.ap-northeast-1.amazonaws.com/polaris.zip and as "
                   "huggingface.co/datasets/yuwd/Polaris; no download location for this JSON "
                   "file (with `id`, `count`, `explanation`) was found: place your copy at "
                   "polaris/polaris_val.json and run --check"),
    Family(
        name="fleur",
        benchmarks=(),
        homepage="https://github.com/Yebin46/FLEUR",
        licence="none stated in the repository",
        citation="Lee et al. 2024, FLEUR: An Explainable Reference-Free "
                 "Evaluation Metric for Image Captioning Using a Large Multimodal Model, ACL",
        files=(
            DataFile("fleur", "fleur/fleur_flickr8k_expert.txt",
                     "841cf2aa636cbacd2d78ace9a02f812d786e4ff60aedea39648ca8fbedff8662", 958363,
                     url=f"{_FLEUR}/548b54dbf253813eb8aae76bb90d2054143fe19c/results/"
                         "fleur_flickr8k_expert.txt"),
            *(DataFile("fleur", f"fleur/fleur_pascal_{cat}.txt", sha, size,
                       url=f"{_FLEUR_RESULTS}/fleur_pascal_{cat}.txt")
              for cat, sha, size in (
                  ("HC", "c32a4570944e24ea5940ce0dea174bad208a7a8ea7c3ab01179d1c5c8917528d", 270570),
                  ("HI", "8b9fab1a7c68533f4f1c1f833ac34e30cd2c2f0c6eac9d2b8f224dfd140686fd", 275242),
                  ("HM", "452ee589d94fd1ed71c8fa5d3e92f69a8ea1a57f5d75ff135307e1064b764d34", 283549),
                  ("MM", "1c0222478d3431bd996647aafcc734a0a514e80f7a08a4a04af2f0e408ca5294", 282068))),
        )),
    Family(
        name="socratis",
        benchmarks=("socratis",),
        homepage="https://github.com/arijitray1993/socratis",
        licence="none stated in the repository",
        citation="Deng et al. 2023, Socratis: Are Large Multimodal Models Emotionally Aware?, "
                 "arXiv:2308.16741",
        files=(
            DataFile("socratis", "socratis/imCaptionEmotionExplanation_formatted.json", None, None,
                     url="https://raw.githubusercontent.com/arijitray1993/socratis/"
                         "9001be58c82f7de829dac87a5742e85fcff3ca89/"
                         "imCaptionEmotionExplanation_formatted.json",
                     note="no copy was at hand to checksum: fetched unverified, its SHA-256 "
                          "printed"),
        ),
        how_to_get="images: the Google Drive link in the repository's README"),
)


def families() -> dict[str, Family]:
    return {f.name: f for f in FAMILIES}


def family_names() -> dict[str, str]:
    """Every name fetch_data accepts (families and benchmark names) -> family."""
    names = {f.name: f.name for f in FAMILIES}
    for f in FAMILIES:
        for b in f.benchmarks:
            names[b] = f.name
    return names


def benchmark_files(name: str) -> list[DataFile]:
    """The files fetch_data NAME acts on: a family's every file; a benchmark's, the files
    its loader reads (with the ones that can stand in for them, `replaces`)."""
    family = families()[family_names()[name]]
    if name == family.name:
        return list(family.files)
    return [f for f in family.files if f.read_by is None or name in f.read_by]


def all_files() -> list[DataFile]:
    return [file for f in FAMILIES for file in f.files]


def find_file(path: Path) -> DataFile | None:
    """The table's row for `path` (matched on its family folder and name), if any."""
    tail = f"{path.parent.name}/{path.name}"
    return next((f for f in all_files() if f.path == tail), None)


def fetch_hint(path: Path) -> str:
    """What a loader adds to 'file not found' for a file this table knows."""
    row = find_file(Path(path))
    if row is None:
        return ""
    return (f"; `python -m experiments.fetch_data {row.family} --check --data-dir "
            f"{Path(path).parent.parent}` says what is missing, and without --check fetches it")
