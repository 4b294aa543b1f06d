"""An edition's PDF, rendered in pieces and assembled into one tagged document.

Layout is most of WeasyPrint's cost and grows with the number of boxes, so a large register is rendered as
independent pieces that can run in parallel in bounded memory: the front matter (the pages before the register),
then the register table in chunks of rows, each chunk starting a page and carrying its own header row. The
running footer ("Page X of Y") depends on the whole document, so the pieces are rendered without it and it is
stamped on the assembled pages afterwards, from one more WeasyPrint render of empty pages, as an artifact.

`assemble` joins the pieces with pikepdf into what a single render of the same template gives, and a little more:
one structure tree (Document > headings, paragraphs, ONE Table whose rows follow in reading order; WeasyPrint
itself starts a new Table on every page), the header row repeated on every page but tagged only once (the
repeats are artifacts, as a reader wants them), the first piece's title, language and PDF/UA-1 identification,
and one outline with the headings nested by level.

A piece is described by a JSON-able spec (the template's whole context), so that its key, a hash of the spec and
of the template version, names its bytes: a chunk whose rows did not change is not rendered again.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import io
import json
import re
from collections.abc import Callable, Iterator, Sequence
from typing import IO, TYPE_CHECKING, Any, BinaryIO, cast

from django.template.loader import get_template, render_to_string

from publishing.render import EditionContent, fixed_clock, logo_data_uri, pdf_identifier, source_date_epoch

if TYPE_CHECKING:
    import pikepdf

PDF_TEMPLATE = "publishing/pdf/edition.html"
# Bump when assemble() changes what it writes: it is part of every piece's key as well as the template.
ASSEMBLER_VERSION = "2"
Spec = dict[str, Any]


@functools.cache
def template_version() -> str:
    """What a piece's bytes depend on besides its spec: the template, the renderer and the assembler."""
    source = get_template(PDF_TEMPLATE).template.source  # type: ignore[attr-defined]
    versions = [importlib.metadata.version(name) for name in ("weasyprint", "pydyf", "pikepdf")]
    return hashlib.sha256("\0".join([source, *versions, ASSEMBLER_VERSION]).encode()).hexdigest()[:16]


