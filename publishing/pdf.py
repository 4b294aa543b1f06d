"""An edition's PDF, rendered in pieces and assembled into one tagged document.

Layout is most of WeasyPrint's cost and grows with the number of boxes, so a large register is rendered as
independent pieces that can run in parallel in bounded memory: the front matter (the pages before the register),
then the register table in chunks of rows, each chunk starting a page and carrying its own header row. The
running footer ("Page X of Y") depends on the whole document, so the pieces are rendered without it and it is
stamped on the assembled pages afterwards, from one more WeasyPrint render of empty pages, as an artifact.

The assembly joins the pieces with pikepdf into what a single render of the same template gives, and a little more:
one structure tree (Document > headings, paragraphs, ONE Table whose rows follow in reading order; WeasyPrint
itself starts a new Table on every page), the header row repeated on every page but tagged only once (the
repeats are artifacts, as a reader wants them), the first piece's title, language and PDF/UA-1 identification,
and one outline with the headings nested by level.

The assembly is in two steps, so that the work of each piece is done once, in parallel with the others, and
memory does not grow with the register:
- A piece's segment (build_segment, as soon as the piece is rendered): the piece opened with pikepdf, edited in
  memory where that is simplest (the repeated header rows' marked content made artifacts, the parent tree keys
  renumbered, the furniture named in each page's resources), and the objects its pages and structure reach
  written, renumbered, packed into compressed object streams (_Writer, _Copier). Its objects are numbered in a
  range of its own, from its place in the document (its slot), and refer to the document-wide objects by fixed
  numbers: it depends on the piece and its slot only, so a republished edition re-uses the segments of the pieces
  that did not change. Its metadata notes what the join needs: its pages, parent tree entries and register rows
  (by number), the Document's other kids, its outline, and where its objects are (11 bytes each).
- The join (join): the segments' bytes copied as they are, then what depends on the whole document: the
  furniture (the running header and footer written once and shared by every page; each page's number, opened a
  render at a time, at a number its segment kept for it), the catalog, the Pages node, the structure root and
  Document, the one Table's body with every row, the parent tree, the outline, and one cross-reference stream.
`assemble` does both steps in one process; publishing.pipeline builds each segment in its piece's job.

A piece is described by a JSON-able spec (the template's whole context), so that its key, a hash of the spec and
of the template version, names its bytes: a chunk whose rows did not change is not rendered again.
"""

from __future__ import annotations

import array
import base64
import bisect
import contextlib
import functools
import hashlib
import importlib.metadata
import io
import itertools
import json
import re
import sys
import tempfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import IO, TYPE_CHECKING, Any, BinaryIO, cast

from django.template.loader import get_template, render_to_string

from publishing.render import EditionContent, fixed_clock, logo_data_uri, pdf_identifier, source_date_epoch

if TYPE_CHECKING:
    import pikepdf

PDF_TEMPLATE = "publishing/pdf/edition.html"
# Bump when assemble() changes what it writes: it is part of every piece's key as well as the template.
ASSEMBLER_VERSION = "4"
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


def plan(content: EditionContent, *, chunk_rows: int) -> Iterator[Spec]:
    """The pieces of the edition's PDF, in order: the front matter, then one spec per chunk of rows. Made as they
    are asked for, reading the rows a chunk at a time."""
    table = content.table_rows()
    columns = [column["label"] for column in content.columns]
    bounds = chunk_bounds(len(content.rows), chunk_rows)
    yield {
        "doc": _document(content, full=True),
        "front": {"document_title": content.document_title, "paragraphs": content.paragraphs},
        "parts": [],
    }
    for index, (start, stop) in enumerate(bounds):
        rows = list(itertools.islice(table, stop - start))
        part: Spec = {"columns": columns, "rows": rows, "first": None, "last": None}
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
        yield {"doc": _document(content, full=False), "front": None, "parts": [part]}


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
    pieces = list(plan(content, chunk_rows=chunk_rows))
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

