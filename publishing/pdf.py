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

The assembly streams, so that its memory does not grow with the register: it opens one piece at a time (pikepdf),
edits it in memory where that is simplest (the repeated header rows' marked content made artifacts, the parent
tree keys renumbered, the furniture added to each page), and writes the objects its pages and structure reach
straight to the output, renumbered, packed into compressed object streams (_Writer, _Copier). What depends on the
whole document is written at the end, from numbers kept as it goes: per object, where it was written (11 bytes);
per page, its object and its parent tree entry; per row of the register, its object (the one Table's body lists
every row); and the Document's few kids and the outline. The furniture's page numbers are opened a render at a
time too; the running header and footer is written once and shared by every page.

A piece is described by a JSON-able spec (the template's whole context), so that its key, a hash of the spec and
of the template version, names its bytes: a chunk whose rows did not change is not rendered again.
"""

from __future__ import annotations

import array
import functools
import hashlib
import importlib.metadata
import io
import json
import re
import zlib
from collections.abc import Callable, Generator, Iterator, Sequence
from typing import IO, TYPE_CHECKING, Any, BinaryIO, cast

from django.template.loader import get_template, render_to_string

from publishing.render import EditionContent, fixed_clock, logo_data_uri, pdf_identifier, source_date_epoch

if TYPE_CHECKING:
    import pikepdf

PDF_TEMPLATE = "publishing/pdf/edition.html"
# Bump when assemble() changes what it writes: it is part of every piece's key as well as the template.
ASSEMBLER_VERSION = "3"
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
    the assembly, which numbers and writes every row's elements, has that much less to do. A Span on another page
    than its cell is left as it is. The Spans emptied stay in the piece, unreferenced (pydyf cannot drop an object
    once numbered), and are never copied into the assembled document, which takes only what its structure
    reaches."""
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
# In qpdf's text of an object (unparse): a literal string (whose parentheses qpdf escapes), a hex string, or an
# indirect reference "12 0 R", the token to renumber.
_TOKENS = re.compile(rb"\((?:[^\\()]|\\.)*\)|<[0-9A-Fa-f\s]*>|(?<![\w.#/+-])(\d+) (\d+) R(?!\w)", re.DOTALL)
# Objects (other than streams) per compressed object stream, as qpdf writes them.
OBJECTS_PER_STREAM = 100
# The furniture, painted over each page's own content as artifacts: two streams that every page shares, as each
# page's resources name its own page number /FurnitureNumber.
_FURNITURE_BEFORE = b"q\n"
_FURNITURE_AFTER = (
    b"\nQ\n/Artifact <</Type /Pagination>> BDC q /FurnitureAll Do Q EMC\n"
    b"/Artifact <</Type /Pagination /Subtype /Footer>> BDC q /FurnitureNumber Do Q EMC\n"
)
_INHERITED = ("/Resources", "/MediaBox", "/CropBox", "/Rotate")


class _Writer:
    """A PDF written as it goes. Each object is numbered in advance (`reserve`), so that others can refer to it
    before it is written; a stream is written at once, other objects are packed OBJECTS_PER_STREAM at a time into
    compressed object streams, and a cross-reference stream ends the file. Keeps 11 bytes per object (where it is)
    and one object stream's objects."""

    def __init__(self, out: IO[bytes], version: str) -> None:
        self.out = out
        self.position = 0
        self.digest = hashlib.sha256()
        # Per object number - 1: its kind (0 not written yet, 1 at an offset, 2 in an object stream), its offset or
        # object stream, its index in that stream.
        self.kinds = bytearray()
        self.places = array.array("Q")
        self.indexes = array.array("H")
        self.pending: list[tuple[int, bytes]] = []
        self._emit(b"%PDF-" + version.encode() + b"\n%\xbf\xf7\xa2\xfe\n")

    def _emit(self, data: bytes) -> None:
        self.out.write(data)
        self.digest.update(data)
        self.position += len(data)

    def reserve(self) -> int:
        self.kinds.append(0)
        self.places.append(0)
        self.indexes.append(0)
        return len(self.kinds)

    def add(self, number: int, body: bytes) -> None:
        self.pending.append((number, body))
        if len(self.pending) >= OBJECTS_PER_STREAM:
            self._flush()

    def add_stream(self, number: int, dictionary: bytes, data: bytes) -> None:
        """A stream: `dictionary` is its dictionary's text without /Length."""
        self.kinds[number - 1] = 1
        self.places[number - 1] = self.position
        head = dictionary.rstrip()[:-2].rstrip()
        self._emit(b"%d 0 obj\n%s /Length %d >>\nstream\n" % (number, head, len(data)))
        self._emit(data)
        self._emit(b"\nendstream\nendobj\n")

    def _flush(self) -> None:
        if not self.pending:
            return
        number = self.reserve()
        offsets, at = [], 0
        for index, (member, body) in enumerate(self.pending):
            self.kinds[member - 1] = 2
            self.places[member - 1] = number
            self.indexes[member - 1] = index
            offsets.append(b"%d %d" % (member, at))
            at += len(body) + 1
        header = b" ".join(offsets) + b"\n"
        data = zlib.compress(header + b"\n".join(body for _, body in self.pending) + b"\n")
        dictionary = b"<< /Filter /FlateDecode /First %d /N %d /Type /ObjStm >>" % (len(header), len(self.pending))
        self.pending = []
        self.add_stream(number, dictionary, data)

    def finish(self, *, root: int, info: int | None, identifier: bytes) -> None:
        """The cross-reference stream and trailer. The /ID's first half is `identifier`, its second a digest of
        the bytes before it (deterministic: the same document, the same /ID)."""
        self._flush()
        missing = [number for number, kind in enumerate(self.kinds, start=1) if not kind]
        if missing:
            raise RuntimeError(f"Objects {missing[:10]} were numbered but never written")
        number = self.reserve()
        start = self.position
        self.kinds[number - 1], self.places[number - 1] = 1, start
        second = self.digest.digest()[:16]
        width = max(1, (start.bit_length() + 7) // 8)
        compressor = zlib.compressobj()
        chunks = [compressor.compress(b"\x00" + bytes(width) + b"\xff\xff")]
        for first in range(0, number, 4096):
            row = bytearray()
            for index in range(first, min(first + 4096, number)):
                row.append(self.kinds[index])
                row += self.places[index].to_bytes(width, "big") + self.indexes[index].to_bytes(2, "big")
            chunks.append(compressor.compress(bytes(row)))
        chunks.append(compressor.flush())
        ids = b"<%s> <%s>" % ((identifier or second).hex().encode(), second.hex().encode())
        info_entry = b" /Info %d 0 R" % info if info else b""
        trailer = b"<< /Filter /FlateDecode /ID [ %s ]%s /Root %d 0 R /Size %d /Type /XRef /W [ 1 %d 2 ] >>" % (
            ids,
            info_entry,
            root,
            number + 1,
            width,
        )
        self.add_stream(number, trailer, b"".join(chunks))
        self._emit(b"startxref\n%d\n%%%%EOF\n" % start)


class _Copier:
    """Copies to the writer the objects of one source document that the output reaches, each once, under new
    numbers: a reference is numbered (and its object queued) when first written; `preset` numbers an object that
    is written elsewhere, or stands for another (a continuation's rows' parent is the first Table's body)."""

    def __init__(self, writer: _Writer, source: pikepdf.Pdf) -> None:
        self.writer = writer
        self.source = source
        self.numbers: dict[tuple[int, int], int] = {}
        self.queue: list[tuple[int, int]] = []

    def preset(self, item: Any, number: int) -> None:
        self.numbers[item.objgen] = number

    def ref(self, item: Any) -> int:
        return self._number(item.objgen)

    def _number(self, objgen: tuple[int, int]) -> int:
        number = self.numbers.get(objgen)
        if number is None:
            number = self.numbers[objgen] = self.writer.reserve()
            self.queue.append(objgen)
        return number

    def _renumber(self, match: re.Match[bytes]) -> bytes:
        if match[1] is None:
            return match[0]
        return b"%d 0 R" % self._number((int(match[1]), int(match[2])))

    def text(self, item: Any, *, resolved: bool = False) -> bytes:
        """A value's PDF syntax, its references renumbered: an indirect object as a reference, or `resolved`, its
        content."""
        import pikepdf

        if not isinstance(item, pikepdf.Object):
            # pikepdf gives numbers, booleans and null as Python values.
            return pikepdf.Array([item]).unparse()[1:-1].strip()
        return _TOKENS.sub(self._renumber, item.unparse(resolved=resolved))

    def without(self, dictionary: Any, *keys: str) -> bytes:
        """A dictionary's content, some of its keys left out."""
        import pikepdf

        return self.text(pikepdf.Dictionary({key: value for key, value in dictionary.items() if key not in keys}))

    def drain(self) -> None:
        """Write every object queued, and every object they reach."""
        import pikepdf

        while self.queue:
            objgen = self.queue.pop()
            number = self.numbers[objgen]
            item = self.source.get_object(objgen)
            if isinstance(item, pikepdf.Stream):
                # Still encoded, with its filter; a stream made here (a page's edited content) is compressed.
                data = item.read_raw_bytes()
                dictionary = self.without(item.stream_dict, "/Length")
                if "/Filter" not in item.stream_dict and item.stream_dict.get("/Type") != "/Metadata":
                    data = zlib.compress(data)
                    dictionary = b"<< /Filter /FlateDecode " + dictionary.lstrip()[2:]
                self.writer.add_stream(number, dictionary, data)
            else:
                self.writer.add(number, self.text(item, resolved=True))


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


def _real(value: float) -> bytes:
    return (f"{value:.6f}".rstrip("0").rstrip(".") or "0").encode()


def _write_outline(writer: _Writer, number: int, entries: list[tuple[int, str, int, float]], pages: Any) -> None:
    """The outline, its items nested by level (all open), at object `number`."""
    import pikepdf

    # [number, level, title, page, top, children]
    root: list[Any] = [number, 0, "", 0, 0.0, []]
    stack = [root]
    for level, title, page, top in entries:
        while stack[-1][1] >= level:
            stack.pop()
        item = [writer.reserve(), level, title, page, top, []]
        stack[-1][5].append(item)
        stack.append(item)

    def count(item: list[Any]) -> int:
        return sum(1 + count(child) for child in item[5])

    def write(item: list[Any], parent: int | None, previous: int | None, following: int | None) -> None:
        children = item[5]
        fields = []
        if children:
            fields += [b"/Count %d" % count(item), b"/First %d 0 R" % children[0][0], b"/Last %d 0 R" % children[-1][0]]
        if parent is not None:
            fields += [
                b"/Dest [ %d 0 R /XYZ 0 %s 0 ]" % (pages[item[3]], _real(item[4])),
                b"/Parent %d 0 R" % parent,
                b"/Title " + pikepdf.String(item[2]).unparse(),
            ]
            if previous is not None:
                fields.append(b"/Prev %d 0 R" % previous)
            if following is not None:
                fields.append(b"/Next %d 0 R" % following)
        writer.add(item[0], b"<< " + b" ".join(fields) + b" >>")
        for index, child in enumerate(children):
            before = children[index - 1][0] if index else None
            after = children[index + 1][0] if index + 1 < len(children) else None
            write(child, item[0], before, after)

    write(root, None, None, None)


class _Table:
    """The Table that a run of adjacent Tables (one per page) becomes, written once the run ends: its dictionary
    and kids as written, and the rows that move into its body (the numbers of those rows only)."""

    def __init__(self, number: int, head: bytes, kids: list[bytes], headers: list[str]) -> None:
        self.number = number
        self.head = head
        self.kids = kids
        self.headers = headers
        # The body that takes the continuations' rows: the first Table's last TBody, or one made for them.
        self.body: int | None = None
        self.body_head: bytes | None = None
        self.body_kids: list[bytes] = []
        self.rows = array.array("Q")

    def write(self, writer: _Writer) -> None:
        kids = list(self.kids)
        if self.body is not None and self.body_head is None:
            kids.append(b"%d 0 R" % self.body)
        writer.add(self.number, _with_kids(self.head, kids))
        if self.body is None:
            return
        rows = [*self.body_kids, *(b"%d 0 R" % row for row in self.rows)]
        head = self.body_head or b"<< /P %d 0 R /S /TBody /Type /StructElem >>" % self.number
        writer.add(self.body, _with_kids(head, rows))


def _with_kids(head: bytes, kids: Sequence[bytes]) -> bytes:
    """A dictionary's text (without /K) with /K added."""
    return _with(head, b"/K [ " + b" ".join(kids) + b" ]")


def _with(head: bytes, entries: bytes) -> bytes:
    """A dictionary's text with more entries."""
    return head.rstrip()[:-2].rstrip() + b" " + entries + b" >>"


def _number_forms(writer: _Writer, files: Sequence[IO[bytes]]) -> Generator[int, None, None]:
    """The page numbers' renders, opened one at a time: each page's form XObject, written, by its number."""
    import pikepdf

    for file in files:
        file.seek(0)
        with pikepdf.open(cast(BinaryIO, file)) as source:
            copier = _Copier(writer, source)
            for page in source.pages:
                number = copier.ref(page.as_form_xobject())
                copier.drain()
                yield number


class _Assembly:
    """The document-wide state of an assembly, kept until the end: a few numbers per page (its object, its parent
    tree entry), the Document's kids, the outline, and the register Table's rows (one number each)."""

    def __init__(self, writer: _Writer, static_form: int, forms: Generator[int, None, None]) -> None:
        self.writer = writer
        self.static_form = static_form
        self.forms = forms
        reserve = writer.reserve
        self.catalog, self.pages, self.root, self.document = reserve(), reserve(), reserve(), reserve()
        self.parent_tree, self.outlines, self.before, self.after = reserve(), reserve(), reserve(), reserve()
        writer.add_stream(self.before, b"<< >>", _FURNITURE_BEFORE)
        writer.add_stream(self.after, b"<< /Filter /FlateDecode >>", zlib.compress(_FURNITURE_AFTER))
        self.page_numbers = array.array("Q")
        self.tree_keys = array.array("Q")
        self.tree_values = array.array("Q")
        self.next_key = 0
        self.document_kids: list[bytes] = []
        self.table: _Table | None = None
        self.outline: list[tuple[int, str, int, float]] = []
        self.info: int | None = None
        self.document_head = b""
        self.root_head = b""

    def add(self, source: pikepdf.Pdf, *, first: bool) -> None:
        """One piece: its pages and structure written, what depends on the whole document noted."""
        copier = _Copier(self.writer, source)
        struct_root = source.Root.StructTreeRoot
        document = _kids(struct_root)[0]
        copier.preset(document, self.document)
        copier.preset(struct_root, self.root)
        numbers = _numbers(struct_root.ParentTree)
        renumber = {old: self.next_key + index for index, old in enumerate(sorted(numbers))}
        self.next_key += len(numbers)
        for page in source.pages:
            self._renumber_page(copier, page.obj, renumber)
        if first:
            self.document_head = copier.without(document, "/K")
            self.root_head = copier.without(struct_root, "/ParentTree", "/ParentTreeNextKey")
            catalog = copier.without(source.Root, "/Outlines")
            self.writer.add(self.catalog, _with(catalog, b"/Outlines %d 0 R" % self.outlines))
            info = source.trailer.get("/Info")
            self.info = copier.ref(info) if info is not None else None
        self.outline += _outline(source, document, len(self.page_numbers))
        artifacts = self._join_tables(copier, document)
        nulls = {}
        for page in source.pages:
            mcids = artifacts.get(page.obj.objgen)
            if mcids:
                nulls[int(page.obj.StructParents)] = mcids
            self._add_page(source, copier, page.obj, mcids)
        for old in sorted(numbers):
            self._add_parent_tree_entry(copier, renumber[old], numbers[old], nulls.get(renumber[old]))
        copier.drain()

    def _renumber_page(self, copier: _Copier, page: Any, renumber: dict[int, int]) -> None:
        """A page's keys in the parent tree renumbered; its parents are the one Pages node, and what it inherits
        from them its own."""
        if "/StructParents" in page:
            page.StructParents = renumber[int(page.StructParents)]
        for annotation in page.get("/Annots", []):
            if "/StructParent" in annotation:
                annotation.StructParent = renumber[int(annotation.StructParent)]
        parent = page.get("/Parent")
        while parent is not None:
            copier.preset(parent, self.pages)
            for key in _INHERITED:
                if key not in page and key in parent:
                    page[key] = parent[key]
            parent = parent.get("/Parent")

    def _add_page(self, source: pikepdf.Pdf, copier: _Copier, page: Any, mcids: set[int] | None) -> None:
        """A page with its furniture: its content between the two furniture streams, its resources (its own,
        as each names its own page number) with the two forms."""
        import pikepdf

        def stand_in(number: int) -> Any:
            # An object of the piece that stands for one written from elsewhere (the furniture).
            item = source.make_indirect(pikepdf.Dictionary())
            copier.preset(item, number)
            return item

        contents = page.get("/Contents")
        parts = [] if contents is None else [contents] if isinstance(contents, pikepdf.Stream) else list(contents)
        if mcids:
            # The repeated header row of a continuation table: on the page, but as an artifact.
            data = _MARKED.sub(
                lambda match: b"/Artifact BMC" if int(match[1]) in mcids else match[0],
                b"".join(part.read_bytes() for part in parts),
            )
            parts = [source.make_stream(data)]
        number_form = next(self.forms, None)
        if number_form is None:
            raise ValueError("The furniture has fewer numbered pages than the document")
        page.Contents = pikepdf.Array([stand_in(self.before), *parts, stand_in(self.after)])
        resources = page.get("/Resources")
        own = pikepdf.Dictionary(dict(resources.items()) if resources is not None else {})
        xobjects = own.get("/XObject")
        own.XObject = pikepdf.Dictionary(
            {
                **(dict(xobjects.items()) if xobjects is not None else {}),
                "/FurnitureAll": stand_in(self.static_form),
                "/FurnitureNumber": stand_in(number_form),
            }
        )
        page.Resources = own
        self.page_numbers.append(copier.ref(page))

    def _add_parent_tree_entry(self, copier: _Copier, key: int, value: Any, nulls: set[int] | None) -> None:
        """An entry of the parent tree, written now (as an object of its own), its key and number kept."""
        import pikepdf

        if isinstance(value, pikepdf.Array):
            if nulls:
                value = pikepdf.Array([None if index in nulls else item for index, item in enumerate(value)])
            number = self.writer.reserve()
            self.writer.add(number, copier.text(value, resolved=True))
        elif getattr(value, "is_indirect", False):
            number = copier.ref(value)
        else:
            number = self.writer.reserve()
            self.writer.add(number, copier.text(value, resolved=True))
        self.tree_keys.append(key)
        self.tree_values.append(number)

    def _join_tables(self, copier: _Copier, document: Any) -> dict[tuple[int, int], set[int]]:
        """One Table for the register: WeasyPrint (and our chunks) start a Table on every page. The rows of each
        continuation move into the first Table's body (their parent is written as that body); its repeated header
        row is kept on the page but tagged as an artifact. Returns {page objgen: MCIDs to turn into artifacts}."""
        import pikepdf

        artifacts: dict[tuple[int, int], set[int]] = {}
        for kid in _kids(document):
            if not (_is_element(kid) and kid.S == "/Table"):
                # Only adjacent Tables are one table split by pages.
                self._close_table()
                self.document_kids.append(copier.text(kid))
                continue
            if self.table is None:
                self._open_table(copier, kid)
                continue
            table = self.table
            headers = dict(zip(_header_ids(kid), table.headers, strict=False))
            rows, containers = [], [kid]
            for part in _kids(kid):
                if not _is_element(part):
                    continue
                if part.S == "/THead":
                    for page, mcid in _marked_content(part):
                        artifacts.setdefault(page.objgen, set()).add(mcid)
                elif part.S == "/TR":
                    rows.append(part)
                else:
                    containers.append(part)
                    rows.extend(_children(part, "/TR"))
            if not rows:
                continue
            if table.body is None:
                table.body = self.writer.reserve()
            for container in containers:
                copier.preset(container, table.body)
            for row in rows:
                for cell in _children(row, "/TD"):
                    attributes = cell.get("/A")
                    if attributes is not None and "/Headers" in attributes:
                        attributes.Headers = pikepdf.Array(
                            [pikepdf.String(headers.get(str(name), str(name))) for name in attributes.Headers]
                        )
                table.rows.append(copier.ref(row))
        return artifacts

    def _open_table(self, copier: _Copier, element: Any) -> None:
        number = self.writer.reserve()
        copier.preset(element, number)
        self.document_kids.append(b"%d 0 R" % number)
        bodies = _children(element, "/TBody")
        body = bodies[-1] if bodies else None
        if body is not None:
            body_number = self.writer.reserve()
            copier.preset(body, body_number)
        kids = [copier.text(kid) for kid in _kids(element)]
        table = _Table(number, copier.without(element, "/K"), kids, _header_ids(element))
        if body is not None:
            table.body = body_number
            table.body_head = copier.without(body, "/K")
            table.body_kids = [copier.text(kid) for kid in _kids(body)]
        self.table = table

    def _close_table(self) -> None:
        if self.table is not None:
            self.table.write(self.writer)
            self.table = None

    def finish(self, identifier: bytes) -> None:
        """What depends on the whole document, then the cross-reference stream."""
        self._close_table()
        writer = self.writer
        writer.add(self.document, _with_kids(self.document_head, self.document_kids))
        entries = b"/ParentTree %d 0 R /ParentTreeNextKey %d" % (self.parent_tree, self.next_key)
        writer.add(self.root, _with(self.root_head, entries))
        nums = b" ".join(b"%d %d 0 R" % pair for pair in zip(self.tree_keys, self.tree_values, strict=True))
        writer.add(self.parent_tree, b"<< /Nums [ " + nums + b" ] >>")
        kids = b" ".join(b"%d 0 R" % number for number in self.page_numbers)
        writer.add(self.pages, b"<< /Count %d /Kids [ %s ] /Type /Pages >>" % (len(self.page_numbers), kids))
        _write_outline(writer, self.outlines, self.outline, self.page_numbers)
        writer.finish(root=self.catalog, info=self.info, identifier=identifier)


def assemble(pieces: Sequence[IO[bytes]], *, furniture: Furniture, out: IO[bytes], identifier: bytes = b"") -> int:
    """Join tagged WeasyPrint PDFs into one and stamp the running header and footer, `furniture(total)`: the
    static part (one page, stamped on every page) and the page numbers (as many pages as the document), each as
    an artifact. The pieces are read twice (first to count their pages), so they must be seekable; `out` must be
    empty, as the cross-reference offsets count from its first byte. Returns the number of pages."""
    import pikepdf

    total, version = 0, "1.7"
    for index, piece in enumerate(pieces):
        piece.seek(0)
        with pikepdf.open(cast(BinaryIO, piece)) as counted:
            total += len(counted.pages)
            if index == 0:
                version = max(counted.pdf_version, "1.5")
    static_file, number_files = furniture(total)
    writer = _Writer(out, version)
    static_file.seek(0)
    with pikepdf.open(cast(BinaryIO, static_file)) as static:
        if len(static.pages) != 1:
            raise ValueError(f"The furniture's running header and footer has {len(static.pages)} pages, not 1")
        copier = _Copier(writer, static)
        static_form = copier.ref(static.pages[0].as_form_xobject())
        copier.drain()
    forms = _number_forms(writer, number_files)
    try:
        assembly = _Assembly(writer, static_form, forms)
        for index, piece in enumerate(pieces):
            piece.seek(0)
            with pikepdf.open(cast(BinaryIO, piece)) as source:
                assembly.add(source, first=index == 0)
        if next(forms, None) is not None:
            raise ValueError(f"The furniture has more numbered pages than the document's {total}")
    finally:
        forms.close()
    assembly.finish(identifier)
    return total
