"""Evidence files (佐证材料), stored by content: the file's SHA-256 is its name on disk
(``<state>/evidence/ab/abcdef…``), so nothing the uploader named reaches the file system, the same file
uploaded twice is kept once, and the package manifest can name each file by its hash. The type is read from
the content (magic bytes), never trusted from the name."""

import hashlib
import os
import tempfile
import zipfile
from pathlib import Path

from django.conf import settings

from portal.models import EVIDENCE_KINDS

ENDINGS = {  # kind -> the file name endings it may carry
    "pdf": (".pdf",),
    "png": (".png",),
    "jpeg": (".jpg", ".jpeg"),
    "docx": (".docx",),
    "xlsx": (".xlsx",),
    "pptx": (".pptx",),
    "ole": (".doc", ".xls", ".ppt"),
}
LABELS = dict(EVIDENCE_KINDS)
ALLOWED = "、".join(e for ends in ENDINGS.values() for e in ends)


class EvidenceError(ValueError):
    pass


def sniff(path: Path) -> str | None:
    """The kind of a file from its first bytes (and, for the zip-based Office formats, its parts)."""
    with open(path, "rb") as f:
        head = f.read(16)
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as z:
                names = set(z.namelist())
        except zipfile.BadZipFile:
            return None
        if "[Content_Types].xml" in names:
            for kind, folder in (("docx", "word/"), ("xlsx", "xl/"), ("pptx", "ppt/")):
                if any(n.startswith(folder) for n in names):
                    return kind
    return None


def store(upload) -> tuple[str, str, int]:
    """Keep an uploaded file (a Django UploadedFile). Returns (sha256, kind, size); raises EvidenceError with
    what was wrong, in Chinese, for the clerk who uploaded it."""
    limit = settings.PORTAL_UPLOAD_MAX_BYTES
    if upload.size > limit:
        raise EvidenceError(f"文件 {upload.name} 为 {upload.size / 2**20:.1f} MB，超过上限 {limit / 2**20:.0f} MB")
    root = Path(settings.PORTAL_EVIDENCE_DIR)
    root.mkdir(parents=True, exist_ok=True)
    h, size = hashlib.sha256(), 0
    fd, tmp = tempfile.mkstemp(dir=root, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in upload.chunks():
                size += len(chunk)
                if size > limit:
                    raise EvidenceError(f"文件 {upload.name} 超过上限 {limit / 2**20:.0f} MB")
                h.update(chunk)
                out.write(chunk)
        kind = sniff(Path(tmp))
        if kind is None:
            raise EvidenceError(f"文件 {upload.name} 的内容不是可接受的类型（可上传：{ALLOWED}）")
        ending = Path(upload.name).suffix.lower()
        if ending not in ENDINGS[kind]:
            raise EvidenceError(
                f"文件 {upload.name} 的内容是{LABELS[kind]}，与扩展名 {ending or '（无）'} 不符，请检查后重新上传"
            )
        digest = h.hexdigest()
        target = path_of(digest)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            os.unlink(tmp)
        else:
            os.replace(tmp, target)
        return digest, kind, size
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def path_of(sha256: str) -> Path:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise EvidenceError("not a SHA-256")
    return Path(settings.PORTAL_EVIDENCE_DIR) / sha256[:2] / sha256


CONTENT_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "ole": "application/octet-stream",
}
