"""`minyi ai train` and `minyi ai evaluate`: the intake models.

    minyi ai train                      # from the platform's closed tickets: category and type
    minyi ai train --csv FILE --text-col C [--text-col C2] --label-col L [--out PATH]
    minyi ai evaluate --csv FILE --text-col C --label-col L [--model PATH]

Without --out, a CSV-trained model is published as the "external" model, whose labels are
matched to the platform's categories by name. Models are versioned files under
MINYI_MODEL_DIR with a `<name>.current` pointer; running servers pick up a new one within
MINYI_MODEL_CHECK_SECONDS.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from minyi.assist import suggest as sg
from minyi.assist.evaluation import measure, read_csv
from minyi.assist.model import TextClassifier, load, save


class Command(BaseCommand):
    help = "Train and evaluate the intake assistance models."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        train = sub.add_parser("train", help="Train from closed tickets, or from a CSV file.")
        train.add_argument("--csv", help="A labelled CSV file (UTF-8).")
        train.add_argument("--text-col", action="append", default=[], help="Text column (repeatable; joined).")
        train.add_argument("--label-col", help="Label column.")
        train.add_argument("--out", help="Write the model to this path instead of publishing it.")
        train.add_argument("--min-rows", type=int, default=None,
                           help="Fewest closed tickets to train on (default MINYI_AI_MIN_TICKETS, 50).")
        evaluate = sub.add_parser("evaluate", help="Measure a model on a labelled CSV file.")
        evaluate.add_argument("--csv", required=True)
        evaluate.add_argument("--text-col", action="append", default=[], required=True)
        evaluate.add_argument("--label-col", required=True)
        evaluate.add_argument("--model", help="A model file (default: the current external model).")

    def handle(self, *args: Any, **options: Any) -> None:
        progress = options["verbosity"] >= 1
        if options["action"] == "train":
            if options["csv"]:
                self.train_csv(options, progress)
            else:
                self.train_tickets(options, progress)
        else:
            self.evaluate(options, progress)

    def _read(self, options: dict[str, Any]) -> tuple[list[str], list[str]]:
        if not options["text_col"] or not options["label_col"]:
            raise CommandError("--csv needs --text-col and --label-col.")
        try:
            return read_csv(options["csv"], options["text_col"], options["label_col"])
        except (OSError, ValueError) as exc:
            raise CommandError(str(exc)) from exc

    def train_csv(self, options: dict[str, Any], progress: bool) -> None:
        texts, labels = self._read(options)
        if len(set(labels)) < 2:
            raise CommandError("The file needs at least two labels.")
        model = TextClassifier().fit(texts, labels, progress=progress, source=Path(options["csv"]).name)
        if options["out"]:
            path = save(model, Path(options["out"]))
        else:
            path = sg.engine.store().publish(sg.EXTERNAL_MODEL, model)
        self.stdout.write(self._summary(model, path))

    def train_tickets(self, options: dict[str, Any], progress: bool) -> None:
        from minyi.tickets.choices import TERMINAL_STATUSES
        from minyi.tickets.models import Ticket

        minimum = options["min_rows"] or getattr(settings, "MINYI_AI_MIN_TICKETS", 50)
        rows = list(
            Ticket.objects.filter(status__in=TERMINAL_STATUSES)
            .values_list("title", "text", "category__code", "type")
        )
        store = sg.engine.store()
        trained = 0
        for name, column in ((sg.CATEGORY_MODEL, 2), (sg.TYPE_MODEL, 3)):
            pairs = [(f"{r[0]} {r[1]}", r[column]) for r in rows if r[column]]
            counts: dict[str, int] = {}
            for _text, label in pairs:
                counts[label] = counts.get(label, 0) + 1
            pairs = [(t, label) for t, label in pairs if counts[label] >= 2]
            if len(pairs) < minimum or len({label for _t, label in pairs}) < 2:
                self.stdout.write(
                    f"{name}: {len(pairs)} usable closed tickets (need {minimum} in at least two "
                    "classes); not trained, suggestions keep using the fallback."
                )
                continue
            model = TextClassifier().fit([t for t, _l in pairs], [label for _t, label in pairs],
                                         progress=progress, source="closed tickets")
            path = store.publish(name, model)
            self.stdout.write(f"{name}: " + self._summary(model, path))
            trained += 1
        if trained:
            sg.engine.reset()

    def evaluate(self, options: dict[str, Any], progress: bool) -> None:
        if options["model"]:
            path: Path | None = Path(options["model"])
        else:
            path = sg.engine.store().current_path(sg.EXTERNAL_MODEL)
        if path is None or not path.exists():
            raise CommandError("No model: train one first or pass --model PATH.")
        model = load(path)
        texts, labels = self._read(options)
        report = measure(labels, model.predict_many(texts, reasons=0, progress=progress))
        self.stdout.write(f"model: {path}")
        self.stdout.write(report.format())

    @staticmethod
    def _summary(model: TextClassifier, path: Path) -> str:
        m = model.meta
        extras = [f"{m['stopwords']} stopwords learnt"] if m.get("stopwords") else []
        if m.get("network"):
            extras.append("with the network")
        return (f"trained on {m['rows']} rows, {len(m['classes'])} classes, {m['features']} features"
                f"{' (' + ', '.join(extras) + ')' if extras else ''} in {m['seconds']} s -> {path}")
