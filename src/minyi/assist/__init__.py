"""AI-assisted intake: suggestions (type, category, unit, urgency, location) from a request's text."""
