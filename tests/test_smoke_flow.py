from minyi.tickets.models import TicketEvent


def test_full_path_through_actions(new_ticket):
    ticket = new_ticket("closed")
    assert ticket.status == "closed"
    kinds = list(TicketEvent.objects.filter(ticket=ticket).values_list("kind", flat=True))
    assert kinds == ["submit", "dispatch", "sign", "reply", "rate"]
