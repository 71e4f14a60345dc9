"""Migration operations that keep a busy database writable while they run."""

from __future__ import annotations

from django.db import migrations


class AddIndexOnline(migrations.AddIndex):
    """`AddIndex` that, on PostgreSQL, builds the index with CREATE INDEX CONCURRENTLY: the table
    stays writable while tens of millions of rows are read (intake does not stop for an upgrade).
    Elsewhere a plain CREATE INDEX. A migration using it sets `atomic = False`."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.add_index(model, self.index, concurrently=True)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.remove_index(model, self.index, concurrently=True)