def piece_key(spec: Spec) -> str:
    data = json.dumps(spec, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{template_version()}\0{data}".encode()).hexdigest()


def _document(content: EditionContent, *, full: bool) -> Spec:
    """The HTML head. Only the first piece's reaches the assembled PDF, so chunks carry as little as possible
    (a date in a chunk would make every chunk of every edition different)."""
    title = f"{content.document_title}: {content.caption}" if full else content.document_title
    doc: Spec = {"title": title, "page_size": content.pdf_page_size}
    if full:
        doc |= {
            "author": content.organisation_name,
            "description": f"{content.register_title}, {content.period}",
            "date": content.last_updated.isoformat(),
            "epoch": source_date_epoch(content),
        }
    return doc


def chunk_bounds(row_count: int, chunk_rows: int) -> list[tuple[int, int]]:
    """[start, stop) of each chunk; an empty register is one chunk that says so."""
    if row_count == 0:
        return [(0, 0)]
    return [(start, min(start + chunk_rows, row_count)) for start in range(0, row_count, chunk_rows)]


def plan(content: EditionContent, *, chunk_rows: int) -> list[Spec]:
    """The pieces of the edition's PDF, in order: the front matter, then one spec per chunk of rows."""
    table = content.table_rows()
    columns = [column["label"] for column in content.columns]
    bounds = chunk_bounds(len(table), chunk_rows)
    specs: list[Spec] = [
        {
            "doc": _document(content, full=True),
            "front": {"document_title": content.document_title, "paragraphs": content.paragraphs},
            "parts": [],
        }
    ]
    for index, (start, stop) in enumerate(bounds):
        part: Spec = {"columns": columns, "rows": table[start:stop], "first": None, "last": None}
        if index == 0:
            part["first"] = {"heading": content.heading, "table_lead": content.table_lead, "caption": content.caption}
        if index == len(bounds) - 1:
            part["last"] = {
                "privacy_notice_text": content.privacy_notice_text,
                "privacy_notice_url": content.privacy_notice_url,
                "privacy_notice_title": content.privacy_notice_title,
                "contact_text": content.contact_text,
                "contact_email": content.contact_email,
            }
        specs.append({"doc": _document(content, full=False), "front": None, "parts": [part]})
    return specs


def furniture_spec(content: EditionContent) -> Spec:
    return {
        "doc": _document(content, full=False),
        "front": None,
        "parts": [],
        "furniture": {
            "footer_line": content.footer_line,
            "lockup_name": content.lockup_name,
            "logo_data_uri": logo_data_uri(),
        },
    }


def single_spec(content: EditionContent, *, chunk_rows: int) -> Spec:
    """The whole document as one render: what the assembled pieces must read like (tests and the benchmark)."""
    pieces = plan(content, chunk_rows=chunk_rows)
    return {
        "doc": pieces[0]["doc"],
        "front": pieces[0]["front"],
        "parts": [spec["parts"][0] for spec in pieces[1:]],
        "furniture": furniture_spec(content)["furniture"],
    }


def scope_table_headers(document: Any, pdf: Any) -> None:
    """WeasyPrint tags <th> as TH but does not write the Scope attribute PDF/UA checkers ask for; every header
    cell in our tables is a column header, so each TH gets /Scope /Column."""
    import pydyf

    for pdf_object in pdf.objects:
        if isinstance(pdf_object, pydyf.Dictionary) and pdf_object.get("S") == "/TH":
            attributes = pdf_object.get("A")
            if isinstance(attributes, pydyf.Dictionary):
                attributes["Scope"] = "/Column"
            else:
                pdf_object["A"] = pydyf.Dictionary({"O": "/Table", "Scope": "/Column"})


def cells_hold_their_text(pdf: Any) -> None:
    """WeasyPrint wraps each line of text in a Span element of its own, a table cell's too. Here the cell holds its
    marked content itself, as a structure element may: a row of four cells is five elements instead of nine, and
    the assembly, which holds every row's elements, needs that much less memory. A Span on another page than its
    cell is left as it is. The Spans emptied stay in the piece, unreferenced (pydyf cannot drop an object once
    numbered), and are never copied into the assembled document, which takes only what its structure reaches."""
    import pydyf

    objects = pdf.objects

    def target(reference: Any) -> Any:
        return objects[int(bytes(reference).split()[0])] if isinstance(reference, bytes) else None

    moved: dict[bytes, bytes] = {}
    for element in objects:
        if not (isinstance(element, pydyf.Dictionary) and element.get("S") in ("/TD", "/TH")):
            continue
        kids = []
        for kid in element["K"]:
            span = target(kid)
            if (
                isinstance(span, pydyf.Dictionary)
                and span.get("S") == "/Span"
                and span.get("Pg") == element.get("Pg")
                and all(isinstance(mcid, int) for mcid in span["K"])
            ):
                kids.extend(span["K"])
                moved[kid] = element.reference
                span.clear()
            else:
                kids.append(kid)
        element["K"] = pydyf.Array(kids)
    if not moved:
        return
    parent_tree = target(target(pdf.catalog["StructTreeRoot"])["ParentTree"])
    for entry in parent_tree["Nums"]:
        if isinstance(entry, list):
            entry[:] = [moved.get(reference, reference) for reference in entry]


def finish_tagged(document: Any, pdf: Any) -> None:
    """What a tagged piece needs after WeasyPrint's tagging: header scopes, and cells that hold their text."""
    scope_table_headers(document, pdf)
    cells_hold_their_text(pdf)


def render_spec(spec: Spec, *, tagged: bool = True, blank_pages: int = 0) -> bytes:
    """One WeasyPrint render. No clock or random input reaches the file: dates come from the spec and the
    identifier is left out, so equal specs give equal bytes. A furniture spec says itself that it is untagged and
    how many blank pages it has."""
    # Imported here: WeasyPrint loads Pango, which only the rendering worker needs.
    from weasyprint import HTML

    tagged = tagged and not spec.get("untagged", False)
    blank_pages = spec.get("blank_pages", blank_pages)
    options: dict[str, Any] = {"pdf_identifier": False, "full_fonts": False}
    if tagged:
        options |= {"pdf_variant": "pdf/ua-1", "finisher": finish_tagged}
    # The font subsetter's clock: the edition's date for the front matter, a constant for chunks (see _document).
    with fixed_clock(spec["doc"].get("epoch", 0)):
        return HTML(string=spec_html(spec, blank_pages=blank_pages), base_url=None).write_pdf(**options)


def spec_html(spec: Spec, *, blank_pages: int = 0) -> str:
    context = {key: value for key, value in spec.items() if key not in ("blank_pages", "untagged")}
    return render_to_string(PDF_TEMPLATE, {**context, "blank_pages": range(blank_pages)})


# Pages of "Page X of Y" per WeasyPrint render: its memory grows with the pages of one render, not the document's.
FURNITURE_PAGES = 60


def furniture_specs(content: EditionContent, *, total: int) -> list[Spec]:
    """What the pipeline stamps on the `total` assembled pages, untagged (the assembly marks it as artifacts): the
    running header and footer line, the same on every page, rendered once; then the page numbers, in renders of
    FURNITURE_PAGES pages that can run in parallel. Content-addressed like the pieces: a republished edition with
    as many pages re-uses every one."""
    base = furniture_spec(content)
    specs: list[Spec] = [
        {**base, "furniture": {**base["furniture"], "part": "static"}, "untagged": True, "blank_pages": 1}
    ]
    for first in range(1, total + 1, FURNITURE_PAGES):
        specs.append(
            {
                "doc": {"title": base["doc"]["title"], "page_size": base["doc"]["page_size"]},
                "front": None,
                "parts": [],
                "furniture": {"part": "numbers", "first_page": first, "total": total},
                "untagged": True,
                "blank_pages": min(FURNITURE_PAGES, total - first + 1),
            }
        )
    return specs


Furniture = Callable[[int], tuple[IO[bytes], Sequence[IO[bytes]]]]


def render_furniture_here(content: EditionContent) -> Furniture:
    """The furniture of `total` pages, rendered in this process: (the static part, the page-number renders)."""

    def furniture(total: int) -> tuple[IO[bytes], Sequence[IO[bytes]]]:
        files = [io.BytesIO(render_spec(spec)) for spec in furniture_specs(content, total=total)]
        return files[0], files[1:]

    return furniture


def render_single(content: EditionContent, *, chunk_rows: int) -> bytes:
    return render_spec(single_spec(content, chunk_rows=chunk_rows))


def render_in_process(content: EditionContent, *, chunk_rows: int) -> bytes:
    """Every piece in this process, then assembled: the pipeline without storage or workers."""
    pieces = [io.BytesIO(render_spec(spec)) for spec in plan(content, chunk_rows=chunk_rows)]
    out = io.BytesIO()
    assemble(pieces, furniture=render_furniture_here(content), out=out, identifier=pdf_identifier(content))
    return out.getvalue()


# ---------------------------------------------------------------------------------------------------------
# Assembly

# How WeasyPrint (pydyf) writes a tagged span: "/Span\n<</MCID 3>>\nBDC".
_MARKED = re.compile(rb"/[A-Za-z0-9]+\s*<<\s*/MCID (\d+)\s*>>\s*BDC")


def _numbers(tree: Any) -> dict[int, Any]:
    """A number tree (flat or with /Kids) as a dict."""
    found: dict[int, Any] = {}
    if "/Nums" in tree:
        nums = list(tree.Nums)
        for index in range(0, len(nums), 2):
            found[int(nums[index])] = nums[index + 1]
    for kid in tree.get("/Kids", []):
        found |= _numbers(kid)
    return found


def _kids(element: Any) -> list[Any]:
    kids = element.get("/K")
    if kids is None:
        return []
    import pikepdf

    return list(kids) if isinstance(kids, pikepdf.Array) else [kids]


def _is_element(value: Any) -> bool:
    import pikepdf

    return isinstance(value, pikepdf.Dictionary) and value.get("/S") is not None and value.get("/Type") != "/MCR"


def _marked_content(element: Any, page: Any = None) -> Iterator[tuple[Any, int]]:
    """(page, MCID) of every piece of content under a structure element."""
    import pikepdf

    page = element.get("/Pg", page)
    for kid in _kids(element):
        if isinstance(kid, int):
            yield page, int(kid)
        elif isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") == "/MCR":
            yield kid.get("/Pg", page), int(kid.MCID)
        elif _is_element(kid):
            yield from _marked_content(kid, page)


def _children(element: Any, tag: str) -> list[Any]:
    return [kid for kid in _kids(element) if _is_element(kid) and tag == kid.S]


def _header_ids(table: Any) -> list[str]:
    return [
        str(cell.get("/ID", ""))
        for head in _children(table, "/THead")
        for row in _children(head, "/TR")
        for cell in _children(row, "/TH")
    ]


def _join_tables(pdf: pikepdf.Pdf, document: Any) -> dict[tuple[int, int], set[int]]:
    """One Table for the register: WeasyPrint (and our chunks) start a Table on every page. The rows of each
    continuation move into the first Table's body; its repeated header row is kept on the page but tagged as an
    artifact. Returns {page objgen: MCIDs to turn into artifacts}."""
    import pikepdf

    artifacts: dict[tuple[int, int], set[int]] = {}
    kept: list[Any] = []
    first = None
    # The rows moved into each first Table's body, written once at the end: appending to a pikepdf Array one
    # continuation at a time would copy the body's whole row list for every page.
    bodies: list[tuple[Any, Any, list[Any]]] = []
    for kid in _kids(document):
        if not (_is_element(kid) and kid.S == "/Table"):
            # Only adjacent Tables are one table split by pages.
            kept.append(kid)
            first = None
            continue
        if first is None:
            first = kid
            kept.append(kid)
            first_bodies = _children(first, "/TBody")
            if first_bodies:
                body = first_bodies[-1]
            else:
                body = pdf.make_indirect(
                    pikepdf.Dictionary(Type=pikepdf.Name.StructElem, S=pikepdf.Name.TBody, P=first, K=pikepdf.Array())
                )
            moved: list[Any] = []
            bodies.append((first, body, moved))
            first_headers = _header_ids(first)
            continue
        headers = dict(zip(_header_ids(kid), first_headers, strict=False))
        rows = []
        for part in _kids(kid):
            if not _is_element(part):
                continue
            if part.S == "/THead":
                for page, mcid in _marked_content(part):
                    artifacts.setdefault(page.objgen, set()).add(mcid)
            elif part.S == "/TR":
                rows.append(part)
            else:
                rows.extend(_children(part, "/TR"))
        for row in rows:
            row.P = body
            for cell in _children(row, "/TD"):
                attributes = cell.get("/A")
                if attributes is not None and "/Headers" in attributes:
                    attributes.Headers = pikepdf.Array(
                        [pikepdf.String(headers.get(str(name), str(name))) for name in attributes.Headers]
                    )
        moved.extend(rows)
    for table, body, moved in bodies:
        if not moved:
            continue
        if body.objgen not in {kid.objgen for kid in _children(table, "/TBody")}:
            table.K = pikepdf.Array([*_kids(table), body])
        body.K = pikepdf.Array([*_kids(body), *moved])
    document.K = pikepdf.Array(kept)
    return artifacts


_HEADING = re.compile(r"/H[1-6]")


def _walk(element: Any) -> Iterator[Any]:
    """Structure elements under an element, in document order."""
    for kid in _kids(element):
        if _is_element(kid):
            yield kid
            yield from _walk(kid)


def _outline(pdf: pikepdf.Pdf, document: Any, page_offset: int) -> list[tuple[int, str, int, float]]:
    """(level, title, page index, top) of a piece's bookmarks. A piece's outline starts at its first heading's
    level (a chunk's h3 is level 3), so that the assembled outline nests them as one render would."""
    entries: list[tuple[int, str, int, float]] = []
    if "/Outlines" not in pdf.Root:
        # A chunk of rows has no heading, hence no outline: no need to walk its (large) structure tree.
        return entries
    first_level = next(
        (int(str(element.S)[2:]) for element in _walk(document) if _HEADING.fullmatch(str(element.S))), 1
    )
    pages = {page.objgen: index for index, page in enumerate(pdf.pages)}

    def walk(items: Any, depth: int) -> None:
        for item in items:
            destination = item.destination
            if destination is not None and len(destination) >= 4:
                page = pages.get(destination[0].objgen, 0)
                top = float(destination[3]) if destination[3] is not None else 0.0
                entries.append((first_level + depth, item.title, page_offset + page, top))
            walk(item.children, depth + 1)

    with pdf.open_outline() as outline:
        walk(outline.root, 0)
    return entries


def _write_outline(pdf: pikepdf.Pdf, entries: list[tuple[int, str, int, float]]) -> None:
    import pikepdf

    with pdf.open_outline() as outline:
        outline.root.clear()
        stack: list[tuple[int, list[Any]]] = [(0, outline.root)]
        for level, title, page, top in entries:
            while stack[-1][0] >= level:
                stack.pop()
            item = pikepdf.OutlineItem(title, page, "XYZ", left=0, top=top)
            stack[-1][1].append(item)
            stack.append((level, item.children))


# Back-links that lead from a page to the rest of its document, not to what the page itself shows.
_BACK_LINKS = frozenset({"/Parent", "/P", "/Pg", "/StructParent", "/StructParents"})


def _own_streams(roots: Sequence[Any]) -> None:
    """Copy into their document the data of every stream that the pages `roots` reach (contents, fonts, images),
    still encoded: qpdf copies a foreign stream's data only when the document is written, so without this the
    source would have to stay open until then."""
    import pikepdf

    seen: set[tuple[int, int]] = set()
    stack = list(roots)
    while stack:
        item = stack.pop()
        if not isinstance(item, (pikepdf.Dictionary, pikepdf.Array, pikepdf.Stream)):
            continue
        if item.is_indirect:
            if item.objgen in seen:
                continue
            seen.add(item.objgen)
        if isinstance(item, pikepdf.Stream):
            # Still encoded: the filter and its parameters say how (pikepdf's types are narrower than a PDF's).
            encoding: dict[str, Any] = {"filter": item.get("/Filter"), "decode_parms": item.get("/DecodeParms")}
            item.write(item.read_raw_bytes(), **encoding, type_check=False)
            stack.extend(value for key, value in item.stream_dict.items() if key not in _BACK_LINKS)
        elif isinstance(item, pikepdf.Dictionary):
            stack.extend(value for key, value in item.items() if key not in _BACK_LINKS)
        else:
            stack.extend(item)


def assemble(pieces: Sequence[IO[bytes]], *, furniture: Furniture, out: IO[bytes], identifier: bytes = b"") -> int:
    """Join tagged WeasyPrint PDFs into one and stamp the running header and footer, `furniture(total)`: the
    static part (one page, stamped on every page) and the page numbers (as many pages as the document), each as
    an artifact. Returns the number of pages."""
    import pikepdf

    # The furniture's renders stay open until the result is written (qpdf copies stream data lazily); the pieces
    # are opened one at a time and closed once their stream data is copied (_own_streams), so that memory holds the
    # assembled document and one piece, not every piece.
    sources: list[pikepdf.Pdf] = []
    try:
        base = pikepdf.open(cast(BinaryIO, pieces[0]))
        sources.append(base)
        root = base.Root.StructTreeRoot
        document = _kids(root)[0]
        numbers = _numbers(root.ParentTree)
        next_key = max(numbers, default=-1) + 1
        outline = _outline(base, document, 0)
        for piece in pieces[1:]:
            source = pikepdf.open(cast(BinaryIO, piece))
            source_root = source.Root.StructTreeRoot
            source_document = _kids(source_root)[0]
            source_numbers = _numbers(source_root.ParentTree)
            renumber = {old: next_key + index for index, old in enumerate(sorted(source_numbers))}
            next_key += len(source_numbers)
            for page in source.pages:
                if "/StructParents" in page.obj:
                    page.obj.StructParents = renumber[int(page.obj.StructParents)]
                for annotation in page.obj.get("/Annots", []):
                    if "/StructParent" in annotation:
                        annotation.StructParent = renumber[int(annotation.StructParent)]
            outline += _outline(source, source_document, len(base.pages))
            kids = [kid for kid in _kids(source_document) if _is_element(kid)]
            for kid in kids:
                # Cut the link up to the source's root, so that copying a subtree copies only that subtree.
                del kid["/P"]
            # Pages first: qpdf remembers what it copied, so the elements' /Pg then point at these copies.
            first_copied = len(base.pages)
            base.pages.extend(source.pages)
            copied = [base.copy_foreign(kid) for kid in kids]
            for kid in copied:
                kid.P = document
            document.K = pikepdf.Array([*_kids(document), *copied])
            for old, value in source_numbers.items():
                if isinstance(value, pikepdf.Array):
                    numbers[renumber[old]] = pikepdf.Array(
                        [base.copy_foreign(item) if isinstance(item, pikepdf.Dictionary) else item for item in value]
                    )
                else:
                    numbers[renumber[old]] = base.copy_foreign(value)
            _own_streams([page.obj for page in base.pages[first_copied:]])
            source.close()

        artifacts = _join_tables(base, document)
        for page in base.pages:
            mcids = artifacts.get(page.obj.objgen)
            if not mcids:
                continue
            contents = page.obj.Contents
            stream = contents if isinstance(contents, pikepdf.Stream) else None
            data = (
                page.obj.Contents.read_bytes()
                if stream is not None
                else b"".join(part.read_bytes() for part in contents)
            )
            data = _MARKED.sub(
                lambda match, mcids=mcids: b"/Artifact BMC" if int(match[1]) in mcids else match[0],  # type: ignore[misc]
                data,
            )
            page.obj.Contents = base.make_stream(data)
            key = int(page.obj.StructParents)
            entry = numbers.get(key)
            if isinstance(entry, pikepdf.Array):
                numbers[key] = pikepdf.Array([None if index in mcids else item for index, item in enumerate(entry)])

        flat: list[Any] = []
        for key in sorted(numbers):
            flat += [key, numbers[key]]
        root.ParentTree = base.make_indirect(pikepdf.Dictionary(Nums=pikepdf.Array(flat)))
        root.ParentTreeNextKey = next_key
        _write_outline(base, outline)

        total = len(base.pages)
        static_file, number_files = furniture(total)
        static = pikepdf.open(cast(BinaryIO, static_file))
        sources.append(static)
        numbers_pages: list[Any] = []
        for number_file in number_files:
            source = pikepdf.open(cast(BinaryIO, number_file))
            sources.append(source)
            numbers_pages.extend(source.pages)
        if len(static.pages) != 1 or len(numbers_pages) != total:
            raise ValueError(f"The furniture has {len(numbers_pages)} numbered pages for {total}")
        static_form = base.copy_foreign(static.pages[0].as_form_xobject())
        for index, (page, footer) in enumerate(zip(base.pages, numbers_pages, strict=True)):
            form = base.copy_foreign(footer.as_form_xobject())
            # Fixed names, not add_resource's random prefix, so that the same edition gives the same bytes; one
            # name per page for its number, as a piece's pages share one resource dictionary.
            static_name = page.add_resource(static_form, pikepdf.Name.XObject, name=pikepdf.Name("/FurnitureAll"))
            name = page.add_resource(form, pikepdf.Name.XObject, name=pikepdf.Name(f"/Furniture{index}"))
            page.contents_add(base.make_stream(b"q\n"), prepend=True)
            page.contents_add(
                base.make_stream(
                    b"\nQ\n/Artifact <</Type /Pagination>> BDC q "
                    + str(static_name).encode()
                    + b" Do Q EMC\n/Artifact <</Type /Pagination /Subtype /Footer>> BDC q "
                    + str(name).encode()
                    + b" Do Q EMC\n"
                )
            )
        if identifier:
            # qpdf keeps the first half of /ID and computes the second from the content (deterministic_id).
            base.trailer.ID = pikepdf.Array([pikepdf.String(identifier), pikepdf.String(identifier)])
        base.save(
            cast(BinaryIO, out),
            deterministic_id=True,
            compress_streams=True,
            object_stream_mode=pikepdf.ObjectStreamMode.generate,
        )
        return total
    finally:
        for source in sources:
            source.close()