# Object numbers. The document-wide objects that segments refer to have fixed numbers, below RESERVED. Then each
# piece (its slot) has a range of STRIDE numbers: its pages' "Page X of Y" forms first (written by the join, once
# the total is known), then the segment's own objects. A chunk of 250 rows uses about 1,300 numbers (2,100 with
# seven columns). The join numbers what else it writes after the last segment's.
CATALOG, PAGES, STRUCT_ROOT, DOCUMENT, PARENT_TREE, OUTLINES, BEFORE, AFTER, TABLE, BODY, STATIC_FORM = range(1, 12)
RESERVED = 12
STRIDE = 4096
# The largest object number that every common reader accepts: PDF 1.7's Annex C allows 8,388,607, but PDFium
# (Chrome's and Edge's viewer) refused numbers from 4,194,304 on until 2023. About 1,000 slots: 250,000 rows in
# chunks of 250.
MAX_OBJECT = 4_194_303
# qpdf (pikepdf) ignores the objects whose number is more than a third of the file's size ("at least 3 bytes are
# required" per object): a file whose ranges are mostly unused (tiny chunks) is padded to that size.
BYTES_PER_NUMBER = 3
# The piece whose first Table is the register's Table (plan(): the front matter, then the first chunk); every
# other Table continues it.
TABLE_SLOT = 1
Segment = dict[str, Any]


def slot_base(slot: int) -> int:
    """The first object number of a piece's range."""
    return RESERVED + slot * STRIDE


class _Section:
    """The cross-reference entries of a run of object numbers from `first`: per object, its kind (0 not written
    yet, 1 at an offset, 2 in an object stream), its offset or object stream, its index in that stream."""

    def __init__(self, first: int, count: int = 0) -> None:
        self.first = first
        self.kinds = bytearray(count)
        self.places = array.array("Q", bytes(8 * count))
        self.indexes = array.array("H", bytes(2 * count))

    @property
    def stop(self) -> int:
        return self.first + len(self.kinds)

    def pack(self) -> dict[str, str]:
        """The entries as text (JSON), offsets little-endian whatever the machine."""
        places, indexes = array.array("Q", self.places), array.array("H", self.indexes)
        if sys.byteorder == "big":
            places.byteswap()
            indexes.byteswap()
        values = {"kinds": bytes(self.kinds), "places": places.tobytes(), "indexes": indexes.tobytes()}
        return {name: base64.b64encode(value).decode() for name, value in values.items()}

    def extend(self, packed: dict[str, str], shift: int) -> None:
        """Packed entries added, their offsets moved by `shift`."""
        kinds = base64.b64decode(packed["kinds"])
        places, indexes = array.array("Q"), array.array("H")
        places.frombytes(base64.b64decode(packed["places"]))
        indexes.frombytes(base64.b64decode(packed["indexes"]))
        if sys.byteorder == "big":
            places.byteswap()
            indexes.byteswap()
        if not len(kinds) == len(places) == len(indexes):
            raise ValueError("A segment's cross-reference entries do not agree")
        at = kinds.find(1)
        while at >= 0:
            places[at] += shift
            at = kinds.find(1, at + 1)
        self.kinds += kinds
        self.places += places
        self.indexes += indexes


