"""A model field whose values are encrypted at rest (see `crypto`)."""

from __future__ import annotations

from django.core.exceptions import FieldError
from django.db import models
from django.db.models.lookups import Exact, IsNull

from minyi.privacy.crypto import is_sealed, open_sealed, seal


class EmptyOnlyExact(Exact):
    """Sealed values differ at every write (a random nonce): only "is it empty" can be asked in
    SQL. Search by the keyed hash columns instead."""

    def get_prep_lookup(self):
        if self.rhs not in ("", None):
            raise FieldError("an encrypted field can only be compared with the empty string")
        return super().get_prep_lookup()


class EncryptedTextField(models.TextField):
    """Text sealed with AES-GCM under the current key, opened on read; "" stays "". The
    associated data is ``app_label.model.field``."""

    def contribute_to_class(self, cls, name, *args, **kwargs):
        super().contribute_to_class(cls, name, *args, **kwargs)
        self.associated_data = f"{cls._meta.label_lower}.{name}"

    def from_db_value(self, value, expression, connection):
        if value is None:
            return value
        return open_sealed(value, self.associated_data)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "" or is_sealed(value):
            return value
        return seal(value, self.associated_data)

    def get_lookup(self, lookup_name):
        if lookup_name == "exact":
            return EmptyOnlyExact
        if lookup_name == "isnull":
            return IsNull
        return None
