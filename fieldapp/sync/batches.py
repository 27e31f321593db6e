"""The batch format shared by a site and the central store: canonical JSON, content hash, Ed25519 signature.

A batch is the outbox records between two sequence numbers of one site:

    {"format": "fieldapp-batch/1", "site_id": "...", "first_seq": 1, "last_seq": 500,
     "records": [{"seq": 1, "kind": "person", "id": "...", "recorded_at": "...", "payload": {...}}, ...],
     "hash": "<sha256 hex of the canonical JSON of records>"}

The site signs the canonical JSON of the whole batch (hash included) with its Ed25519 private key,
and the central store verifies it with the public key it stored at enrolment, so a batch altered
in transit or sent with another site's key is rejected. Canonical JSON is UTF-8 with sorted keys
and no spaces, so both sides hash the same bytes.
"""

import base64
import hashlib
import json

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

FORMAT = "fieldapp-batch/1"
KINDS = ("person", "exam_round", "site", "invitation", "visit", "observation", "conclusion")


class BatchError(ValueError):
    """A batch that is malformed, altered, or signed with a key that does not match."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


def canonical(value: object) -> bytes:
    """Return the canonical JSON bytes of a value: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def content_hash(records: list[dict]) -> str:
    return hashlib.sha256(canonical(records)).hexdigest()


def hash_matches(records: list[dict], expected: object) -> bool:
    """Return True when expected is the content hash of records.

    orjson writes the same bytes as canonical() for the records sites send, and faster. Where the two
    differ (some floats, integers beyond 64 bits), canonical() decides.
    """
    try:
        if hashlib.sha256(orjson.dumps(records, option=orjson.OPT_SORT_KEYS)).hexdigest() == expected:
            return True
    except orjson.JSONEncodeError:
        pass
    return content_hash(records) == expected


def make_batch(site_id: str, records: list[dict]) -> dict:
    """Return a batch of outbox records, which must be in sequence order and not empty."""
    if not records:
        raise ValueError("a batch needs at least one record")
    return {"format": FORMAT, "site_id": site_id, "first_seq": records[0]["seq"],
            "last_seq": records[-1]["seq"], "records": records, "hash": content_hash(records)}


def check_batch(batch: dict) -> None:
    """Raise BatchError unless the batch is well formed and its records match its hash and range."""
    if not isinstance(batch, dict) or batch.get("format") != FORMAT:
        raise BatchError("batch_format", str(batch.get("format") if isinstance(batch, dict) else type(batch)))
    records = batch.get("records")
    if not isinstance(records, list) or not records:
        raise BatchError("batch_empty")
    if not hash_matches(records, batch.get("hash")):
        raise BatchError("batch_hash")
    sequence = [record.get("seq") for record in records]
    if sequence != sorted(sequence) or len(set(sequence)) != len(sequence):
        raise BatchError("batch_order")
    if sequence[0] != batch.get("first_seq") or sequence[-1] != batch.get("last_seq"):
        raise BatchError("batch_range")
    for record in records:
        if record.get("kind") not in KINDS or not record.get("id") or not isinstance(record.get("payload"), dict):
            raise BatchError("batch_record", str(record.get("seq")))


# Keys and signatures.

def new_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_key_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def load_private_key(pem: bytes) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise BatchError("key_type")
    return key


def public_key_text(key: Ed25519PrivateKey) -> str:
    """Return the public half of a site key as base64 of its 32 raw bytes, as the central store keeps it."""
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def sign(key: Ed25519PrivateKey, body: bytes) -> str:
    return base64.b64encode(key.sign(body)).decode("ascii")


def verify(public_key: str, body: bytes, signature: str) -> None:
    """Raise BatchError("signature") unless the signature of the body matches the public key."""
    try:
        Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key)).verify(base64.b64decode(signature), body)
    except (InvalidSignature, ValueError) as error:
        raise BatchError("signature") from error
