"""The batch format: canonical JSON, content hash, range checks and Ed25519 signatures."""

import copy

import pytest

from fieldapp.sync import batches
from fieldapp.sync.batches import BatchError


def records(first: int = 1, count: int = 3) -> list[dict]:
    return [{"seq": seq, "kind": "observation", "id": f"obs-{seq}", "recorded_at": "2026-10-15T08:00:00+07:00",
             "payload": {"item": "pulse", "value_num": 70.0 + seq, "note": "Mạch"}} for seq in range(first, first + count)]


def test_canonical_is_sorted_and_compact():
    assert batches.canonical({"b": 1, "a": "Đ"}) == '{"a":"Đ","b":1}'.encode()


def test_make_batch_sets_range_and_hash():
    batch = batches.make_batch("site-1", records(5, 4))

    assert batch["first_seq"] == 5
    assert batch["last_seq"] == 8
    assert batch["hash"] == batches.content_hash(batch["records"])
    batches.check_batch(batch)


@pytest.mark.parametrize(("change", "code"), [
    (lambda b: b["records"][1]["payload"].update(value_num=999.0), "batch_hash"),
    (lambda b: b.update(format="other/1"), "batch_format"),
    (lambda b: b.update(last_seq=99), "batch_range"),
    (lambda b: b.update(records=[], hash=batches.content_hash([])), "batch_empty"),
])
def test_check_batch_rejects(change, code):
    batch = batches.make_batch("site-1", records())
    change(batch)

    with pytest.raises(BatchError) as raised:
        batches.check_batch(batch)

    assert raised.value.code == code


def test_check_batch_rejects_unknown_kind_even_with_right_hash():
    bad = records()
    bad[0]["kind"] = "staff"

    with pytest.raises(BatchError) as raised:
        batches.check_batch(batches.make_batch("site-1", bad))

    assert raised.value.code == "batch_record"


def test_signature_verifies_with_own_key_only():
    key, other = batches.new_private_key(), batches.new_private_key()
    body = batches.canonical(batches.make_batch("site-1", records()))
    signature = batches.sign(key, body)

    batches.verify(batches.public_key_text(key), body, signature)
    with pytest.raises(BatchError):
        batches.verify(batches.public_key_text(other), body, signature)


def test_rehashed_alteration_fails_signature():
    key = batches.new_private_key()
    batch = batches.make_batch("site-1", records())
    signature = batches.sign(key, batches.canonical(batch))
    altered = copy.deepcopy(batch)
    altered["records"][0]["payload"]["value_num"] = 200.0
    altered["hash"] = batches.content_hash(altered["records"])

    batches.check_batch(altered)
    with pytest.raises(BatchError) as raised:
        batches.verify(batches.public_key_text(key), batches.canonical(altered), signature)

    assert raised.value.code == "signature"


def test_private_key_round_trips_through_pem():
    key = batches.new_private_key()

    loaded = batches.load_private_key(batches.private_key_pem(key))

    assert batches.public_key_text(loaded) == batches.public_key_text(key)
