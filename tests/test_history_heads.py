"""The page heads the history step reads for crawler prefixes: read on demand, once each."""

from __future__ import annotations

from checker.history import run


def test_page_heads_are_read_only_when_asked_and_once(tmp_path, monkeypatch):
    pages = []
    for k in range(3):
        page = tmp_path / f"page-{k}.txt"
        page.write_text(f"[2024-12-0{k + 2} 10:00:00] KSE100 114,977 Increased By 172.5 (0.15%)\n")
        pages.append(str(page))
    read: list[str] = []
    real = run._read_page

    def counted(name: str, limit: int) -> str | None:
        read.append(name)
        return real(name, limit)

    monkeypatch.setattr(run, "_read_page", counted)
    heads = run.PageHeads([*pages, "-", "<stdin>", str(tmp_path / "missing.txt")])
    assert bool(heads) and read == []  # truth without reading
    assert heads.get(pages[1], "").startswith("[2024-12-03 10:00:00]")
    assert read == [pages[1]]  # one page asked, read once
    assert heads.get("-") is None and heads.get("<stdin>") is None
    assert heads.get(str(tmp_path / "missing.txt")) is None
    assert dict(heads) == run.page_heads([*pages, str(tmp_path / "missing.txt")])
