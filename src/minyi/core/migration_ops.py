"""Migration operations that keep a busy database writable while they run."""

from __future__ import annotations

from django.db import migrations


class AddIndexOnline(migrations.AddIndex):
    """`AddIndex` that, on PostgreSQL, builds the index with CREATE INDEX CONCURRENTLY: the table
    stays writable while tens of millions of rows are read (intake does not stop for an upgrade).
    Elsewhere a plain CREATE INDEX. A migration using it sets `atomic = False`."""

    def _concurrently(self, app_label, schema_editor, state, method: str) -> bool:
        """On PostgreSQL, run `schema_editor.<method>` (add_index, remove_index) concurrently
        and say so; elsewhere do nothing and return False."""
        if schema_editor.connection.vendor != "postgresql":
            return False
        model = state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            getattr(schema_editor, method)(model, self.index, concurrently=True)
        return True

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if not self._concurrently(app_label, schema_editor, to_state, "add_index"):
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if not self._concurrently(app_label, schema_editor, from_state, "remove_index"):
            super().database_backwards(app_label, schema_editor, from_state, to_state)
