"""``socklab export-student DIR``: the repository students receive.

What goes in is listed, never what stays out: a lab ships its README, ``lab.toml``,
``starter/`` (the code the student edits; ``make lab-N`` runs it, as a lab without a
solution falls back to its starter) and ``checker/`` (the public checks); the kit ships
its Makefile, Compose file, images, package and pyproject unchanged, so that its images
hash the same and are not rebuilt. Solutions, hidden checks, known-wrong submissions and
any other file of a lab folder stay behind. Then the CI files and the students' README.
"""

from __future__ import annotations

import shutil
from pathlib import Path, PurePosixPath

from socklab import lab as labs
from socklab.classroom import ci
from socklab.errors import SocklabError
from socklab.grading.result import write_atomic
from socklab.i18n import normalize, pgettext, using

ROOT = labs.LABS_ROOT.parent
KIT = (
    "Makefile",
    "docker-compose.yml",
    "pyproject.toml",
    ".gitignore",
    "images",
    "socklab",
    "docs/students.md",
)
LAB_PARTS = ("README.md", "README.zh-CN.md", "lab.toml", "starter", "checker")
SECRET = ("solution", "solutions", "hidden", "bad")  # never shipped, at any depth
JUNK = ("__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache")


def shipped(rel: PurePosixPath) -> bool:
    """Whether a file at ``rel`` (relative to the repository) goes to students."""
    parts = rel.parts
    if any(p in JUNK for p in parts) or rel.suffix == ".pyc":
        return False
    if parts[0] == "labs":
        return len(parts) >= 3 and parts[2] in LAB_PARTS and not any(p in SECRET for p in parts)
    return any(rel == PurePosixPath(k) or rel.is_relative_to(k) for k in KIT)


def _files(folder: Path) -> list[Path]:
    if folder.is_file():
        return [folder]
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def manifest(root: Path, chosen: list[labs.Lab]) -> list[PurePosixPath]:
    """The repository's files that go to students, for the chosen labs."""
    found = []
    for top in [*(root / k for k in KIT), *(lab.path for lab in chosen)]:
        if not top.exists():
            continue
        for path in _files(top):
            rel = PurePosixPath(path.relative_to(root).as_posix())
            if shipped(rel):
                found.append(rel)
    return sorted(set(found))


def choose(numbers: str | None, root: Path = labs.LABS_ROOT) -> list[labs.Lab]:
    """The labs to publish: those named (``1,4``), else every lab that loads and is ready
    (it has a README and a starter)."""
    if numbers:
        return [labs.find(n.strip(), root) for n in numbers.split(",") if n.strip()]
    ready = []
    for folder in labs.folders(root):
        try:
            lab = labs.load(folder)
        except SocklabError:
            continue
        if (lab.path / "README.md").is_file() and lab.starter.is_dir():
            ready.append(lab)
    return ready


def readme(chosen: list[labs.Lab], lang: str | None = None) -> str:
    """The template's README: in Chinese, pointing at each lab's README.zh-CN.md, for zh_CN."""
    if lang and normalize(lang).startswith("zh"):
        with using(lang):
            return _readme_zh(chosen)
    rows = "\n".join(
        f"| {lab.number} | {lab.title} | `labs/{lab.name}/README.md` | "
        f"`labs/{lab.name}/starter/` | `make lab-{lab.number}` |"
        for lab in chosen
    )
    return f"""# Socket programming labs

Each lab runs your socket programs on a real little network — a **client**, a **server**
and a **router** container — and a checker tells you, check by check, what works.

With Docker (Docker Desktop on macOS or Windows/WSL2, or an engine on Linux), Docker
Compose, Python 3.10+ and make:

```
make lab-1        # builds what is missing, starts the network, runs your lab 1 code, prints the verdict
```

The first run creates `.venv` and builds the images from a Debian image it pulls (about
a minute; no root needed). Something wrong? `make doctor` says what, and how to fix it.

| # | lab | read | your code | check it |
|---|---|---|---|---|
{rows}

Edit the files in the lab's `starter/` folder; `make lab-N` checks them, and every push
is graded the same way (hidden checks may add to it). How to read the report:
[docs/students.md](docs/students.md).
"""


def _readme_zh(chosen: list[labs.Lab]) -> str:
    rows = "\n".join(
        f"| {lab.number} | {pgettext('lab title', lab.title)} | "
        f"`labs/{lab.name}/README.zh-CN.md`（[English](labs/{lab.name}/README.md)） | "
        f"`labs/{lab.name}/starter/` | `make lab-{lab.number}` |"
        for lab in chosen
    )
    return f"""# 套接字编程实验

每个实验都在一个真实的小网络上运行你的套接字程序——**client**（客户端）、**server**（服务器）
和 **router**（路由器）三个容器——检查程序逐项告诉你哪些已经做对了。

在装有 Docker（macOS 或 Windows/WSL2 上用 Docker Desktop，Linux 上用 Docker 引擎）、Docker Compose、
Python 3.10+ 和 make 的机器上：

```
make lab-1        # 补齐缺少的东西，启动网络，运行你的实验 1 代码，打印结果
```

第一次运行会创建 `.venv`，并以拉取来的 Debian 镜像（`debian:bookworm-slim`）为基础构建镜像（大约一分钟，
不需要 root 权限）。出了问题？`make doctor LANG=zh_CN` 会告诉你缺什么、怎样解决。连不上 Docker Hub 时，
把 `SOCKLAB_BASE_IMAGE` 设为你能访问的镜像仓库里的同一个镜像；哪个镜像仓库都连不上时，用 debootstrap
离线构建一次：`sudo make images`（`SOCKLAB_DEBIAN_MIRROR` 指定 Debian 镜像站，例如
`https://mirrors.tuna.tsinghua.edu.cn/debian`）。详见各实验 README.zh-CN.md 的
“第一次运行：镜像从哪里来”一节。

检查结果默认用中文显示（本仓库的 CI 设置了 `SOCKLAB_LANG=zh_CN`）；在自己的机器上用
`make lab-1 LANG=zh_CN` 或 `export SOCKLAB_LANG=zh_CN`，想看英文就用 `LANG=en`。

| # | 实验 | 讲义 | 你的代码 | 检查 |
|---|---|---|---|---|
{rows}

修改实验 `starter/` 文件夹里的文件；`make lab-N` 检查它们，每次 push 也会用同样的方式评分
（隐藏检查可能另外加分）。怎样读报告：[docs/students.md](docs/students.md)（英文）。
"""


def export(
    dest: Path, chosen: list[labs.Lab], root: Path = ROOT, lang: str | None = None
) -> list[PurePosixPath]:
    """Write the student repository to ``dest`` (new or empty); return what was written.
    With ``lang`` (``zh_CN``) its README and its CI's feedback are in that language."""
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise SocklabError(f"{dest} is not empty: export into a new or empty folder")
    if not chosen:
        raise SocklabError("no lab to export (a lab needs a README.md and a starter/)")
    written = manifest(root, chosen)
    for rel in written:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / rel, target)  # same bytes and modes: same image hashes
    lang = normalize(lang) if lang else None
    extra = {
        PurePosixPath(ci.GITHUB): ci.github(chosen, lang),
        PurePosixPath(ci.GITLAB): ci.gitlab(chosen, lang),
        PurePosixPath("README.md"): readme(chosen, lang),
    }
    for rel, text in extra.items():
        write_atomic(dest / rel, text)
    return sorted([*written, *extra])
