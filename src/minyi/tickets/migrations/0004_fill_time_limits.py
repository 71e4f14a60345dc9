from django.db import migrations

DAYS = {"consultation": 2, "help": 10, "suggestion": 10, "complaint": 15, "report": 15}


def fill(apps, schema_editor):
    """Tickets taken in before the two clocks: their limit, and the unit's clock from dispatch."""
    Ticket = apps.get_model("tickets", "Ticket")
    for request_type, days in DAYS.items():
        Ticket.objects.filter(type=request_type, time_limit_days=0).update(time_limit_days=days)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0003_two_clocks")]
    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
