"""A PDF/UA structure check on pikepdf, for what the PyPI `pdfua` package does not look at: every piece of page
content is either in the structure tree or an artifact, the tree and the parent tree agree, the register is
ONE Table of TR rows (header cells TH with a scope), and the tree reads in page order."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pikepdf

# Operators that put something on the page (text, paths, images, forms, shadings).
PAINTING = {"Tj", "TJ", "'", '"', "f", "F", "f*", "B", "B*", "b", "b*", "S", "s", "Do", "sh", "BI"}


@dataclass
class Structure:
    pages: int
    root_kids: list[str]
    document_kids: list[str]
    tables: int
    header_cells: int
    header_scopes: list[str]
    body_rows: int
    artifact_paints: int = 0
    problems: list[str] = field(default_factory=list)


def _kids(element: Any) -> list[Any]:
    kids = element.get("/K")
    if kids is None:
        return []
    return list(kids) if isinstance(kids, pikepdf.Array) else [kids]


def _elements(element: Any) -> Iterator[Any]:
    for kid in _kids(element):
        if isinstance(kid, pikepdf.Dictionary) and "/S" in kid and kid.get("/Type") != "/MCR":
            yield kid


def check(data: bytes) -> Structure:
    pdf = pikepdf.open(io.BytesIO(data))
    problems: list[str] = []
    page_index = {page.obj.objgen: number for number, page in enumerate(pdf.pages)}
    root = pdf.Root.StructTreeRoot
    documents = list(_elements(root))
    document = documents[0]

    # The tree: (page, MCID) -> element, each exactly once; parents that point back; pages that exist.
    owner: dict[tuple[int, int], Any] = {}
    order: list[tuple[int, int]] = []

    def walk(element: Any, parent: Any, page: Any) -> None:
        if parent is not None and element.get("/P") is not None and element.P.objgen != parent.objgen:
            problems.append(f"{element.S} does not point back at its parent {parent.S}")
        page = element.get("/Pg", page)
        if page is not None and page.objgen not in page_index:
            problems.append(f"{element.S} names a page that is not in the document")
        for kid in _kids(element):
            if isinstance(kid, int):
                key = (page_index[page.objgen], int(kid))
            elif isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") == "/MCR":
                key = (page_index[kid.get("/Pg", page).objgen], int(kid.MCID))
            elif isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") == "/OBJR":
                continue
            else:
                walk(kid, element, page)
                continue
            if key in owner:
                problems.append(f"content {key} is in the tree twice")
            owner[key] = element
            order.append(key)

    walk(document, None, None)
    if order != sorted(order):
        problems.append("the structure tree does not read in page order")

    # The parent tree maps each page's MCIDs to the same elements.
    numbers: dict[int, Any] = {}

    def collect(tree: Any) -> None:
        nums = list(tree.get("/Nums", []))
        for index in range(0, len(nums), 2):
            numbers[int(nums[index])] = nums[index + 1]
        for kid in tree.get("/Kids", []):
            collect(kid)

    collect(root.ParentTree)

    # Page content: everything painted is inside marked content that the tree owns, or inside an artifact.
    artifact_paints = 0
    for number, page in enumerate(pdf.pages):
        mapping = numbers.get(int(page.obj.get("/StructParents", -1)))
        stack: list[tuple[str, int | None]] = []
        for operands, operator in pikepdf.parse_content_stream(page):
            name = str(operator)
            if name == "BDC":
                properties = operands[1]
                mcid = (
                    int(properties.MCID)
                    if isinstance(properties, pikepdf.Dictionary) and "/MCID" in properties
                    else None
                )
                stack.append((str(operands[0]), mcid))
                if mcid is not None:
                    if (number, mcid) not in owner:
                        problems.append(f"page {number + 1}: MCID {mcid} is not in the structure tree")
                    elif (
                        mapping is None or mcid >= len(mapping) or mapping[mcid].objgen != owner[(number, mcid)].objgen
                    ):
                        problems.append(f"page {number + 1}: the parent tree disagrees about MCID {mcid}")
            elif name == "BMC":
                stack.append((str(operands[0]), None))
            elif name == "EMC":
                if not stack:
                    problems.append(f"page {number + 1}: EMC without BDC")
                else:
                    stack.pop()
            elif name in PAINTING:
                if any(tag == "/Artifact" for tag, _ in stack):
                    artifact_paints += 1
                elif not any(mcid is not None for _, mcid in stack):
                    problems.append(f"page {number + 1}: {name} outside any tagged content or artifact")
        if stack:
            problems.append(f"page {number + 1}: unbalanced marked content")

    # The table: one, with TH header cells scoped, and every row a TR.
    tables = [element for element in _elements(document) if element.S == "/Table"]
    header_cells, scopes, body_rows = 0, [], 0
    for table in tables:
        for part in _elements(table):
            if part.S not in ("/Caption", "/THead", "/TBody", "/TFoot"):
                problems.append(f"a Table holds {part.S}")
            for row in _elements(part) if part.S != "/Caption" else []:
                if row.S != "/TR":
                    problems.append(f"a {part.S} holds {row.S}")
                    continue
                for cell in _elements(row):
                    if part.S == "/THead":
                        if cell.S != "/TH":
                            problems.append(f"a header row holds {cell.S}")
                        header_cells += 1
                        scopes.append(str(cell.get("/A", {}).get("/Scope", "")))
                    elif cell.S != "/TD":
                        problems.append(f"a body row holds {cell.S}")
                body_rows += part.S == "/TBody"
    return Structure(
        pages=len(pdf.pages),
        root_kids=[str(element.S) for element in documents],
        document_kids=[str(element.S) for element in _elements(document)],
        tables=len(tables),
        header_cells=header_cells,
        header_scopes=scopes,
        body_rows=body_rows,
        artifact_paints=artifact_paints,
        problems=problems,
    )


def outline(data: bytes) -> list[tuple[int, str, int]]:
    """(depth, title, page number) of each bookmark."""
    pdf = pikepdf.open(io.BytesIO(data))
    pages = {page.obj.objgen: number for number, page in enumerate(pdf.pages, start=1)}
    found: list[tuple[int, str, int]] = []

    def walk(items: Any, depth: int) -> None:
        for item in items:
            found.append((depth, item.title, pages[item.destination[0].objgen]))
            walk(item.children, depth + 1)

    with pdf.open_outline() as tree:
        walk(tree.root, 0)
    return found
