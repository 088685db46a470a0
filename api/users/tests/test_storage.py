"""What the database holds: never the Aadhaar number, only ciphertext that rotation can rewrite."""

import base64
import os
import re
import uuid
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings

from api.users import aadhaar
from api.users.models import User
from api.users.tests.conftest import PASSWORD, bearer
from api.users.tests.test_aadhaar import unbound_encrypt

pytestmark = pytest.mark.django_db

NUMBER = "234567890124"


def raw_columns(user: User) -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT aadhaar_ciphertext, aadhaar_key_id, aadhaar_index, aadhaar_last4"
            " FROM users_user WHERE id = %s",
            [user.pk],
        )
        row = cursor.fetchone()
    return dict(zip(["ciphertext", "key_id", "index", "last4"], row, strict=True))


def database_text() -> str:
    """Every row of every table as text."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
        )
        tables = [name for (name,) in cursor.fetchall()]
        dumps = []
        for table in tables:
            cursor.execute(f'SELECT row_to_json(t)::text FROM "{table}" t')  # noqa: S608
            dumps.extend(text for (text,) in cursor.fetchall())
    return "\n".join(dumps)


def test_the_number_is_nowhere_in_the_database(client, make_user, login):
    user = make_user(aadhaar="2345 6789 0124")
    auth = bearer(login(user.email)["access"])
    reveal = client.post("/api/users/profile/reveal-aadhaar/", {"password": PASSWORD}, **auth)
    assert reveal.status_code == 200

    columns = raw_columns(user)
    assert not re.search(r"[0-9]{12}", columns["ciphertext"])
    assert columns["last4"] == "0124"
    assert columns["index"] == aadhaar.blind_index(NUMBER)
    dump = database_text()
    assert user.email in dump  # the dump does hold the user's row
    assert NUMBER not in dump and "2345 6789 0124" not in dump


def test_equal_numbers_encrypt_differently():
    ciphertexts = {aadhaar.encrypt(NUMBER, user_id=uuid.uuid4())[0] for _ in range(20)}

    assert len(ciphertexts) == 20


def call_and_capture(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def test_rotation_re_encrypts_under_the_newest_key(make_user):
    old_kid = aadhaar.key_ring().newest_key_id
    users = [make_user() for _ in range(3)]
    before = {user.pk: raw_columns(user) for user in users}
    numbers = {
        user.pk: aadhaar.decrypt(user.aadhaar_ciphertext, user.aadhaar_key_id, user_id=user.pk)
        for user in users
    }

    with override_settings(AADHAAR_KEYS=f"k-new:{new_key()},{settings.AADHAAR_KEYS}"):
        # Before rotation, rows under the old key still decrypt, and new rows use the new key.
        for user in users:
            assert (
                aadhaar.decrypt(user.aadhaar_ciphertext, user.aadhaar_key_id, user_id=user.pk)
                == numbers[user.pk]
            )
        fresh = make_user()
        fresh_before = raw_columns(fresh)
        assert fresh_before["key_id"] == "k-new"

        out = call_and_capture("aadhaar_rotate_keys", "--batch-size", "2")

        assert "3 Aadhaar numbers to re-encrypt under key 'k-new'" in out
        assert "  2/3\n  3/3\n" in out
        assert "Re-encrypted 3 Aadhaar numbers" in out
        for user in users:
            after = raw_columns(user)
            assert after["key_id"] == "k-new" != old_kid
            assert after["ciphertext"] != before[user.pk]["ciphertext"]
            assert after["index"] == before[user.pk]["index"]
            assert (
                aadhaar.decrypt(after["ciphertext"], after["key_id"], user_id=user.pk)
                == numbers[user.pk]
            )
        assert raw_columns(fresh) == fresh_before

        assert "Re-encrypted 0 Aadhaar numbers" in call_and_capture("aadhaar_rotate_keys")


def test_reveal_works_across_a_rotation(client, make_user, login):
    user = make_user(aadhaar="2345 6789 0124")
    auth = bearer(login(user.email)["access"])
    url = "/api/users/profile/reveal-aadhaar/"

    with override_settings(AADHAAR_KEYS=f"k-new:{new_key()},{settings.AADHAAR_KEYS}"):
        assert client.post(url, {"password": PASSWORD}, **auth).json()["aadhaar"] == (
            "2345 6789 0124"
        )
        call_and_capture("aadhaar_rotate_keys")
        assert client.post(url, {"password": PASSWORD}, **auth).json()["aadhaar"] == (
            "2345 6789 0124"
        )


def test_rotation_binds_values_written_before_the_user_binding(make_user):
    users = [make_user() for _ in range(3)]
    numbers = {}
    for user in users:
        numbers[user.pk] = aadhaar.decrypt(
            user.aadhaar_ciphertext, user.aadhaar_key_id, user_id=user.pk
        )
        ciphertext, kid = unbound_encrypt(numbers[user.pk])
        User.objects.filter(pk=user.pk).update(aadhaar_ciphertext=ciphertext, aadhaar_key_id=kid)
    current = make_user()
    current_before = raw_columns(current)

    out = call_and_capture("aadhaar_rotate_keys", "--batch-size", "2")

    assert "3 Aadhaar numbers to re-encrypt" in out
    assert "Re-encrypted 3 Aadhaar numbers" in out
    for user in users:
        after = raw_columns(user)
        assert after["ciphertext"].startswith("v2:")
        assert (
            aadhaar.decrypt(after["ciphertext"], after["key_id"], user_id=user.pk)
            == (numbers[user.pk])
        )
    assert raw_columns(current) == current_before
    assert "Re-encrypted 0 Aadhaar numbers" in call_and_capture("aadhaar_rotate_keys")


def test_rotation_leaves_copied_ciphertexts_alone_and_names_their_users(make_user):
    asha, ravi, meera, kiran = (make_user() for _ in range(4))
    # A bound value copied onto another row, and an old unbound value copied onto another row.
    User.objects.filter(pk=asha.pk).update(aadhaar_ciphertext=ravi.aadhaar_ciphertext)
    meera_number = aadhaar.decrypt(meera.aadhaar_ciphertext, meera.aadhaar_key_id, user_id=meera.pk)
    unbound, kid = unbound_encrypt(meera_number)
    User.objects.filter(pk=kiran.pk).update(aadhaar_ciphertext=unbound, aadhaar_key_id=kid)
    copied = {asha.pk: raw_columns(asha), kiran.pk: raw_columns(kiran)}

    with override_settings(AADHAAR_KEYS=f"k-new:{new_key()},{settings.AADHAAR_KEYS}"):
        out = StringIO()
        with pytest.raises(CommandError, match="2 Aadhaar ciphertexts failed authentication"):
            call_command("aadhaar_rotate_keys", "--batch-size", "1", stdout=out)

        assert "Re-encrypted 2 Aadhaar numbers under key 'k-new'" in out.getvalue()
        assert raw_columns(ravi)["key_id"] == raw_columns(meera)["key_id"] == "k-new"
        for pk, before in copied.items():
            assert raw_columns(User(pk=pk)) == before
        with pytest.raises(CommandError) as again:
            call_command("aadhaar_rotate_keys", stdout=StringIO())
        assert str(asha.pk) in str(again.value) and str(kiran.pk) in str(again.value)