class _Writer:
    """PDF objects written as they go, from offset 0 of `out`. Each object is numbered in advance (`reserve`, from
    the range `open` gives), so that others can refer to it before it is written; a stream is written at once,
    other objects are packed OBJECTS_PER_STREAM at a time into compressed object streams. Keeps 11 bytes per object
    (where it is, in _Sections) and one object stream's objects. A segment is what such a writer writes for a
    piece; the join's writer copies segments (`copy`) and ends the file with a cross-reference stream (`finish`)."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.position = 0
        self.digest = hashlib.sha256()
        self.sections: list[_Section] = []
        self.pending: list[tuple[int, bytes]] = []

    def open(self, first: int, limit: int, full: str) -> None:
        """Number the objects reserved from now on from `first`; past `limit`, fail with the message `full`."""
        self.current = self._section(first)
        self.limit = limit
        self.full = full

    def _section(self, first: int, count: int = 0) -> _Section:
        section = _Section(first, count)
        bisect.insort(self.sections, section, key=lambda item: item.first)
        return section

    def emit(self, data: bytes) -> None:
        self.out.write(data)
        self.digest.update(data)
        self.position += len(data)

    def reserve(self) -> int:
        number = self.current.stop
        if number >= self.limit:
            raise ValueError(self.full)
        self.current.kinds.append(0)
        self.current.places.append(0)
        self.current.indexes.append(0)
        return number

    def _place(self, number: int, kind: int, place: int, index: int = 0) -> None:
        section = self.sections[bisect.bisect_right(self.sections, number, key=lambda item: item.first) - 1]
        if not section.first <= number < section.stop:
            raise RuntimeError(f"Object {number} was written but never numbered")
        at = number - section.first
        section.kinds[at], section.places[at], section.indexes[at] = kind, place, index

    def add(self, number: int, body: bytes) -> None:
        self.pending.append((number, body))
        if len(self.pending) >= OBJECTS_PER_STREAM:
            self.flush()

    def add_stream(self, number: int, dictionary: bytes, data: bytes) -> None:
        """A stream: `dictionary` is its dictionary's text without /Length."""
        self._place(number, 1, self.position)
        head = dictionary.rstrip()[:-2].rstrip()
        self.emit(b"%d 0 obj\n%s /Length %d >>\nstream\n" % (number, head, len(data)))
        self.emit(data)
        self.emit(b"\nendstream\nendobj\n")

    def flush(self) -> None:
        """The objects waiting, written as an object stream."""
        if not self.pending:
            return
        number = self.reserve()
        offsets, at = [], 0
        for index, (member, body) in enumerate(self.pending):
            self._place(member, 2, number, index)
            offsets.append(b"%d %d" % (member, at))
            at += len(body) + 1
        header = b" ".join(offsets) + b"\n"
        data = zlib.compress(header + b"\n".join(body for _, body in self.pending) + b"\n")
        dictionary = b"<< /Filter /FlateDecode /First %d /N %d /Type /ObjStm >>" % (len(header), len(self.pending))
        self.pending = []
        self.add_stream(number, dictionary, data)

    def copy(self, segment: Segment, data: IO[bytes]) -> int:
        """A segment's bytes, as they are, and its entries, its offsets moved to where it now starts; the numbers
        of its range before them (its pages' forms) are left for this writer. Returns the number after its last."""
        forms = len(segment["pages"])
        section = self._section(segment["first"] - forms, forms)
        section.extend(segment["xref"], self.position)
        data.seek(0)
        copied = 0
        for block in iter(functools.partial(data.read, 1024 * 1024), b""):
            self.emit(block)
            copied += len(block)
        if copied != segment["size"]:
            raise ValueError(f"Segment {segment['slot']} has {copied} bytes, not {segment['size']}")
        return section.stop

    def finish(self, *, root: int, info: int | None, identifier: bytes) -> None:
        """The cross-reference stream and trailer: its /Index lists the sections, not the numbers between them.
        The /ID's first half is `identifier`, its second a digest of the bytes before it (deterministic: the same
        document, the same /ID)."""
        self.flush()
        for section in self.sections:
            if 0 in section.kinds:
                missing = section.first + section.kinds.index(0)
                raise RuntimeError(f"Object {missing} was numbered but never written")
        number = self.reserve()
        padding = BYTES_PER_NUMBER * (number + 1) - self.position
        for _ in range(0, padding, 80):
            self.emit(b"%" + b" " * 78 + b"\n")
        start = self.position
        self._place(number, 1, start)
        second = self.digest.digest()[:16]
        # Wide enough for an offset and for an object stream's number.
        size = max(section.stop for section in self.sections)
        width = max(1, (max(start, size).bit_length() + 7) // 8)
        compressor = zlib.compressobj()
        # Object 0, the head of the (empty) list of free objects, starts the first section.
        chunks = [compressor.compress(b"\x00" + bytes(width) + b"\xff\xff")]
        index = []
        for section in self.sections:
            index.append(
                b"%d %d" % ((0, len(section.kinds) + 1) if section.first == 1 else (section.first, len(section.kinds)))
            )
            for first in range(0, len(section.kinds), 4096):
                row = bytearray()
                for at in range(first, min(first + 4096, len(section.kinds))):
                    row.append(section.kinds[at])
                    row += section.places[at].to_bytes(width, "big") + section.indexes[at].to_bytes(2, "big")
                chunks.append(compressor.compress(bytes(row)))
        chunks.append(compressor.flush())
        ids = b"<%s> <%s>" % ((identifier or second).hex().encode(), second.hex().encode())
        info_entry = b" /Info %d 0 R" % info if info else b""
        trailer = (
            b"<< /Filter /FlateDecode /ID [ %s ] /Index [ %s ]%s /Root %d 0 R /Size %d /Type /XRef /W [ 1 %d 2 ] >>"
            % (
                ids,
                b" ".join(index),
                info_entry,
                root,
                size,
                width,
            )
        )
        self.add_stream(number, trailer, b"".join(chunks))
        self.emit(b"startxref\n%d\n%%%%EOF\n" % start)


class _Copier:
    """Copies to the writer the objects of one source document that the output reaches, each once, under new
    numbers: a reference is numbered (and its object queued) when first written; `preset` numbers an object that
    is written elsewhere, or stands for another (a continuation's rows' parent is the one Table's body);
    `copy_as` writes an object under a number given elsewhere."""

    def __init__(self, writer: _Writer, source: pikepdf.Pdf) -> None:
        self.writer = writer
        self.source = source
        self.numbers: dict[tuple[int, int], int] = {}
        self.queue: list[tuple[int, int]] = []

    def preset(self, item: Any, number: int) -> None:
        self.numbers[item.objgen] = number

    def copy_as(self, item: Any, number: int) -> None:
        self.numbers[item.objgen] = number
        self.queue.append(item.objgen)

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


def _with_kids(head: bytes, kids: Sequence[bytes]) -> bytes:
    """A dictionary's text (without /K) with /K added."""
    return _with(head, b"/K [ " + b" ".join(kids) + b" ]")


def _with(head: bytes, entries: bytes) -> bytes:
    """A dictionary's text with more entries."""
    return head.rstrip()[:-2].rstrip() + b" " + entries + b" >>"


def _text(data: bytes) -> str:
    """PDF syntax in JSON (a segment's metadata), byte for byte."""
    return data.decode("latin-1")


def _syntax(text: str) -> bytes:
    return text.encode("latin-1")


def _rows(table: Any) -> Iterator[Any]:
    """The body rows of a Table, in order: those in its parts other than the header, and any directly under it."""
    for part in _kids(table):
        if not _is_element(part) or part.S == "/THead":
            continue
        if part.S == "/TR":
            yield part
        else:
            yield from _children(part, "/TR")


def _name_headers(rows: Sequence[Any], headers: dict[str, str]) -> None:
    """The header cells a row's cells name, under their names in the one Table."""
    import pikepdf

    for row in rows:
        for cell in _children(row, "/TD"):
            attributes = cell.get("/A")
            if attributes is not None and "/Headers" in attributes:
                attributes.Headers = pikepdf.Array(
                    [pikepdf.String(headers.get(str(name), str(name))) for name in attributes.Headers]
                )


class _SegmentBuilder:
    """A piece's segment: its objects written in its slot's range of numbers, referring to the document-wide
    objects by their fixed numbers, so that they do not depend on any other piece. What the join needs is noted in
    the segment's metadata: its pages, parent tree entries, register rows, the Document's other kids, its outline;
    the first piece's catalog, structure root and Document (without what the join adds) and /Info; the Table's
    head from the piece that opens it."""

    def __init__(self, source: pikepdf.Pdf, slot: int, out: IO[bytes]) -> None:
        self.source = source
        self.slot = slot
        self.base = slot_base(slot)
        if self.base + STRIDE > MAX_OBJECT + 1:
            raise ValueError(
                f"The register has too many chunks for one PDF: piece {slot} would need object numbers above "
                f"{MAX_OBJECT}, which not every reader opens. Publish it in larger chunks (PUBLISH_CHUNK_ROWS)."
            )
        self.full = (
            f"Piece {slot} of the PDF needs more than the {STRIDE} object numbers of its range (pdf.STRIDE): "
            "render the register in smaller chunks"
        )
        self.writer = _Writer(out)
        self.writer.open(self.base + len(source.pages), self.base + STRIDE, self.full)
        self.copier = _Copier(self.writer, source)
        self.segment: Segment = {"slot": slot, "pages": [], "tree": [], "rows": [], "kids": [], "outline": []}

    def build(self) -> Segment:
        source, copier, segment = self.source, self.copier, self.segment
        struct_root = source.Root.StructTreeRoot
        document = _kids(struct_root)[0]
        copier.preset(document, DOCUMENT)
        copier.preset(struct_root, STRUCT_ROOT)
        numbers = _numbers(struct_root.ParentTree)
        if len(numbers) > STRIDE:
            raise ValueError(self.full)
        # Parent tree keys from the slot's first number: unique in the document, in the pieces' order.
        renumber = {old: self.base + index for index, old in enumerate(sorted(numbers))}
        for page in source.pages:
            self._renumber_page(page.obj, renumber)
        if self.slot == 0:
            info = source.trailer.get("/Info")
            segment["head"] = {
                "version": max(source.pdf_version, "1.5"),
                "catalog": _text(copier.without(source.Root, "/Outlines")),
                "root": _text(copier.without(struct_root, "/ParentTree", "/ParentTreeNextKey")),
                "document": _text(copier.without(document, "/K")),
                "info": copier.ref(info) if info is not None else None,
            }
        segment["outline"] = _outline(source, document, 0)
        artifacts = self._join_tables(document)
        nulls = {}
        for index, page in enumerate(source.pages):
            mcids = artifacts.get(page.obj.objgen)
            if mcids:
                nulls[int(page.obj.StructParents)] = mcids
            self._add_page(page.obj, mcids, self.base + index)
        for old in sorted(numbers):
            self._add_parent_tree_entry(renumber[old], numbers[old], nulls.get(renumber[old]))
        copier.drain()
        self.writer.flush()
        segment |= {"first": self.writer.current.first, "size": self.writer.position}
        segment["xref"] = self.writer.current.pack()
        return segment

    def _renumber_page(self, page: Any, renumber: dict[int, int]) -> None:
        """A page's keys in the parent tree renumbered; its parents are the one Pages node, and what it inherits
        from them its own."""
        if "/StructParents" in page:
            page.StructParents = renumber[int(page.StructParents)]
        for annotation in page.get("/Annots", []):
            if "/StructParent" in annotation:
                annotation.StructParent = renumber[int(annotation.StructParent)]
        parent = page.get("/Parent")
        while parent is not None:
            self.copier.preset(parent, PAGES)
            for key in _INHERITED:
                if key not in page and key in parent:
                    page[key] = parent[key]
            parent = parent.get("/Parent")

    def _add_page(self, page: Any, mcids: set[int] | None, number_form: int) -> None:
        """A page with its furniture: its content between the two furniture streams, its resources (its own,
        as each names its own page number) with the two forms."""
        import pikepdf

        source = self.source

        def stand_in(number: int) -> Any:
            # An object of the piece that stands for one written by the join (the furniture).
            item = source.make_indirect(pikepdf.Dictionary())
            self.copier.preset(item, number)
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
        page.Contents = pikepdf.Array([stand_in(BEFORE), *parts, stand_in(AFTER)])
        resources = page.get("/Resources")
        own = pikepdf.Dictionary(dict(resources.items()) if resources is not None else {})
        xobjects = own.get("/XObject")
        own.XObject = pikepdf.Dictionary(
            {
                **(dict(xobjects.items()) if xobjects is not None else {}),
                "/FurnitureAll": stand_in(STATIC_FORM),
                "/FurnitureNumber": stand_in(number_form),
            }
        )
        page.Resources = own
        self.segment["pages"].append(self.copier.ref(page))

    def _add_parent_tree_entry(self, key: int, value: Any, nulls: set[int] | None) -> None:
        """An entry of the parent tree, written now (as an object of its own), its key and number noted."""
        import pikepdf

        if isinstance(value, pikepdf.Array):
            if nulls:
                value = pikepdf.Array([None if index in nulls else item for index, item in enumerate(value)])
            number = self.writer.reserve()
            self.writer.add(number, self.copier.text(value, resolved=True))
        elif getattr(value, "is_indirect", False):
            number = self.copier.ref(value)
        else:
            number = self.writer.reserve()
            self.writer.add(number, self.copier.text(value, resolved=True))
        self.segment["tree"].append([key, number])

    def _join_tables(self, document: Any) -> dict[tuple[int, int], set[int]]:
        """One Table for the register: WeasyPrint (and our chunks) start a Table on every page. The first Table of
        the piece in TABLE_SLOT is the one Table (TABLE), its last body the one body (BODY); the rows of every other
        Table move into that body (their parent is written as BODY), its repeated header row is kept on the page
        but tagged as an artifact. Header cells are named by their place in the header row, in every piece, so
        that a row names its headers without knowing the first piece's. Returns {page objgen: MCIDs to turn into
        artifacts}."""
        copier = self.copier
        artifacts: dict[tuple[int, int], set[int]] = {}
        for kid in _kids(document):
            if not (_is_element(kid) and kid.S == "/Table"):
                self.segment["kids"].append(_text(copier.text(kid)))
                continue
            # The one Table, which the join writes once for a run of Tables.
            self.segment["kids"].append(None)
            headers = {name: f"th-{index}" for index, name in enumerate(_header_ids(kid))}
            if self.slot == TABLE_SLOT and "table" not in self.segment:
                self._open_table(kid, headers)
                continue
            rows = list(_rows(kid))
            for part in _children(kid, "/THead"):
                for page, mcid in _marked_content(part):
                    artifacts.setdefault(page.objgen, set()).add(mcid)
            for container in [kid, *(part for part in _kids(kid) if _is_element(part) and part.S != "/THead")]:
                copier.preset(container, BODY)
            _name_headers(rows, headers)
            self.segment["rows"] += [copier.ref(row) for row in rows]
        return artifacts

    def _open_table(self, element: Any, headers: dict[str, str]) -> None:
        import pikepdf

        copier = self.copier
        copier.preset(element, TABLE)
        for head in _children(element, "/THead"):
            for row in _children(head, "/TR"):
                for cell in _children(row, "/TH"):
                    cell.ID = pikepdf.String(headers[str(cell.get("/ID", ""))])
        _name_headers(list(_rows(element)), headers)
        bodies = _children(element, "/TBody")
        body = bodies[-1] if bodies else None
        if body is not None:
            copier.preset(body, BODY)
        self.segment["table"] = {
            "head": _text(copier.without(element, "/K")),
            "kids": [_text(copier.text(kid)) for kid in _kids(element)],
            "body_head": _text(copier.without(body, "/K")) if body is not None else None,
            "body_kids": [_text(copier.text(kid)) for kid in _kids(body)] if body is not None else [],
        }


def build_segment(piece: IO[bytes], slot: int, out: IO[bytes]) -> Segment:
    """Write the segment of the piece in `slot` to `out` (from its first byte) and return its metadata (JSON-able),
    which the join reads with it. It depends on the piece and its slot only."""
    import pikepdf

    piece.seek(0)
    with pikepdf.open(cast(BinaryIO, piece)) as source:
        return _SegmentBuilder(source, slot, out).build()


def join(
    segments: Iterable[tuple[Segment, IO[bytes]]],
    *,
    static: IO[bytes],
    numbers: Sequence[IO[bytes]],
    out: IO[bytes],
    identifier: bytes = b"",
) -> int:
    """Write the document from its pieces' segments, in slot order (each its metadata and its bytes, read one at a
    time): the header, each segment's bytes as they are, then the document-wide objects: the furniture (`static`,
    one page stamped on every page, and the page numbers' renders, as many pages as the document), the catalog, the
    Pages node, the structure root, the Document and its kids, the one Table and its body with every row, the
    parent tree and the outline; then the cross-reference stream. `out` must be empty, as offsets count from its
    first byte. Returns the number of pages."""
    import pikepdf

    writer = _Writer(out)
    writer.open(1, RESERVED, "Too many fixed numbers")
    for _ in range(1, RESERVED):
        writer.reserve()
    pages, tree_keys, tree_values, rows = array.array("Q"), array.array("Q"), array.array("Q"), array.array("Q")
    # Per piece: the first number of its range and its number of pages (where their forms go).
    forms: list[tuple[int, int]] = []
    kids: list[bytes] = []
    outline: list[tuple[int, str, int, float]] = []
    head: dict[str, Any] = {}
    table: dict[str, Any] | None = None
    table_ref = b"%d 0 R" % TABLE
    stop = RESERVED
    for slot, (segment, data) in enumerate(segments):
        if segment["slot"] != slot:
            raise ValueError(f"Segment {segment['slot']} is in slot {slot}")
        if slot == 0:
            head = segment["head"]
            writer.emit(b"%PDF-" + head["version"].encode() + b"\n%\xbf\xf7\xa2\xfe\n")
        stop = writer.copy(segment, data)
        forms.append((slot_base(slot), len(segment["pages"])))
        outline += [(level, title, len(pages) + page, top) for level, title, page, top in segment["outline"]]
        pages.extend(segment["pages"])
        for key, value in segment["tree"]:
            tree_keys.append(key)
            tree_values.append(value)
        rows.extend(segment["rows"])
        for kid in segment["kids"]:
            if kid is not None:
                kids.append(_syntax(kid))
            elif table_ref not in kids:
                kids.append(table_ref)
            elif kids[-1] != table_ref:
                raise ValueError("The document has more than one table: the register's must be the only one")
        table = segment.get("table", table)
    if not head:
        raise ValueError("A document needs at least one piece")
    writer.open(
        stop, MAX_OBJECT + 1, f"The document needs object numbers above {MAX_OBJECT}, which not every reader opens"
    )
    writer.add_stream(BEFORE, b"<< >>", _FURNITURE_BEFORE)
    writer.add_stream(AFTER, b"<< /Filter /FlateDecode >>", zlib.compress(_FURNITURE_AFTER))
    static.seek(0)
    with pikepdf.open(cast(BinaryIO, static)) as source:
        if len(source.pages) != 1:
            raise ValueError(f"The furniture's running header and footer has {len(source.pages)} pages, not 1")
        copier = _Copier(writer, source)
        copier.copy_as(source.pages[0].as_form_xobject(), STATIC_FORM)
        copier.drain()
    _write_number_forms(writer, numbers, forms)
    _write_table(writer, table, rows)
    writer.add(DOCUMENT, _with_kids(_syntax(head["document"]), kids))
    next_key = tree_keys[-1] + 1 if tree_keys else 0
    entries = b"/ParentTree %d 0 R /ParentTreeNextKey %d" % (PARENT_TREE, next_key)
    writer.add(STRUCT_ROOT, _with(_syntax(head["root"]), entries))
    nums = b" ".join(b"%d %d 0 R" % pair for pair in zip(tree_keys, tree_values, strict=True))
    writer.add(PARENT_TREE, b"<< /Nums [ " + nums + b" ] >>")
    page_kids = b" ".join(b"%d 0 R" % number for number in pages)
    writer.add(PAGES, b"<< /Count %d /Kids [ %s ] /Type /Pages >>" % (len(pages), page_kids))
    _write_outline(writer, OUTLINES, outline, pages)
    writer.add(CATALOG, _with(_syntax(head["catalog"]), b"/Outlines %d 0 R" % OUTLINES))
    writer.finish(root=CATALOG, info=head["info"], identifier=identifier)
    return len(pages)


def _write_number_forms(writer: _Writer, files: Sequence[IO[bytes]], forms: Sequence[tuple[int, int]]) -> None:
    """Each page's "Page X of Y", from the page numbers' renders (opened one at a time), as a form XObject at the
    number its segment gave it: the first numbers of the piece's range."""
    import pikepdf

    numbers = (base + index for base, count in forms for index in range(count))
    total = sum(count for _, count in forms)
    for file in files:
        file.seek(0)
        with pikepdf.open(cast(BinaryIO, file)) as source:
            # One copier per render: what its forms share (its fonts) is written once.
            copier = _Copier(writer, source)
            for page in source.pages:
                number = next(numbers, None)
                if number is None:
                    raise ValueError(f"The furniture has more numbered pages than the document's {total}")
                copier.copy_as(page.as_form_xobject(), number)
                copier.drain()
    if next(numbers, None) is not None:
        raise ValueError("The furniture has fewer numbered pages than the document")


def _write_table(writer: _Writer, table: dict[str, Any] | None, rows: Sequence[int]) -> None:
    """The one Table (TABLE) and its body (BODY): the body's own rows, then every row moved into it. A number not
    used (no table, or a table without rows) is written as null."""
    if table is None:
        if rows:
            raise ValueError(f"The register's rows continue a Table that the piece in slot {TABLE_SLOT} does not start")
        writer.add(TABLE, b"null")
        writer.add(BODY, b"null")
        return
    kids = [_syntax(kid) for kid in table["kids"]]
    body_head = table["body_head"]
    if body_head is None and rows:
        kids.append(b"%d 0 R" % BODY)
    writer.add(TABLE, _with_kids(_syntax(table["head"]), kids))
    if body_head is None and not rows:
        writer.add(BODY, b"null")
        return
    head = _syntax(body_head) if body_head is not None else b"<< /P %d 0 R /S /TBody /Type /StructElem >>" % TABLE
    body_kids = [_syntax(kid) for kid in table["body_kids"]] + [b"%d 0 R" % row for row in rows]
    writer.add(BODY, _with_kids(head, body_kids))


def assemble(pieces: Sequence[IO[bytes]], *, furniture: Furniture, out: IO[bytes], identifier: bytes = b"") -> int:
    """Join tagged WeasyPrint PDFs into one and stamp the running header and footer, `furniture(total)`: the
    static part (one page, stamped on every page) and the page numbers (as many pages as the document), each as
    an artifact. Builds each piece's segment (in a temporary file), then joins them. Returns the number of pages."""
    with contextlib.ExitStack() as stack:
        segments = []
        for slot, piece in enumerate(pieces):
            data = stack.enter_context(tempfile.TemporaryFile())
            segments.append((build_segment(piece, slot, data), data))
        static, numbers = furniture(sum(len(segment["pages"]) for segment, _ in segments))
        return join(segments, static=static, numbers=numbers, out=out, identifier=identifier)
